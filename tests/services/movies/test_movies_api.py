"""The movies API through the gateway, on SQLite and on MariaDB."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from movieverse.gateway.app import Gateway, create_gateway
from movieverse.services.movies import discover
from movieverse.services.movies.models import Genre, Movie
from movieverse.services.movies.settings import MoviesSettings
from tests.support import (
    Account,
    Stack,
    admin_account,
    eventually,
    fast_auth_settings,
    signed_up,
    start_from_migrated_sqlite,
)

pytestmark = pytest.mark.services("auth", "users", "movies", "metadata", "reviews")

# A small catalog whose expected query results are computed below in plain Python.
SEED: list[dict[str, Any]] = [
    {"title": "Heat", "tmdb_id": 949, "imdb_id": "tt0113277", "genre_ids": [28, 80, 18],
     "release_date": "1995-12-15", "runtime": 170, "original_language": "en",
     "popularity": 40.5, "vote_average": 7.9, "vote_count": 5000, "revenue": 187436818},
    {"title": "Amélie", "tmdb_id": 194, "imdb_id": "tt0211915", "genre_ids": [35, 10749],
     "release_date": "2001-04-25", "runtime": 122, "original_language": "fr",
     "popularity": 30.1, "vote_average": 7.9, "vote_count": 9000, "revenue": 173921954},
    {"title": "The Matrix", "tmdb_id": 603, "imdb_id": "tt0133093", "genre_ids": [28, 878],
     "release_date": "1999-03-30", "runtime": 136, "original_language": "en",
     "popularity": 80.2, "vote_average": 8.2, "vote_count": 20000, "revenue": 463517383},
    {"title": "Spirited Away", "tmdb_id": 129, "genre_ids": [16, 10751, 14],
     "release_date": "2001-07-20", "runtime": 125, "original_language": "ja",
     "popularity": 60.0, "vote_average": 8.5, "vote_count": 15000, "revenue": 274925095},
    {"title": "Alien", "tmdb_id": 348, "genre_ids": [27, 878],
     "release_date": "1979-05-25", "runtime": 117, "original_language": "en",
     "popularity": 35.5, "vote_average": 8.1, "vote_count": 12000, "revenue": 104931801},
    {"title": "Obscure Short", "genre_ids": [18], "release_date": None, "runtime": 12,
     "original_language": "de", "popularity": 0.5, "vote_average": 6.0, "vote_count": 3},
    {"title": "Late Drama", "genre_ids": [18, 10749], "release_date": "2020-02-14",
     "runtime": 101, "original_language": "en", "popularity": 12.0, "vote_average": 6.8,
     "vote_count": 60, "revenue": 1000},
    {"title": "Grown-ups Only", "genre_ids": [18], "release_date": "2010-01-01", "runtime": 90,
     "original_language": "en", "popularity": 99.0, "vote_average": 5.0, "vote_count": 70,
     "adult": True},
]  # fmt: skip


async def _seed(
    gateway: Gateway, client: httpx.AsyncClient
) -> tuple[Account, list[dict[str, Any]]]:
    admin = await admin_account(gateway, client)
    created = []
    for movie in SEED:
        response = await client.post("/movies", json=movie, headers=admin.headers)
        assert response.status_code == 201, response.text
        created.append({**movie, "id": response.json()["id"]})
    return admin, created


def _titles(page: dict[str, Any]) -> list[str]:
    return [r["title"] for r in page["results"]]


def _expected(
    movies: list[dict[str, Any]], keep: Any, key: str = "popularity", reverse: bool = True
) -> list[str]:
    chosen = [m for m in movies if not m.get("adult") and keep(m)]
    known = [m for m in chosen if m.get(key) is not None]
    unknown = [m for m in chosen if m.get(key) is None]
    known.sort(key=lambda m: m["id"])
    known.sort(
        key=lambda m: m[key].casefold() if isinstance(m[key], str) else m[key], reverse=reverse
    )
    return [m["title"] for m in known + sorted(unknown, key=lambda m: m["id"])]


async def test_details_with_etag_and_cache_control(
    catalog: tuple[Gateway, httpx.AsyncClient],
) -> None:
    gateway, client = catalog
    _, movies = await _seed(gateway, client)
    heat = movies[0]
    response = await client.get(f"/movies/{heat['id']}")
    assert response.status_code == 200
    body = response.json()
    assert body["title"] == "Heat"
    assert body["imdb_id"] == "tt0113277"
    assert [g["name"] for g in body["genres"]] == ["Action", "Crime", "Drama"]
    assert response.headers["cache-control"] == "public, max-age=60"
    etag = response.headers["etag"]
    assert etag.startswith('"')  # a strong validator: no W/ prefix
    again = await client.get(f"/movies/{heat['id']}", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag
    other = await client.get(f"/movies/{heat['id']}", headers={"If-None-Match": '"stale"'})
    assert other.status_code == 200


async def test_append_to_response(catalog: tuple[Gateway, httpx.AsyncClient]) -> None:
    gateway, client = catalog
    _, movies = await _seed(gateway, client)
    response = await client.get(f"/movies/{movies[2]['id']}?append_to_response=keywords")
    assert response.json()["keywords"] == {"keywords": []}
    plain = await client.get(f"/movies/{movies[2]['id']}")
    assert "keywords" not in plain.json()
    assert plain.headers["etag"] != response.headers["etag"]
    unknown = await client.get(f"/movies/{movies[2]['id']}?append_to_response=keywords,bogus")
    assert unknown.status_code == 400
    assert "bogus" in unknown.json()["detail"]
    assert "Valid: credits, keywords" in unknown.json()["detail"]
    too_many = ",".join(["keywords"] * 11)
    assert (
        await client.get(f"/movies/{movies[2]['id']}?append_to_response={too_many}")
    ).status_code == 400


async def test_writes_need_the_admin_role(catalog: tuple[Gateway, httpx.AsyncClient]) -> None:
    gateway, client = catalog
    _, movies = await _seed(gateway, client)
    user = await signed_up(client, "just_a_fan")
    attempts = [
        ("POST", "/movies", {"title": "Nope"}),
        ("PATCH", f"/movies/{movies[0]['id']}", {"title": "Nope"}),
        ("DELETE", f"/movies/{movies[0]['id']}", None),
    ]
    for method, path, body in attempts:
        response = await client.request(method, path, json=body, headers=user.headers)
        assert response.status_code == 403, (method, response.text)
        anonymous = await client.request(method, path, json=body)
        assert anonymous.status_code == 401
    assert (await client.get(f"/movies/{movies[0]['id']}")).json()["title"] == "Heat"


async def test_update_with_if_match(catalog: tuple[Gateway, httpx.AsyncClient]) -> None:
    gateway, client = catalog
    admin, movies = await _seed(gateway, client)
    url = f"/movies/{movies[0]['id']}"
    etag = (await client.get(url)).headers["etag"]
    first = await client.patch(
        url,
        json={"tagline": "A Los Angeles crime saga"},
        headers={**admin.headers, "If-Match": etag},
    )
    assert first.status_code == 200, first.text
    assert first.json()["tagline"] == "A Los Angeles crime saga"
    stale = await client.patch(
        url, json={"tagline": "Lost update"}, headers={**admin.headers, "If-Match": etag}
    )
    assert stale.status_code == 412
    fresh = (await client.get(url)).json()
    assert fresh["tagline"] == "A Los Angeles crime saga"
    assert first.headers["etag"] == (await client.get(url)).headers["etag"]
    # Without If-Match the write is unconditional.
    ok = await client.patch(url, json={"runtime": 171, "genre_ids": [80]}, headers=admin.headers)
    assert ok.json()["runtime"] == 171
    assert [g["id"] for g in ok.json()["genres"]] == [80]


async def test_bad_writes_are_refused_and_change_nothing(
    catalog: tuple[Gateway, httpx.AsyncClient],
) -> None:
    gateway, client = catalog
    admin, movies = await _seed(gateway, client)
    duplicate = await client.post(
        "/movies", json={"title": "Heat 2", "tmdb_id": 949}, headers=admin.headers
    )
    assert duplicate.status_code == 409
    unknown_genre = await client.post(
        "/movies", json={"title": "X", "genre_ids": [4242]}, headers=admin.headers
    )
    assert unknown_genre.status_code == 400
    assert "4242" in unknown_genre.json()["detail"]
    for payload in (
        {"title": ""},
        {"title": "X", "imdb_id": "nm0000001"},
        {"title": "X", "vote_average": 11},
        {"title": "X", "poster_path": "../../etc/passwd"},
        {"title": "X", "status": "Lost"},
        {"title": "X", "budget": 10**20},
        {"title": "X", "surprise": True},
    ):
        response = await client.post("/movies", json=payload, headers=admin.headers)
        assert response.status_code == 422, payload
    page = (await client.get("/discover/movies?include_adult=true")).json()
    assert page["total_results"] == len(SEED)
    null_title = await client.patch(
        f"/movies/{movies[0]['id']}", json={"title": None}, headers=admin.headers
    )
    assert null_title.status_code == 422
    assert null_title.json()["errors"][0]["field"] == "body.title"


async def test_deleted_movies_disappear(catalog: tuple[Gateway, httpx.AsyncClient]) -> None:
    gateway, client = catalog
    admin, movies = await _seed(gateway, client)
    matrix = movies[2]
    assert (
        await client.delete(f"/movies/{matrix['id']}", headers=admin.headers)
    ).status_code == 204
    assert (await client.get(f"/movies/{matrix['id']}")).status_code == 404
    for path in ("/movies/popular", "/discover/movies?with_genres=878", "/movies/top_rated"):
        assert "The Matrix" not in _titles((await client.get(path)).json()), path
    found = (await client.get("/find/tt0133093?source=imdb_id")).json()
    assert found == {"movie_results": []}
    assert (
        await client.delete(f"/movies/{matrix['id']}", headers=admin.headers)
    ).status_code == 404


async def test_find_by_external_ids(catalog: tuple[Gateway, httpx.AsyncClient]) -> None:
    gateway, client = catalog
    await _seed(gateway, client)
    by_imdb = (await client.get("/find/tt0211915?source=imdb_id")).json()["movie_results"]
    assert [m["title"] for m in by_imdb] == ["Amélie"]
    assert by_imdb[0]["genre_ids"] == [35, 10749]
    by_tmdb = (await client.get("/find/603?source=tmdb_id")).json()["movie_results"]
    assert [m["title"] for m in by_tmdb] == ["The Matrix"]
    assert (await client.get("/find/tt9999999?source=imdb_id")).json() == {"movie_results": []}
    assert (await client.get("/find/abc?source=tmdb_id")).status_code == 400
    assert (await client.get("/find/603?source=wikidata")).status_code == 400


async def test_popular_and_top_rated(catalog: tuple[Gateway, httpx.AsyncClient]) -> None:
    gateway, client = catalog
    _, movies = await _seed(gateway, client)
    popular = (await client.get("/movies/popular")).json()
    assert _titles(popular) == _expected(movies, lambda m: True)
    top = (await client.get("/movies/top_rated")).json()
    assert _titles(top) == _expected(movies, lambda m: m["vote_count"] >= 50, key="vote_average")
    assert "Obscure Short" not in _titles(top)  # 3 votes are not enough


DISCOVER_CASES: list[tuple[str, Any, str, bool]] = [
    ("with_genres=28", lambda m: 28 in m["genre_ids"], "popularity", True),
    ("with_genres=28,80", lambda m: {28, 80} <= set(m["genre_ids"]), "popularity", True),
    ("with_genres=35|16", lambda m: {35, 16} & set(m["genre_ids"]), "popularity", True),
    (
        "with_genres=878,28|27",
        lambda m: 878 in m["genre_ids"] and {28, 27} & set(m["genre_ids"]),
        "popularity",
        True,
    ),
    ("without_genres=18", lambda m: 18 not in m["genre_ids"], "popularity", True),
    ("without_genres=18|878", lambda m: not {18, 878} & set(m["genre_ids"]), "popularity", True),
    (
        "primary_release_year=2001",
        lambda m: (m.get("release_date") or "").startswith("2001"),
        "popularity",
        True,
    ),
    (
        "release_date.gte=1995-12-15&release_date.lte=2001-04-25",
        lambda m: m.get("release_date") and "1995-12-15" <= m["release_date"] <= "2001-04-25",
        "popularity",
        True,
    ),
    ("vote_average.gte=8", lambda m: m["vote_average"] >= 8, "popularity", True),
    ("vote_average.lte=7", lambda m: m["vote_average"] <= 7, "popularity", True),
    ("vote_count.gte=10000", lambda m: m["vote_count"] >= 10000, "popularity", True),
    (
        "with_runtime.gte=120&with_runtime.lte=140",
        lambda m: 120 <= m["runtime"] <= 140,
        "popularity",
        True,
    ),
    ("with_original_language=en", lambda m: m["original_language"] == "en", "popularity", True),
    ("sort_by=popularity.asc", lambda m: True, "popularity", False),
    ("sort_by=vote_average.desc", lambda m: True, "vote_average", True),
    ("sort_by=vote_count.asc", lambda m: True, "vote_count", False),
    ("sort_by=title.asc", lambda m: True, "title", False),
    ("sort_by=title.desc", lambda m: True, "title", True),
    ("sort_by=release_date.desc", lambda m: True, "release_date", True),
    ("sort_by=release_date.asc", lambda m: True, "release_date", False),
    ("sort_by=revenue.desc", lambda m: True, "revenue", True),
    (
        "with_genres=18&sort_by=vote_average.asc&vote_count.gte=50",
        lambda m: 18 in m["genre_ids"] and m["vote_count"] >= 50,
        "vote_average",
        False,
    ),
]


async def test_every_discover_filter_and_sort(catalog: tuple[Gateway, httpx.AsyncClient]) -> None:
    gateway, client = catalog
    _, movies = await _seed(gateway, client)
    for query, keep, key, descending in DISCOVER_CASES:
        page = (await client.get(f"/discover/movies?{query}")).json()
        expected = _expected(movies, keep, key=key, reverse=descending)
        assert _titles(page) == expected, query
        assert page["total_results"] == len(expected), query


async def test_every_discover_filter_and_sort_one_movie_per_page(
    catalog: tuple[Gateway, httpx.AsyncClient],
) -> None:
    """Pages of one movie: a page deep in a list of rare matches is gathered, one near the top
    of common matches is found walking the sort's index (discover.page_form), where SQLite is
    kept off the filter columns' indexes; read page by page, every list is still the same."""
    gateway, client = catalog
    _, movies = await _seed(gateway, client)
    for query, keep, key, descending in DISCOVER_CASES:
        expected = _expected(movies, keep, key=key, reverse=descending)
        titles: list[str] = []
        for page_number in range(1, len(expected) + 2):
            page = await client.get(f"/discover/movies?{query}&per_page=1&page={page_number}")
            assert page.status_code == 200, (query, page.text)
            titles += _titles(page.json())
            assert page.json()["total_results"] == len(expected), query
        assert titles == expected, query


