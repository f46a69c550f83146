"""The search service's response cache (services/search/cache.py): bodies bounded by bytes, least
recently used out first, and by age; and, through the gateway, kept bodies never outlive the
index generation they were built from."""

from __future__ import annotations

import httpx

from movieverse.gateway.app import Gateway
from movieverse.services.search.cache import ENTRY_OVERHEAD_BYTES, ResponseCache
from movieverse.services.search.schemas import MovieSearchPage, SuggestionList
from tests.services.search.test_search_api import _catalog, _searchable
from tests.support import eventually


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_kept_body_is_read_back_until_it_ages_out() -> None:
    clock = Clock()
    cache = ResponseCache(max_bytes=1_000_000, ttl_seconds=10, clock=clock)
    cache.put(("t1", "q"), b"body")
    assert cache.get(("t1", "q")) == b"body"
    assert cache.get(("t2", "q")) is None  # another generation: another key
    clock.now += 10
    assert cache.get(("t1", "q")) is None
    assert len(cache) == 0
    assert cache.size_bytes == 0
    assert (cache.hits, cache.misses) == (1, 2)


def test_bytes_bound_the_cache_and_the_least_recently_used_goes_first() -> None:
    body = b"x" * 100
    cost = len(body) + ENTRY_OVERHEAD_BYTES
    cache = ResponseCache(max_bytes=3 * cost, ttl_seconds=60)
    for key in ("a", "b", "c"):
        cache.put(key, body)
    assert cache.get("a") == body  # "a" is now the most recently used: "b" goes first
    cache.put("d", body)
    assert cache.get("b") is None
    assert [cache.get(k) for k in ("a", "c", "d")] == [body, body, body]
    assert cache.size_bytes == 3 * cost
    cache.put("a", b"y" * 100)  # replacing an entry does not count it twice
    assert cache.size_bytes == 3 * cost
    assert cache.get("a") == b"y" * 100
    cache.put("huge", b"z" * (3 * cost))  # larger than the whole cache: not kept
    assert cache.get("huge") is None
    assert len(cache) == 3


def test_zero_size_or_age_keeps_nothing() -> None:
    for cache in (
        ResponseCache(max_bytes=0, ttl_seconds=60),
        ResponseCache(max_bytes=1_000_000, ttl_seconds=0),
    ):
        assert not cache.enabled
        cache.put("k", b"body")
        assert cache.get("k") is None


async def test_a_kept_search_is_dropped_once_the_index_changes(
    gateway: tuple[Gateway, httpx.AsyncClient],
) -> None:
    app, client = gateway
    admin, (_amelie, matrix, *_rest) = await _catalog(app, client)
    first = await client.get("/search/movies", params={"q": "matrix"})
    assert first.status_code == 200, first.text
    assert matrix in [r["id"] for r in first.json()["results"]]
    cache: ResponseCache = app.services["search"].state.ctx.runtime.cache
    hits = cache.hits
    again = await client.get("/search/movies", params={"q": "matrix"})
    assert again.content == first.content
    assert cache.hits == hits + 1  # answered from the cache
    suggested = await client.get("/search/suggest", params={"q": "matr"})
    assert matrix in [s["id"] for s in suggested.json()["suggestions"]]

    response = await client.patch(
        f"/movies/{matrix}", json={"title": "The Labyrinth"}, headers=admin.headers
    )
    assert response.status_code == 200, response.text
    await _searchable(client, "labyrinth", matrix)
    # The index holds the edit: the bodies kept for "matrix" before it are not served again.
    titles = [r["title"] for r in (await client.get("/search/movies", params={"q": "matrix"}))
              .json()["results"]]  # fmt: skip
    assert "The Matrix" not in titles
    suggested = await client.get("/search/suggest", params={"q": "matr"})
    assert "The Matrix" not in [s["text"] for s in suggested.json()["suggestions"]]

    response = await client.delete(f"/movies/{matrix}", headers=admin.headers)
    assert response.status_code == 204, response.text

    async def gone() -> bool:
        found = await client.get("/search/movies", params={"q": "labyrinth"})
        return matrix not in [r["id"] for r in found.json()["results"]]

    await eventually(gone, within=10)


async def test_search_pages_carry_an_etag_and_answer_304(
    gateway: tuple[Gateway, httpx.AsyncClient],
) -> None:
    app, client = gateway
    await _catalog(app, client)
    for path, params in (
        ("/search/movies", {"q": "heat"}),
        ("/search/suggest", {"q": "hea"}),
    ):
        first = await client.get(path, params=params)
        assert first.status_code == 200, first.text
        etag = first.headers["etag"]
        assert first.headers["cache-control"] == "public, no-cache"
        again = await client.get(path, params=params, headers={"If-None-Match": etag})
        assert again.status_code == 304
        assert again.content == b""
        assert again.headers["etag"] == etag
        other = await client.get(path, params=params, headers={"If-None-Match": '"other"'})
        assert other.status_code == 200
        assert other.content == first.content


async def test_bodies_are_what_the_response_models_serialise(
    gateway: tuple[Gateway, httpx.AsyncClient],
) -> None:
    """The hot routes write their JSON with orjson, not through the models: byte for byte it
    must be what the documented models give."""
    app, client = gateway
    await _catalog(app, client)
    movies = await client.get("/search/movies", params={"q": "heat", "per_page": 1, "page": 2})
    suggest = await client.get("/search/suggest", params={"q": "the"})
    assert len(movies.json()["results"]) == 1
    assert movies.json()["facets"]["genres"]
    assert suggest.json()["suggestions"]
    for response, model in ((movies, MovieSearchPage), (suggest, SuggestionList)):
        assert response.status_code == 200, response.text
        parsed = model.model_validate_json(response.content)
        assert parsed.model_dump_json().encode() == response.content
