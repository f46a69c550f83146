"""Refused admin writes of movies: a precise 4xx problem, and nothing changed.

On SQLite and, where MariaDB is configured, on MariaDB (the ``catalog`` fixture).
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from movieverse.gateway.app import Gateway
from movieverse.services.movies.schemas import NOT_NULL
from tests.support import Account, admin_account, eventually

HEAT = {"title": "Heat", "tmdb_id": 949, "imdb_id": "tt0113277", "genre_ids": [28, 80]}
MATRIX = {"title": "The Matrix", "tmdb_id": 603, "imdb_id": "tt0133093", "genre_ids": [28, 878]}


async def _movie(client: httpx.AsyncClient, admin: Account, body: dict[str, Any]) -> int:
    response = await client.post("/movies", json=body, headers=admin.headers)
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


async def _state(client: httpx.AsyncClient, *movie_ids: int) -> list[Any]:
    """What a refused write must leave as it was: the movies' pages and the changes feed."""
    pages = [
        (await client.get(f"/movies/{i}?append_to_response=keywords")).json() for i in movie_ids
    ]
    feed = (await client.get("/movies/changes?since=2000-01-01T00:00:00Z")).json()
    listed = (await client.get("/discover/movies?include_adult=true")).json()["total_results"]
    return [pages, feed, listed]


def _problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    return body


async def test_a_taken_tmdb_id_with_genre_ids_is_a_409_naming_the_movie_that_has_it(
    catalog: tuple[Gateway, httpx.AsyncClient],
) -> None:
    """It was a 500: the genre lookup flushed the changed tmdb_id first (autoflush)."""
    gateway, client = catalog
    admin = await admin_account(gateway, client)
    heat, matrix = await _movie(client, admin, HEAT), await _movie(client, admin, MATRIX)
    before = await _state(client, heat, matrix)
    refused = await client.patch(
        f"/movies/{matrix}", json={"tmdb_id": 949, "genre_ids": [18]}, headers=admin.headers
    )
    problem = _problem(refused, 409)
    assert problem["detail"] == f"Movie {heat} has tmdb_id 949"
    assert problem["errors"] == [
        {"field": "body.tmdb_id", "message": f"movie {heat} has tmdb_id 949", "code": "taken"}
    ]
    assert await _state(client, heat, matrix) == before


async def test_every_taken_external_id_is_named_on_create_and_update(
    catalog: tuple[Gateway, httpx.AsyncClient],
) -> None:
    gateway, client = catalog
    admin = await admin_account(gateway, client)
    heat, matrix = await _movie(client, admin, HEAT), await _movie(client, admin, MATRIX)
    put = await client.put(
        "/metadata/keywords/9748", json={"name": "revenge"}, headers=admin.headers
    )
    assert put.status_code == 201, put.text

    async def keyword_known() -> bool:
        tagged = await client.patch(
            f"/movies/{matrix}", json={"keyword_ids": [9748]}, headers=admin.headers
        )
        return tagged.status_code == 200

    await eventually(keyword_known)
    before = await _state(client, heat, matrix)
    both = {"tmdb_id": 949, "imdb_id": "tt0113277"}
    attempts = [
        ("PATCH", f"/movies/{matrix}", {**both, "keyword_ids": [], "genre_ids": [18]}),
        ("PATCH", f"/movies/{matrix}", {**both, "title": "Renamed", "popularity": 3.5}),
        ("POST", "/movies", {"title": "Heat again", **both, "genre_ids": [18]}),
        ("POST", "/movies", {"title": "Heat again", **both, "keyword_ids": [9748]}),
    ]
    for method, path, body in attempts:
        problem = _problem(
            await client.request(method, path, json=body, headers=admin.headers), 409
        )
        assert (
            problem["detail"] == f"Movie {heat} has tmdb_id 949; Movie {heat} has imdb_id tt0113277"
        )
        assert [e["field"] for e in problem["errors"]] == ["body.tmdb_id", "body.imdb_id"]
        assert await _state(client, heat, matrix) == before, (method, body)
    # A movie's own ids are not a conflict.
    again = await client.patch(
        f"/movies/{heat}", json={"tmdb_id": 949, "genre_ids": [80]}, headers=admin.headers
    )
    assert again.status_code == 200, again.text