def test_a_walk_on_sqlite_keeps_the_planner_off_the_filter_columns() -> None:
    """Only the sort's index is left to walk; the sort column itself keeps its index."""
    query = discover.DiscoverQuery(
        original_language="fr",
        primary_release_year=2001,
        release_date_gte=date(2000, 1, 1),
        sort_field="release_date",
    )

    def sql(form: discover.Form, dialect: str) -> str:
        statement = select(Movie.id).where(*discover.conditions(query, form=form, dialect=dialect))
        return str(statement.compile(compile_kwargs={"literal_binds": True}))

    walked = sql("walk", "sqlite")
    assert "(+ movies_movies.original_language) = 'fr'" in walked
    assert "(+ movies_movies.release_year) = 2001" in walked
    assert "movies_movies.release_date >= '2000-01-01'" in walked
    assert "+" not in sql("gather", "sqlite")
    assert "+" not in sql("walk", "postgresql")


async def test_adult_movies_only_on_request(catalog: tuple[Gateway, httpx.AsyncClient]) -> None:
    gateway, client = catalog
    await _seed(gateway, client)
    assert "Grown-ups Only" not in _titles((await client.get("/discover/movies")).json())
    with_adult = (await client.get("/discover/movies?include_adult=true")).json()
    assert _titles(with_adult)[0] == "Grown-ups Only"


