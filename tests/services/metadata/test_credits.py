"""Credits per movie, and each person's movie_credits kept consistent with them."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from tests.services.metadata.conftest import MetadataApp, outbox_events, put_person
from tests.support import Account

PEOPLE: dict[int, dict[str, Any]] = {
    1: {"name": "Tom Hanks", "profile_path": "/hanks.jpg", "popularity": 50.0},
    2: {"name": "Robin Wright", "popularity": 20.0},
    3: {"name": "Robert Zemeckis", "known_for_department": "Directing"},
    4: {"name": "Eric Roth", "known_for_department": "Writing"},
}
FORREST_GUMP = 13
CAST_AWAY = 8358


async def _people(client: httpx.AsyncClient, admin: Account) -> None:
    for person_id, fields in PEOPLE.items():
        await put_person(client, admin, person_id, **fields)


async def _put_credits(
    client: httpx.AsyncClient, admin: Account, movie_id: int, body: dict[str, Any]
) -> httpx.Response:
    return await client.put(
        f"/metadata/movies/{movie_id}/credits", json=body, headers=admin.headers
    )


async def _movie_credits(client: httpx.AsyncClient, person_id: int) -> dict[str, Any]:
    response = await client.get(f"/people/{person_id}?append_to_response=movie_credits")
    assert response.status_code == 200, response.text
    credits: dict[str, Any] = response.json()["movie_credits"]
    return credits


async def test_credits_are_stored_sorted_and_joined_with_people(
    metadata: MetadataApp, admin: Account
) -> None:
    _, client = metadata
    await _people(client, admin)
    body = {
        "cast": [
            {"person_id": 2, "character": "Jenny Curran", "order": 1},
            {"person_id": 1, "character": "Forrest Gump", "order": 0},
        ],
        "crew": [
            {"person_id": 3, "department": "Directing", "job": "Director"},
            {"person_id": 4, "department": "Writing", "job": "Screenplay"},
        ],
    }
    created = await _put_credits(client, admin, FORREST_GUMP, body)
    assert created.status_code == 201, created.text
    expected = {
        "id": FORREST_GUMP,
        "cast": [
            {"person_id": 1, "name": "Tom Hanks", "character": "Forrest Gump", "order": 0,
             "profile_path": "/hanks.jpg"},
            {"person_id": 2, "name": "Robin Wright", "character": "Jenny Curran", "order": 1,
             "profile_path": None},
        ],
        "crew": [
            {"person_id": 3, "name": "Robert Zemeckis", "department": "Directing",
             "job": "Director", "profile_path": None},
            {"person_id": 4, "name": "Eric Roth", "department": "Writing", "job": "Screenplay",
             "profile_path": None},
        ],
    }  # fmt: skip
    assert created.json() == expected
    fetched = await client.get(f"/metadata/movies/{FORREST_GUMP}/credits")
    assert fetched.json() == expected
    etag = fetched.headers["etag"]
    assert fetched.headers["cache-control"] == "public, max-age=60"
    cached = await client.get(
        f"/metadata/movies/{FORREST_GUMP}/credits", headers={"If-None-Match": etag}
    )
    assert cached.status_code == 304
    # Names are the people's current ones.
    await put_person(client, admin, 2, name="Robin Wright Penn")
    renamed = await client.get(
        f"/metadata/movies/{FORREST_GUMP}/credits", headers={"If-None-Match": etag}
    )
    assert renamed.status_code == 200
    assert renamed.json()["cast"][1]["name"] == "Robin Wright Penn"
    again = await _put_credits(client, admin, FORREST_GUMP, body)
    assert again.status_code == 200


async def test_movie_credits_follow_every_replacement(
    metadata: MetadataApp, admin: Account
) -> None:
    _, client = metadata
    await _people(client, admin)
    gump = {
        "cast": [
            {"person_id": 1, "character": "Forrest Gump", "order": 0},
            {"person_id": 2, "character": "Jenny Curran", "order": 1},
        ],
        "crew": [
            {"person_id": 3, "department": "Directing", "job": "Director"},
            {"person_id": 1, "department": "Sound", "job": "Narrator"},
        ],
    }
    cast_away = {
        "cast": [{"person_id": 1, "character": "Chuck Noland", "order": 0}],
        "crew": [{"person_id": 3, "department": "Directing", "job": "Director"}],
    }
    assert (await _put_credits(client, admin, FORREST_GUMP, gump)).status_code == 201
    assert (await _put_credits(client, admin, CAST_AWAY, cast_away)).status_code == 201
    assert await _movie_credits(client, 1) == {
        "cast": [
            {"movie_id": FORREST_GUMP, "character": "Forrest Gump", "order": 0},
            {"movie_id": CAST_AWAY, "character": "Chuck Noland", "order": 0},
        ],
        "crew": [{"movie_id": FORREST_GUMP, "department": "Sound", "job": "Narrator"}],
    }
    assert [c["movie_id"] for c in (await _movie_credits(client, 3))["crew"]] == [
        FORREST_GUMP,
        CAST_AWAY,
    ]

    # Tom Hanks leaves Forrest Gump: gone from his movie_credits there, kept for Cast Away.
    without_hanks = {
        "cast": [{"person_id": 2, "character": "Jenny Curran", "order": 0}],
        "crew": [{"person_id": 4, "department": "Writing", "job": "Screenplay"}],
    }
    assert (await _put_credits(client, admin, FORREST_GUMP, without_hanks)).status_code == 200
    assert await _movie_credits(client, 1) == {
        "cast": [{"movie_id": CAST_AWAY, "character": "Chuck Noland", "order": 0}],
        "crew": [],
    }
    assert await _movie_credits(client, 2) == {
        "cast": [{"movie_id": FORREST_GUMP, "character": "Jenny Curran", "order": 0}],
        "crew": [],
    }
    assert [c["movie_id"] for c in (await _movie_credits(client, 3))["crew"]] == [CAST_AWAY]
    assert (await _movie_credits(client, 4))["crew"] == [
        {"movie_id": FORREST_GUMP, "department": "Writing", "job": "Screenplay"}
    ]
    # Emptied credits leave nobody indexed for the movie.
    assert (await _put_credits(client, admin, CAST_AWAY, {})).status_code == 200
    assert await _movie_credits(client, 1) == {"cast": [], "crew": []}
    assert (await client.get(f"/metadata/movies/{CAST_AWAY}/credits")).json() == {
        "id": CAST_AWAY,
        "cast": [],
        "crew": [],
    }


async def test_concurrent_credit_writes_keep_every_index_entry(
    metadata: MetadataApp, admin: Account
) -> None:
    # Every write below rewrites the same person's index document; without taking turns, one
    # writer's entry would be lost to another's stale read.
    _, client = metadata
    await put_person(client, admin, 1, name="Character Actor")
    movies = list(range(100, 112))
    responses = await asyncio.gather(
        *(
            _put_credits(
                client,
                admin,
                movie_id,
                {"cast": [{"person_id": 1, "character": f"Role {movie_id}", "order": 0}]},
            )
            for movie_id in movies
        )
    )
    assert [r.status_code for r in responses] == [201] * len(movies)
    assert [c["movie_id"] for c in (await _movie_credits(client, 1))["cast"]] == movies


async def test_deleting_a_person_removes_their_credits(
    metadata: MetadataApp, admin: Account
) -> None:
    gateway, client = metadata
    await _people(client, admin)
    gump = {
        "cast": [
            {"person_id": 1, "character": "Forrest Gump", "order": 0},
            {"person_id": 2, "character": "Jenny Curran", "order": 1},
        ],
        "crew": [{"person_id": 2, "department": "Crew", "job": "Stunts"}],
    }
    await _put_credits(client, admin, FORREST_GUMP, gump)
    before = len(await outbox_events(gateway))
    deleted = await client.delete("/people/2", headers=admin.headers)
    assert deleted.status_code == 204
    assert (await client.get("/people/2")).status_code == 404
    credits = (await client.get(f"/metadata/movies/{FORREST_GUMP}/credits")).json()
    assert [c["person_id"] for c in credits["cast"]] == [1]
    assert credits["crew"] == []
    events = (await outbox_events(gateway))[before:]
    assert [e["type"] for e in events] == ["metadata.credits.changed", "metadata.person.deleted"]
    assert events[0]["payload"] == {
        "movie_id": FORREST_GUMP,
        "people": [{"person_id": 1, "role": "cast"}],
    }
    assert events[1]["payload"] == {"person_id": 2}
    # A new person with the old id starts with no credits.
    await put_person(client, admin, 2, name="Someone Else")
    assert await _movie_credits(client, 2) == {"cast": [], "crew": []}


async def test_credits_are_validated(metadata: MetadataApp, admin: Account) -> None:
    gateway, client = metadata
    await _people(client, admin)
    before = await outbox_events(gateway)
    unknown = await _put_credits(
        client,
        admin,
        FORREST_GUMP,
        {
            "cast": [{"person_id": 1, "character": "Forrest", "order": 0},
                     {"person_id": 77, "character": "Ghost", "order": 1}],
            "crew": [{"person_id": 78, "department": "Sound", "job": "Mixer"}],
        },
    )  # fmt: skip
    assert unknown.status_code == 422
    problem = unknown.json()
    assert "77, 78" in problem["detail"]
    assert [e["field"] for e in problem["errors"]] == [
        "body.cast.1.person_id",
        "body.crew.0.person_id",
    ]
    # Nothing of a refused write remains: no credits, no index, no event.
    assert (await client.get(f"/metadata/movies/{FORREST_GUMP}/credits")).status_code == 404
    assert await _movie_credits(client, 1) == {"cast": [], "crew": []}
    assert await outbox_events(gateway) == before

    invalid_bodies: list[tuple[dict[str, Any], str]] = [
        ({"cast": [{"person_id": 1, "order": -1}]}, "body.cast.0.order"),
        ({"cast": [{"person_id": 1}]}, "body.cast.0.order"),
        ({"cast": [{"person_id": 1, "order": 0, "role": "x"}]}, "body.cast.0.role"),
        (
            {"crew": [{"person_id": 1, "department": "", "job": "Director"}]},
            "body.crew.0.department",
        ),
        (
            {"crew": [{"person_id": 0, "department": "Sound", "job": "Mixer"}]},
            "body.crew.0.person_id",
        ),
        ({"guests": []}, "body.guests"),
    ]
    for body, field in invalid_bodies:
        response = await _put_credits(client, admin, FORREST_GUMP, body)
        assert response.status_code == 422, body
        assert field in [e["field"] for e in response.json()["errors"]], body
    bad_id = await client.get("/metadata/movies/0/credits")
    assert bad_id.status_code == 400
    assert "movie_id" in bad_id.json()["detail"]
    missing = await client.get("/metadata/movies/4040/credits")
    assert missing.status_code == 404
    assert missing.json()["detail"] == "No credits for movie 4040"
