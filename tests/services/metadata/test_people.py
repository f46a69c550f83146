"""People: details with appended credits, popular and name-filtered lists, admin writes."""

from __future__ import annotations

from typing import Any

import pytest

from tests.services.metadata.conftest import MetadataApp, put_person
from tests.support import Account

HANKS: dict[str, Any] = {
    "name": "Tom Hanks",
    "also_known_as": ["Thomas Jeffrey Hanks"],
    "biography": "An American actor and filmmaker.",
    "birthday": "1956-07-09",
    "place_of_birth": "Concord, California, USA",
    "profile_path": "/xndWFsBlClOJFRdhSt4NBwiPq2o.jpg",
    "known_for_department": "Acting",
    "popularity": 57.5,
    "imdb_id": "nm0000158",
    "tmdb_id": 31,
}


async def test_put_creates_then_replaces_a_person(metadata: MetadataApp, admin: Account) -> None:
    _, client = metadata
    created = await client.put("/people/31", json=HANKS, headers=admin.headers)
    assert created.status_code == 201, created.text
    assert created.headers["cache-control"] == "no-store"
    body = created.json()
    assert {k: body[k] for k in HANKS} == HANKS
    assert body["id"] == 31
    assert body["deathday"] is None
    assert body["updated_at"]

    fetched = await client.get("/people/31")
    assert fetched.status_code == 200
    assert fetched.json() == body
    assert fetched.headers["cache-control"] == "public, max-age=60"
    etag = fetched.headers["etag"]
    assert (await client.get("/people/31", headers={"If-None-Match": etag})).status_code == 304

    # PUT is a whole replacement: what is left out is cleared.
    replaced = await client.put("/people/31", json={"name": "Tom Hanks"}, headers=admin.headers)
    assert replaced.status_code == 200
    assert replaced.json()["biography"] is None
    assert replaced.json()["also_known_as"] == []
    after = await client.get("/people/31", headers={"If-None-Match": etag})
    assert after.status_code == 200
    assert after.json()["imdb_id"] is None


async def test_an_external_id_names_one_person(metadata: MetadataApp, admin: Account) -> None:
    _, client = metadata
    first = await client.put(
        "/people/31", json={"name": "Tom Hanks", "tmdb_id": 31, "imdb_id": "nm0000158"},
        headers=admin.headers,
    )  # fmt: skip
    assert first.status_code == 201, first.text
    for clash in ({"tmdb_id": 31}, {"imdb_id": "nm0000158"}):
        taken = await client.put(
            "/people/32", json={"name": "Someone Else", **clash}, headers=admin.headers
        )
        assert taken.status_code == 409, taken.text
        field = next(iter(clash))
        assert taken.json()["errors"][0]["field"] == f"body.{field}"
        assert (await client.get("/people/32")).status_code == 404  # nothing was written
    # The holder itself may be written again with its own ids; a freed id may be taken.
    again = await client.put(
        "/people/31", json={"name": "Thomas Hanks", "tmdb_id": 31}, headers=admin.headers
    )
    assert again.status_code == 200, again.text
    moved = await client.put(
        "/people/32", json={"name": "Someone Else", "imdb_id": "nm0000158"}, headers=admin.headers
    )
    assert moved.status_code == 201, moved.text


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"nickname": "Tommy"}, "body.nickname"),
        ({"name": ""}, "body.name"),
        ({"name": "Tom\x00Hanks"}, "body.name"),
        ({"biography": "nul \x00 inside"}, "body.biography"),
        ({"imdb_id": "tt0000158"}, "body.imdb_id"),
        ({"popularity": -1}, "body.popularity"),
        ({"profile_path": "https://evil.example/x.jpg"}, "body.profile_path"),
        ({"also_known_as": ["ok", ""]}, "body.also_known_as.1"),
        ({"deathday": "1950-01-01"}, "body"),
    ],
)
async def test_person_bodies_are_validated(
    metadata: MetadataApp, admin: Account, change: dict[str, Any], field: str
) -> None:
    _, client = metadata
    response = await client.put("/people/31", json={**HANKS, **change}, headers=admin.headers)
    assert response.status_code == 422, response.text
    assert field in [e["field"] for e in response.json()["errors"]]
    assert (await client.get("/people/31")).status_code == 404


async def test_malformed_requests_are_400(metadata: MetadataApp, admin: Account) -> None:
    _, client = metadata
    broken = await client.put(
        "/people/31",
        content=b'{"name": ',
        headers={**admin.headers, "Content-Type": "application/json"},
    )
    assert broken.status_code == 400
    for path in ("/people/0", "/people/abc", "/people/2147483648"):
        response = await client.get(path)
        assert response.status_code == 400
        assert "person_id" in response.json()["detail"]
    missing = await client.get("/people/404")
    assert missing.status_code == 404
    assert missing.json()["detail"] == "No person with id 404"
    gone = await client.delete("/people/404", headers=admin.headers)
    assert gone.status_code == 404