async def test_discover_pages_and_etags(catalog: tuple[Gateway, httpx.AsyncClient]) -> None:
    gateway, client = catalog
    _, movies = await _seed(gateway, client)
    expected = _expected(movies, lambda m: True)
    first = await client.get("/discover/movies?per_page=3")
    second = await client.get("/discover/movies?per_page=3&page=2")
    assert _titles(first.json()) + _titles(second.json()) == expected[:6]
    assert first.json()["total_pages"] == 3
    beyond = (await client.get("/discover/movies?per_page=3&page=40")).json()
    assert beyond["results"] == []
    assert beyond["total_results"] == len(expected)
    etag = first.headers["etag"]
    assert (
        await client.get("/discover/movies?per_page=3", headers={"If-None-Match": etag})
    ).status_code == 304


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("sort_by=bogus.desc", "sort_by"),
        ("sort_by=popularity", "sort_by"),
        ("release_date.gte=2020-13-01", "release_date.gte"),
        ("vote_average.gte=11", "vote_average.gte"),
        ("vote_average.gte=8&vote_average.lte=7", "vote_average.gte"),
        ("with_runtime.gte=-1", "with_runtime.gte"),
        ("with_genres=abc", "with_genres"),
        ("with_genres=28,,12", "with_genres"),
        ("with_keywords=99999999999", "with_keywords"),
        ("primary_release_year=1492", "primary_release_year"),
        ("with_original_language=English", "with_original_language"),
        ("page=0", "page"),
        ("per_page=1000", "per_page"),
        ("include_adult=maybe", "include_adult"),
    ],
)
async def test_invalid_discover_values_are_400_naming_the_parameter(
    catalog: tuple[Gateway, httpx.AsyncClient], query: str, parameter: str
) -> None:
    _, client = catalog
    response = await client.get(f"/discover/movies?{query}")
    assert response.status_code == 400, response.text
    body = response.json()
    assert parameter in body["detail"], body
    assert any(e["field"] == f"query.{parameter}" for e in body["errors"]), body