async def test_a_deleted_movie_keeps_its_ids_and_the_409_says_so(
    catalog: tuple[Gateway, httpx.AsyncClient],
) -> None:
    gateway, client = catalog
    admin = await admin_account(gateway, client)
    heat, matrix = await _movie(client, admin, HEAT), await _movie(client, admin, MATRIX)
    assert (await client.delete(f"/movies/{heat}", headers=admin.headers)).status_code == 204
    before = await _state(client, matrix)
    refused = await client.patch(
        f"/movies/{matrix}", json={"imdb_id": "tt0113277", "genre_ids": [18]}, headers=admin.headers
    )
    assert _problem(refused, 409)["detail"] == f"Movie {heat} (deleted) has imdb_id tt0113277"
    assert await _state(client, matrix) == before


@pytest.mark.parametrize("field", sorted(NOT_NULL))
async def test_null_for_a_field_that_cannot_be_null_is_a_422_naming_it(
    catalog: tuple[Gateway, httpx.AsyncClient], field: str
) -> None:
    """``{"popularity": null}`` was a 409 about ids (the NOT NULL failure was read as a
    duplicate); ``adult``, ``vote_average`` and the lists silently became false, 0 or [] and
    ``genre_ids: null`` was ignored."""
    gateway, client = catalog
    admin = await admin_account(gateway, client)
    matrix = await _movie(
        client, admin, {**MATRIX, "popularity": 80.2, "vote_average": 8.2, "vote_count": 20}
    )
    before = await _state(client, matrix)
    attempts: list[tuple[str, str, dict[str, Any]]] = [
        ("PATCH", f"/movies/{matrix}", {field: None})
    ]
    if field != "title":
        attempts.append(("POST", "/movies", {"title": "Another", field: None}))
    for method, path, body in attempts:
        problem = _problem(
            await client.request(method, path, json=body, headers=admin.headers), 422
        )
        assert problem["errors"] == [
            {
                "field": f"body.{field}",
                "message": f"{field} cannot be null: {NOT_NULL[field]}",
                "code": "null_not_allowed",
            }
        ], method
        assert await _state(client, matrix) == before, method


async def test_null_clears_a_field_that_can_be_unknown(
    catalog: tuple[Gateway, httpx.AsyncClient],
) -> None:
    gateway, client = catalog
    admin = await admin_account(gateway, client)
    matrix = await _movie(client, admin, {**MATRIX, "runtime": 136, "release_date": "1999-03-30"})
    cleared = await client.patch(
        f"/movies/{matrix}",
        json={"tmdb_id": None, "runtime": None, "release_date": None},
        headers=admin.headers,
    )
    assert cleared.status_code == 200, cleared.text
    body = cleared.json()
    assert (body["tmdb_id"], body["runtime"], body["release_date"]) == (None, None, None)
    # The cleared tmdb_id is free for another movie.
    assert (
        await client.post("/movies", json={"title": "M", "tmdb_id": 603}, headers=admin.headers)
    ).status_code == 201


def test_patch_shows_no_defaults_in_openapi() -> None:
    """A PATCH applies only the fields sent: a default in its schema would say otherwise."""
    from movieverse.services.movies.schemas import MovieCreate, MovieUpdate

    update = MovieUpdate.model_json_schema()["properties"]
    assert not [name for name, field in update.items() if "default" in field]
    assert update["popularity"]["type"] == "number"  # not nullable
    assert MovieCreate.model_json_schema()["properties"]["popularity"]["default"] == 0.0


async def test_an_id_taken_by_a_concurrent_write_is_a_409_too(
    catalog: tuple[Gateway, httpx.AsyncClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another transaction may take the id between the check and the flush: the unique index
    refuses the flush, and that is the same 409, not a 500."""
    from movieverse.services.movies.repository import MovieRepository

    gateway, client = catalog
    admin = await admin_account(gateway, client)
    heat, matrix = await _movie(client, admin, HEAT), await _movie(client, admin, MATRIX)
    before = await _state(client, heat, matrix)

    async def checked_before_the_other_write(*args: object, **kwargs: object) -> None:
        return None

    monkeypatch.setattr(MovieRepository, "holder_of", checked_before_the_other_write)
    refused = await client.patch(
        f"/movies/{matrix}", json={"tmdb_id": 949, "genre_ids": [18]}, headers=admin.headers
    )
    problem = _problem(refused, 409)
    assert problem["detail"] == "Another movie took this tmdb_id meanwhile"
    assert [e["field"] for e in problem["errors"]] == ["body.tmdb_id"]
    created = await client.post(
        "/movies", json={"title": "Heat again", "imdb_id": "tt0113277"}, headers=admin.headers
    )
    assert _problem(created, 409)["detail"] == "Another movie took this imdb_id meanwhile"
    assert await _state(client, heat, matrix) == before
