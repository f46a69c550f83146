"""Search through the gateway: movies, people and reviews made through their services' APIs
reach the index by events, and come back typo-tolerant, filtered, faceted and highlighted."""

from __future__ import annotations

from typing import Any

import httpx

from movieverse.gateway.app import Gateway
from tests.support import Account, admin_account, eventually, signed_up

MOVIES: list[dict[str, Any]] = [
    {
        "title": "Amélie",
        "original_title": "Le Fabuleux Destin d'Amélie Poulain",
        "original_language": "fr",
        "release_date": "2001-04-25",
        "genre_ids": [35, 10749],
        "popularity": 40.0,
        "vote_average": 7.8,
        "vote_count": 1000,
        "overview": "A shy waitress in Montmartre decides to change the lives of those around her.",
    },
    {
        "title": "The Matrix",
        "original_language": "en",
        "release_date": "1999-03-30",
        "genre_ids": [28, 878],
        "popularity": 100.0,
        "vote_average": 7.9,
        "vote_count": 1000,
        "overview": "A hacker learns that reality is a simulation run by machines.",
    },
    {
        "title": "Heat",
        "original_language": "en",
        "release_date": "1995-12-15",
        "genre_ids": [28, 80, 18],
        "popularity": 30.0,
        "vote_average": 7.7,
        "vote_count": 1000,
        "overview": "A thief and the detective who hunts him through Los Angeles.",
    },
    {
        "title": "Heat",
        "original_language": "en",
        "release_date": "1986-03-14",
        "genre_ids": [28],
        "popularity": 3.0,
        "vote_average": 4.6,
        "vote_count": 1000,
        "overview": "A bodyguard in Las Vegas settles a score.",
    },
    {
        "title": "The Shawshank Redemption",
        "original_language": "en",
        "release_date": "1994-09-23",
        "genre_ids": [18, 80],
        "popularity": 90.0,
        "vote_average": 8.5,
        "vote_count": 1000,
        "overview": "Two imprisoned men bond over a number of years.",
    },
]


async def _catalog(gateway: Gateway, client: httpx.AsyncClient) -> tuple[Account, list[int]]:
    admin = await admin_account(gateway, client)
    ids = []
    for movie in MOVIES:
        response = await client.post("/movies", json=movie, headers=admin.headers)
        assert response.status_code == 201, response.text
        ids.append(response.json()["id"])
    await _searchable(client, "shawshank", ids[-1])
    return admin, ids


async def _ids(client: httpx.AsyncClient, path: str, **params: Any) -> list[int]:
    response = await client.get(path, params=params)
    assert response.status_code == 200, response.text
    return [r["id"] for r in response.json()["results"]]


async def _searchable(client: httpx.AsyncClient, q: str, movie_id: int) -> None:
    async def found() -> bool:
        return movie_id in await _ids(client, "/search/movies", q=q)

    await eventually(found, within=10)


async def test_typos_accents_prefixes_and_the_year_hint_find_the_movie(
    gateway: tuple[Gateway, httpx.AsyncClient],
) -> None:
    app, client = gateway
    _, (amelie, matrix, heat, heat86, shawshank) = await _catalog(app, client)
    assert (await _ids(client, "/search/movies", q="amelie"))[0] == amelie
    assert (await _ids(client, "/search/movies", q="AMÉLIE"))[0] == amelie
    assert (await _ids(client, "/search/movies", q="shawshank redmption"))[0] == shawshank
    assert (await _ids(client, "/search/movies", q="the matrx"))[0] == matrix
    assert (await _ids(client, "/search/movies", q="matrix"))[0] == matrix
    assert (await _ids(client, "/search/movies", q="shaws"))[0] == shawshank
    assert (await _ids(client, "/search/movies", q="heat 1995"))[0] == heat
    assert (await _ids(client, "/search/movies", q="heat 1986"))[0] == heat86
    # The original title counts too.
    assert (await _ids(client, "/search/movies", q="fabuleux destin"))[0] == amelie
    # A word of the overview finds a movie whose title lacks it.
    assert await _ids(client, "/search/movies", q="montmartre waitress") == [amelie]
    # An extra word matching nothing does not empty the page: the ranking relaxes.
    body = (await client.get("/search/movies", params={"q": "matrix movie"})).json()
    assert body["relaxed"] is True
    assert body["results"][0]["id"] == matrix


async def test_results_carry_highlights_facets_and_honest_totals(
    gateway: tuple[Gateway, httpx.AsyncClient],
) -> None:
    app, client = gateway
    _, (amelie, *_rest) = await _catalog(app, client)
    body = (await client.get("/search/movies", params={"q": "amelei"})).json()
    first = body["results"][0]
    assert first["id"] == amelie
    assert first["highlight"]["title"] == "<em>Amélie</em>"
    assert (
        first["highlight"]["original_title"] == "Le Fabuleux Destin d&#x27;<em>Amélie</em> Poulain"
    )
    assert first["genres"] == ["Comedy", "Romance"]
    assert first["year"] == 2001
    heat = (await client.get("/search/movies", params={"q": "heat"})).json()
    assert heat["total_results"] == 2
    assert heat["total_pages"] == 1
    assert {"value": "Action", "count": 2} in heat["facets"]["genres"]
    assert {"value": "Crime", "count": 1} in heat["facets"]["genres"]
    assert heat["facets"]["decades"] == [
        {"value": "1990s", "count": 1},
        {"value": "1980s", "count": 1},
    ]
    assert heat["facets"]["languages"] == [{"value": "en", "count": 2}]
    # A page past the last is empty and keeps the totals.
    past = (await client.get("/search/movies", params={"q": "heat", "page": 5})).json()
    assert past["results"] == []
    assert past["total_results"] == 2
    assert past["page"] == 5