async def test_changes_feed(catalog: tuple[Gateway, httpx.AsyncClient]) -> None:
    gateway, client = catalog
    admin, movies = await _seed(gateway, client)
    first = (await client.get("/movies/changes?limit=5")).json()
    assert [c["id"] for c in first["results"]] == [m["id"] for m in movies[:5]]
    rest = (await client.get(f"/movies/changes?since={first['next_cursor']}")).json()
    assert [c["id"] for c in rest["results"]] == [m["id"] for m in movies[5:]]
    idle = (await client.get(f"/movies/changes?since={rest['next_cursor']}")).json()
    assert idle == {"results": [], "next_cursor": rest["next_cursor"]}
    await client.patch(f"/movies/{movies[1]['id']}", json={"runtime": 123}, headers=admin.headers)
    await client.delete(f"/movies/{movies[3]['id']}", headers=admin.headers)
    news = (await client.get(f"/movies/changes?since={rest['next_cursor']}")).json()["results"]
    assert [(c["id"], c["deleted"]) for c in news] == [
        (movies[1]["id"], False),
        (movies[3]["id"], True),
    ]
    assert (await client.get("/movies/changes?since=garbage!")).status_code == 400
    since_time = (await client.get("/movies/changes?since=2000-01-01T00:00:00Z")).json()
    assert len(since_time["results"]) == len(movies)