async def test_writes_need_the_admin_role(
    metadata: MetadataApp, admin: Account, fan: Account
) -> None:
    _, client = metadata
    await put_person(client, admin, 31, **HANKS)
    credits = {"cast": [{"person_id": 31, "character": "Forrest", "order": 0}]}
    attempts = [
        ("PUT", "/people/31", {"name": "Nope"}),
        ("DELETE", "/people/31", None),
        ("PUT", "/metadata/movies/13/credits", credits),
        ("PUT", "/metadata/keywords/1", {"name": "nope"}),
        ("PUT", "/metadata/movies/13/analysis", {"sentiment": "nope"}),
    ]
    for method, path, body in attempts:
        forbidden = await client.request(method, path, json=body, headers=fan.headers)
        assert forbidden.status_code == 403, (method, path, forbidden.text)
        anonymous = await client.request(method, path, json=body)
        assert anonymous.status_code == 401, (method, path)
        assert anonymous.headers["www-authenticate"].startswith("Bearer")
    assert (await client.get("/people/31")).json()["name"] == "Tom Hanks"
    assert (await client.get("/metadata/movies/13/credits")).status_code == 404
    assert (await client.get("/metadata/keywords/1")).status_code == 404
    assert (await client.get("/metadata/movies/13/analysis")).status_code == 404


async def test_popular_pages_by_popularity_then_id(metadata: MetadataApp, admin: Account) -> None:
    _, client = metadata
    popularity = {2: 10.0, 10: 10.0, 3: 99.5, 7: 0.0, 100: 50.0}
    for person_id, value in popularity.items():
        await put_person(client, admin, person_id, name=f"Person {person_id}", popularity=value)
    # Ties break by id as a number (2 before 10), not as text.
    expected = [3, 100, 2, 10, 7]
    seen: list[int] = []
    for page in (1, 2, 3):
        response = await client.get(f"/people/popular?per_page=2&page={page}")
        assert response.status_code == 200
        body = response.json()
        assert (body["page"], body["per_page"], body["total_results"], body["total_pages"]) == (
            page,
            2,
            5,
            3,
        )
        seen += [r["id"] for r in body["results"]]
    assert seen == expected
    first = (await client.get("/people/popular")).json()["results"][0]
    assert first == {
        "id": 3,
        "name": "Person 3",
        "known_for_department": None,
        "popularity": 99.5,
        "profile_path": None,
    }
    too_big = await client.get("/people/popular?per_page=101")
    assert too_big.status_code == 400
    assert "per_page" in too_big.json()["detail"]
    etag = (await client.get("/people/popular")).headers["etag"]
    cached = await client.get("/people/popular", headers={"If-None-Match": etag})
    assert cached.status_code == 304


async def test_name_filter_is_case_insensitive_and_literal(
    metadata: MetadataApp, admin: Account
) -> None:
    _, client = metadata
    names = {
        1: "Tom Hanks",
        2: "tom holland",
        3: "Thomas Newman",
        4: "Fifty % Off",
        5: "Under_Score",
        6: "Dot.*Star",
        7: "Plain Name",
        8: "Amélie Poulain",
    }
    for person_id, name in names.items():
        await put_person(client, admin, person_id, name=name, popularity=float(person_id))

    async def found(text: str) -> list[str]:
        response = await client.get("/people", params={"name": text, "per_page": 100})
        assert response.status_code == 200, response.text
        return [r["name"] for r in response.json()["results"]]

    assert await found("TOM") == ["tom holland", "Tom Hanks"]  # by popularity
    # LIKE and regular-expression metacharacters match only themselves.
    assert await found("%") == ["Fifty % Off"]
    assert await found("_") == ["Under_Score"]
    assert await found(".*") == ["Dot.*Star"]
    # As patterns these would match others ("y%o" Fifty % Off, "o_e" Under_Score, "d.*r" both).
    assert await found("y%o") == []
    assert await found("o_e") == []
    assert await found("d.*r") == []
    assert await found("AMÉLIE") == ["Amélie Poulain"]
    assert await found("nobody") == []
    paged = (await client.get("/people", params={"name": "o", "per_page": 2, "page": 2})).json()
    assert paged["total_results"] == 7  # all but "Plain Name"
    assert [r["id"] for r in paged["results"]] == [5, 4]
    for params in ({}, {"name": ""}, {"name": "x" * 101}, {"name": "nul\x00"}):
        response = await client.get("/people", params=params)
        assert response.status_code == 400, params
        assert "name" in response.json()["detail"]


async def test_append_to_response(metadata: MetadataApp, admin: Account) -> None:
    _, client = metadata
    await put_person(client, admin, 31, **HANKS)
    plain = await client.get("/people/31")
    assert "movie_credits" not in plain.json()
    appended = await client.get("/people/31?append_to_response=movie_credits")
    assert appended.json()["movie_credits"] == {"cast": [], "crew": []}
    assert appended.headers["etag"] != plain.headers["etag"]
    unknown = await client.get("/people/31?append_to_response=movie_credits,images")
    assert unknown.status_code == 400
    assert "images" in unknown.json()["detail"]
    assert "Valid: movie_credits" in unknown.json()["detail"]
    too_many = ",".join(["movie_credits"] * 11)
    assert (await client.get(f"/people/31?append_to_response={too_many}")).status_code == 400