async def test_filters_narrow_the_results(gateway: tuple[Gateway, httpx.AsyncClient]) -> None:
    app, client = gateway
    _, (_amelie, _matrix, heat, heat86, _shawshank) = await _catalog(app, client)
    assert await _ids(client, "/search/movies", q="heat", **{"year.gte": 1990}) == [heat]
    assert await _ids(client, "/search/movies", q="heat", **{"year.lte": 1990}) == [heat86]
    assert await _ids(client, "/search/movies", q="heat", year=1986) == [heat86]
    assert await _ids(client, "/search/movies", q="heat", genres="Crime") == [heat]
    assert await _ids(client, "/search/movies", q="heat", genres="action,crime") == [heat]
    assert await _ids(client, "/search/movies", q="heat", **{"vote_average.gte": 7}) == [heat]
    assert await _ids(client, "/search/movies", q="heat", language="fr") == []


async def test_changes_and_deletes_reach_the_index(
    gateway: tuple[Gateway, httpx.AsyncClient],
) -> None:
    app, client = gateway
    admin, (_amelie, matrix, *_rest) = await _catalog(app, client)
    response = await client.patch(
        f"/movies/{matrix}", json={"title": "The Matrix Rebooted"}, headers=admin.headers
    )
    assert response.status_code == 200, response.text
    await _searchable(client, "rebooted", matrix)
    response = await client.delete(f"/movies/{matrix}", headers=admin.headers)
    assert response.status_code == 204, response.text

    async def gone() -> bool:
        return matrix not in await _ids(client, "/search/movies", q="matrix")

    await eventually(gone, within=10)


async def test_suggest_completes_titles_and_names(
    gateway: tuple[Gateway, httpx.AsyncClient],
) -> None:
    app, client = gateway
    admin, (_amelie, matrix, _heat, _heat86, shawshank) = await _catalog(app, client)
    response = await client.put(
        "/people/31", json={"name": "Tom Hanks", "known_for_department": "Acting"},
        headers=admin.headers,
    )  # fmt: skip
    assert response.status_code in {200, 201}, response.text

    async def person_found() -> bool:
        return await _ids(client, "/search/people", q="tom hanks") == [31]

    await eventually(person_found, within=10)
    body = (await client.get("/search/suggest", params={"q": "the ma"})).json()
    assert body["suggestions"][0] == {
        "type": "movie", "id": matrix, "text": "The Matrix", "release_year": 1999, "year": 1999,
        "highlight": "<em>The</em> <em>Matrix</em>",
    }  # fmt: skip
    assert [
        s["id"]
        for s in (await client.get("/search/suggest", params={"q": "shawsh"})).json()["suggestions"]
    ] == [shawshank]
    names = (await client.get("/search/suggest", params={"q": "tom ha"})).json()["suggestions"]
    assert names[0]["type"] == "person"
    assert names[0]["text"] == "Tom Hanks"
    multi = (await client.get("/search/multi", params={"q": "hanks"})).json()
    assert [(r["media_type"], r["id"]) for r in multi["results"]] == [("person", 31)]


async def test_reviews_are_searchable_until_hidden_and_again_when_shown(
    gateway: tuple[Gateway, httpx.AsyncClient],
) -> None:
    app, client = gateway
    admin, (_amelie, matrix, *_rest) = await _catalog(app, client)
    critic = await signed_up(client, "critic")
    response = await client.post(
        f"/movies/{matrix}/reviews",
        json={"title": "Mind-bending", "body": "The bullet time sequences still astonish."},
        headers=critic.headers,
    )
    assert response.status_code == 201, response.text
    review_id: str = response.json()["id"]

    async def found() -> bool:
        body = (await client.get("/search/reviews", params={"q": "bulet time"})).json()
        return [r["id"] for r in body["results"]] == [review_id]

    async def missing() -> bool:
        body = (await client.get("/search/reviews", params={"q": "bullet time"})).json()
        return not body["results"]

    await eventually(found, within=10)
    body = (await client.get("/search/reviews", params={"q": "bullet", "movie_id": matrix})).json()
    assert body["results"][0]["highlight"]["body"] == (
        "The <em>bullet</em> time sequences still astonish."
    )
    assert (
        await client.post(f"/reviews/{review_id}/hide", headers=admin.headers)
    ).status_code == 200
    await eventually(missing, within=10)
    assert (
        await client.post(f"/reviews/{review_id}/unhide", headers=admin.headers)
    ).status_code == 200
    await eventually(found, within=10)


async def test_bad_queries_get_a_clear_400_and_query_syntax_is_plain_text(
    gateway: tuple[Gateway, httpx.AsyncClient],
) -> None:
    app, client = gateway
    await _catalog(app, client)
    too_long = await client.get("/search/movies", params={"q": "a" * 257})
    assert too_long.status_code == 400
    assert too_long.json()["detail"] == "A query is at most 256 characters long"
    control = await client.get("/search/movies", params={"q": "heat\x00"})
    assert control.status_code == 400
    assert "control characters" in control.json()["detail"]
    for hostile in ["title:*", '"unbalanced', "OR OR", "heat AND (", "*", "\\", "{!}", "~~~"]:
        response = await client.get("/search/movies", params={"q": hostile})
        assert response.status_code == 200, (hostile, response.text)
        assert isinstance(response.json()["results"], list)
    years = await client.get(
        "/search/movies", params={"q": "heat", "year.gte": 2000, "year.lte": 1990}
    )
    assert years.status_code == 400
    missing = await client.get("/search/movies")
    assert missing.status_code in {400, 422}
    assert missing.headers["content-type"].startswith("application/problem+json")