async def test_release_date_round_trip(catalog: tuple[Gateway, httpx.AsyncClient]) -> None:
    gateway, client = catalog
    _, movies = await _seed(gateway, client)
    body = (await client.get(f"/movies/{movies[1]['id']}")).json()
    assert date.fromisoformat(body["release_date"]) == date(2001, 4, 25)
    assert body["original_language"] == "fr"
    assert body["title"] == "Amélie"


async def test_trending_without_activity_is_the_popularity_ranking(
    catalog: tuple[Gateway, httpx.AsyncClient],
) -> None:
    gateway, client = catalog
    _, movies = await _seed(gateway, client)
    for window in ("day", "week"):
        page = (await client.get(f"/trending/movies/{window}")).json()
        assert _titles(page) == _expected(movies, lambda m: True)
    assert (await client.get("/trending/movies/month")).status_code == 400


async def test_trending_ranks_recent_list_activity_first(
    catalog: tuple[Gateway, httpx.AsyncClient],
) -> None:
    gateway, client = catalog
    admin, movies = await _seed(gateway, client)
    by_title = {m["title"]: m["id"] for m in movies}
    fans = [await signed_up(client, f"fan_{i}") for i in range(3)]
    # Obscure Short gets three watchlist adds, Late Drama one favourite (weight 2),
    # Alien one watchlist add; Heat is added and removed again (a removal is no interest).
    for fan in fans:
        await client.put(f"/users/me/watchlist/{by_title['Obscure Short']}", headers=fan.headers)
    await client.put(f"/users/me/favourites/{by_title['Late Drama']}", headers=fans[0].headers)
    await client.put(f"/users/me/watchlist/{by_title['Alien']}", headers=fans[1].headers)
    await client.put(f"/users/me/seen/{by_title['Grown-ups Only']}", headers=fans[2].headers)
    expected_head = ["Obscure Short", "Late Drama", "Alien"]

    async def ranked() -> bool:
        page = (await client.get("/trending/movies/day")).json()
        return _titles(page)[:3] == expected_head

    await eventually(ranked)
    page = (await client.get("/trending/movies/week?per_page=20")).json()
    titles = _titles(page)
    assert titles[:3] == expected_head
    rest = _expected(movies, lambda m: m["title"] not in expected_head)
    assert titles[3:] == rest  # then by popularity, adult movies still hidden
    assert page["total_results"] == len(expected_head) + len(rest)
    # Pages stitch the two rankings together without gaps or repeats.
    pages = []
    for number in (1, 2, 3, 4):
        pages += _titles(
            (await client.get(f"/trending/movies/week?per_page=2&page={number}")).json()
        )
    assert pages == titles
    # A deleted movie leaves trending even with activity.
    await client.delete(f"/movies/{by_title['Obscure Short']}", headers=admin.headers)
    assert "Obscure Short" not in _titles((await client.get("/trending/movies/day")).json())


def test_activity_decays_with_its_half_life() -> None:
    from datetime import UTC, datetime

    from movieverse.services.movies.trending import WINDOWS, decayed_scores

    now = datetime(2026, 1, 1, tzinfo=UTC)
    spec = WINDOWS["day"]
    scores = dict(
        decayed_scores(
            [
                (1, 1.0, now),
                (2, 1.0, now - spec.half_life),
                (3, 1.0, now - 2 * spec.half_life),
                (3, 1.0, now - 2 * spec.half_life),
            ],
            now=now,
            spec=spec,
        )
    )
    assert scores[1] == pytest.approx(1.0)
    assert scores[2] == pytest.approx(0.5)
    assert scores[3] == pytest.approx(0.5)  # two events a quarter as strong each
    assert [m for m, _ in decayed_scores([(5, 1, now), (4, 1, now)], now=now, spec=spec)] == [4, 5]


async def test_credits_feed_the_people_filters_and_details(
    catalog: tuple[Gateway, httpx.AsyncClient],
) -> None:
    """metadata owns credits; its metadata.credits.changed events fill movies' people index."""
    gateway, client = catalog
    admin, movies = await _seed(gateway, client)
    heat, matrix = movies[0]["id"], movies[2]["id"]
    people = {1158: "Al Pacino", 380: "Robert De Niro", 6384: "Keanu Reeves", 637: "Michael Mann"}
    for person_id, name in people.items():
        put = await client.put(f"/people/{person_id}", json={"name": name}, headers=admin.headers)
        assert put.status_code in {200, 201}, put.text
    heat_credits = {
        "cast": [
            {"person_id": 1158, "character": "Vincent Hanna", "order": 0},
            {"person_id": 380, "character": "Neil McCauley", "order": 1},
        ],
        "crew": [{"person_id": 637, "department": "Directing", "job": "Director"}],
    }
    matrix_credits = {"cast": [{"person_id": 6384, "character": "Neo", "order": 0}]}
    for movie_id, credits in ((heat, heat_credits), (matrix, matrix_credits)):
        put = await client.put(
            f"/metadata/movies/{movie_id}/credits", json=credits, headers=admin.headers
        )
        assert put.status_code in {200, 201}, put.text

    async def titles(query: str) -> list[str]:
        return _titles((await client.get(f"/discover/movies?{query}")).json())

    async def indexed() -> bool:
        return await titles("with_cast=6384") == ["The Matrix"]

    await eventually(indexed)
    assert await titles("with_cast=1158") == ["Heat"]
    assert await titles("with_crew=637") == ["Heat"]
    assert await titles("with_cast=637") == []  # a director is crew, not cast
    assert await titles("with_people=637") == ["Heat"]
    assert await titles("with_cast=1158|6384") == ["The Matrix", "Heat"]  # by popularity
    assert await titles("with_cast=1158,6384") == []  # nobody stars with both
    details = (await client.get(f"/movies/{heat}?append_to_response=credits,keywords")).json()
    assert [c["name"] for c in details["credits"]["cast"]] == ["Al Pacino", "Robert De Niro"]
    assert [c["job"] for c in details["credits"]["crew"]] == ["Director"]
    assert details["keywords"] == {"keywords": []}
    no_credits = (await client.get(f"/movies/{movies[1]['id']}?append_to_response=credits")).json()
    assert no_credits["credits"] == {"cast": [], "crew": []}
    # Replacing the credits replaces the index: De Niro leaves Heat.
    heat_credits["cast"] = heat_credits["cast"][:1]
    await client.put(f"/metadata/movies/{heat}/credits", json=heat_credits, headers=admin.headers)

    async def de_niro_gone() -> bool:
        return await titles("with_cast=380") == []

    await eventually(de_niro_gone)
    assert await titles("with_cast=1158") == ["Heat"]


async def test_keywords_follow_the_metadata_vocabulary(
    catalog: tuple[Gateway, httpx.AsyncClient],
) -> None:
    """metadata owns keyword names; movies keeps its copy in step through keyword events."""
    gateway, client = catalog
    admin, movies = await _seed(gateway, client)
    heat = movies[0]["id"]
    put = await client.put(
        "/metadata/keywords/9748", json={"name": "revenge"}, headers=admin.headers
    )
    assert put.status_code == 201, put.text

    async def known_to_movies() -> bool:
        tagged = await client.patch(
            f"/movies/{heat}", json={"keyword_ids": [9748]}, headers=admin.headers
        )
        return tagged.status_code == 200

    await eventually(known_to_movies)
    renamed = await client.put(
        "/metadata/keywords/9748", json={"name": "vengeance"}, headers=admin.headers
    )
    assert renamed.status_code == 200, renamed.text

    async def renamed_in_movies() -> bool:
        details = (await client.get(f"/movies/{heat}?append_to_response=keywords")).json()
        return bool(details["keywords"] == {"keywords": [{"id": 9748, "name": "vengeance"}]})

    await eventually(renamed_in_movies)
    assert _titles((await client.get("/discover/movies?with_keywords=9748")).json()) == ["Heat"]


async def test_a_deleted_movie_leaves_metadata(catalog: tuple[Gateway, httpx.AsyncClient]) -> None:
    """movies.movie.deleted: metadata drops the movie's credits and analysis, and its people stop
    listing it."""
    gateway, client = catalog
    admin, movies = await _seed(gateway, client)
    heat, matrix = movies[0]["id"], movies[2]["id"]
    await client.put("/people/1158", json={"name": "Al Pacino"}, headers=admin.headers)
    for movie_id in (heat, matrix):
        credits = {"cast": [{"person_id": 1158, "character": "Someone", "order": 0}]}
        put = await client.put(
            f"/metadata/movies/{movie_id}/credits", json=credits, headers=admin.headers
        )
        assert put.status_code == 201, put.text
    analysis = await client.put(
        f"/metadata/movies/{heat}/analysis", json={"tags": ["heist"]}, headers=admin.headers
    )
    assert analysis.status_code == 201, analysis.text
    deleted = await client.delete(f"/movies/{heat}", headers=admin.headers)
    assert deleted.status_code == 204, deleted.text

    async def forgotten() -> bool:
        credits = await client.get(f"/metadata/movies/{heat}/credits")
        return credits.status_code == 404

    await eventually(forgotten)
    assert (await client.get(f"/metadata/movies/{heat}/analysis")).status_code == 404
    pacino = (await client.get("/people/1158?append_to_response=movie_credits")).json()
    assert [c["movie_id"] for c in pacino["movie_credits"]["cast"]] == [matrix]


async def test_movie_pages_are_cached_until_a_write_or_their_ttl(
    movies_database: str | None, tmp_path: Path
) -> None:
    settings = Stack("embedded", database_url=None, redis_url=None).settings(tmp_path / "var")
    movies_settings = MoviesSettings(database_url=movies_database, details_cache_seconds=0.5)
    await start_from_migrated_sqlite(settings)
    gateway = create_gateway(
        settings, service_overrides={"auth": fast_auth_settings(), "movies": movies_settings}
    )
    async with gateway.edge.router.lifespan_context(gateway.edge):
        transport = httpx.ASGITransport(app=gateway)
        async with httpx.AsyncClient(transport=transport, base_url="http://catalog.test") as client:
            admin, movies = await _seed(gateway, client)
            url = f"/movies/{movies[0]['id']}"
            assert (await client.get(url)).json()["title"] == "Heat"
            # A write the service makes drops the page at once ...
            patched = await client.patch(url, json={"title": "Heat (1995)"}, headers=admin.headers)
            assert patched.status_code == 200
            assert (await client.get(url)).json()["title"] == "Heat (1995)"
            # ... one made behind its back (an import from the command line) shows after the TTL.
            ctx = gateway.services["movies"].state.ctx
            async with ctx.db.unit_of_work() as session:
                await session.execute(
                    update(Movie).where(Movie.id == movies[0]["id"]).values(title="Heat!")
                )
            assert (await client.get(url)).json()["title"] == "Heat (1995)"

            async def expired() -> bool:
                return bool((await client.get(url)).json()["title"] == "Heat!")

            await eventually(expired, within=30)
            # A deleted movie is gone at once, cached page or not.
            await client.delete(url, headers=admin.headers)
            assert (await client.get(url)).status_code == 404


LISTS_HOLDING_HEAT = (
    "/movies/popular",
    "/movies/top_rated",
    "/trending/movies/week",
    "/discover/movies?with_genres=28&sort_by=vote_count.desc",
    "/discover/movies?primary_release_year=1995",
)


async def _heat_in_every_list(client: httpx.AsyncClient, heat_id: int) -> list[dict[str, Any]]:
    rows = []
    for url in LISTS_HOLDING_HEAT:
        page = (await client.get(url)).json()
        (row,) = [r for r in page["results"] if r["id"] == heat_id]
        rows.append(row)
    return rows


async def test_list_pages_are_cached_and_show_a_change_to_a_movie_at_once(
    catalog: tuple[Gateway, httpx.AsyncClient],
) -> None:
    """Every list page is served from the cache, and every list holding a movie shows its edit,
    and its new ratings, within a second (the edit: by the time the PATCH has answered)."""
    gateway, client = catalog
    admin, movies = await _seed(gateway, client)
    heat = movies[0]["id"]
    before = await _heat_in_every_list(client, heat)
    assert {row["title"] for row in before} == {"Heat"}
    # Cached: a change behind the service's back (an import from the command line) is not seen.
    ctx = gateway.services["movies"].state.ctx
    async with ctx.db.unit_of_work() as session:
        await session.execute(update(Movie).where(Movie.id == heat).values(title="Heat?"))
    assert {row["title"] for row in await _heat_in_every_list(client, heat)} == {"Heat"}
    # The service's own write drops every list page: each list shows it at once.
    patched = await client.patch(
        f"/movies/{heat}", json={"title": "Heat (1995)"}, headers=admin.headers
    )
    assert patched.status_code == 200, patched.text
    assert {row["title"] for row in await _heat_in_every_list(client, heat)} == {"Heat (1995)"}
    # A rating reaches the lists once its event is applied (the consumer's write renews them).
    voter = await signed_up(client, "list_cache_voter")
    rated = await client.put(f"/movies/{heat}/rating", json={"value": 10}, headers=voter.headers)
    assert rated.status_code in (200, 201), rated.text

    async def counted() -> bool:
        rows = await _heat_in_every_list(client, heat)
        return all(row["vote_count"] == before[0]["vote_count"] + 1 for row in rows)

    await eventually(counted, within=30)


async def test_list_pages_answer_304_to_their_etag(
    catalog: tuple[Gateway, httpx.AsyncClient],
) -> None:
    gateway, client = catalog
    await _seed(gateway, client)
    for url in LISTS_HOLDING_HEAT:
        first = await client.get(url)
        assert first.headers["cache-control"] == "public, max-age=60"
        again = await client.get(url, headers={"If-None-Match": first.headers["etag"]})
        assert again.status_code == 304, url
        assert again.headers["etag"] == first.headers["etag"]


async def test_list_totals_follow_new_and_deleted_movies_at_once_on_every_sort(
    catalog: tuple[Gateway, httpx.AsyncClient],
) -> None:
    """A list's total is counted once and shared by its sorts and pages (cache.counted): a movie
    added or deleted changes it on all of them at once."""
    gateway, client = catalog
    admin, movies = await _seed(gateway, client)
    sorts = ("popularity.desc", "title.asc", "vote_count.asc")

    async def totals() -> set[int]:
        urls = [
            f"/discover/movies?with_genres=18&sort_by={s}&page={p}" for s in sorts for p in (1, 2)
        ]
        return {(await client.get(url)).json()["total_results"] for url in urls}

    dramas = len([m for m in movies if 18 in m["genre_ids"] and not m.get("adult")])
    assert await totals() == {dramas}
    added = await client.post(
        "/movies", json={"title": "New Drama", "genre_ids": [18]}, headers=admin.headers
    )
    assert added.status_code == 201, added.text
    assert await totals() == {dramas + 1}
    popular = (await client.get("/movies/popular")).json()
    assert popular["total_results"] == len([m for m in movies if not m.get("adult")]) + 1
    deleted = await client.delete(f"/movies/{movies[0]['id']}", headers=admin.headers)
    assert deleted.status_code == 204
    assert await totals() == {dramas}


async def test_a_movie_page_names_a_genre_added_after_the_vocabulary_was_read(
    catalog: tuple[Gateway, httpx.AsyncClient],
) -> None:
    gateway, client = catalog
    admin, movies = await _seed(gateway, client)
    assert (await client.get(f"/movies/{movies[0]['id']}")).status_code == 200  # vocabulary read
    ctx = gateway.services["movies"].state.ctx
    async with ctx.db.unit_of_work() as session:  # as an import adding a genre would
        session.add(Genre(id=100100, name="Mumblecore"))
    created = await client.post(
        "/movies", json={"title": "Funny Ha Ha", "genre_ids": [100100, 35]}, headers=admin.headers
    )
    assert created.status_code == 201, created.text
    page = (await client.get(f"/movies/{created.json()['id']}")).json()
    assert page["genres"] == [{"id": 35, "name": "Comedy"}, {"id": 100100, "name": "Mumblecore"}]
    listed = (await client.get("/discover/movies?with_genres=100100")).json()
    assert [(r["title"], r["genre_ids"]) for r in listed["results"]] == [
        ("Funny Ha Ha", [35, 100100])
    ]
