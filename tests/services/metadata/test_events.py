"""Every admin write stages its event in metadata's outbox, in the same transaction."""

from __future__ import annotations

from tests.services.metadata.conftest import MetadataApp, outbox_events, put_person
from tests.support import Account, eventually


async def test_writes_emit_typed_events(metadata: MetadataApp, admin: Account) -> None:
    gateway, client = metadata
    assert await outbox_events(gateway) == []  # seeding the genres announces nothing
    await put_person(
        client, admin, 31, name="Tom Hanks", known_for_department="Acting", popularity=5.0,
        imdb_id="nm0000158", tmdb_id=31, biography="Not in the event.",
    )  # fmt: skip
    await put_person(client, admin, 24, name="Robert Zemeckis")
    credits = {
        "cast": [
            {"person_id": 31, "character": "Forrest Gump", "order": 0},
            {"person_id": 31, "character": "Narrator", "order": 5},
        ],
        "crew": [
            {"person_id": 24, "department": "Directing", "job": "Director"},
            {"person_id": 31, "department": "Production", "job": "Producer"},
        ],
    }
    writes = [
        ("PUT", "/metadata/movies/13/credits", credits),
        ("PUT", "/metadata/keywords/818", {"name": "based on novel or book"}),
        ("PUT", "/metadata/movies/13/analysis", {"sentiment": "warm"}),
        ("DELETE", "/people/24", None),
    ]
    for method, path, body in writes:
        response = await client.request(method, path, json=body, headers=admin.headers)
        assert response.status_code in {200, 201, 204}, response.text

    events = await outbox_events(gateway)
    assert [(e["type"], e["key"]) for e in events] == [
        ("metadata.person.changed", "31"),
        ("metadata.person.changed", "24"),
        ("metadata.credits.changed", "13"),
        ("metadata.keyword.changed", "818"),
        ("metadata.analysis.changed", "13"),
        ("metadata.credits.changed", "13"),
        ("metadata.person.deleted", "24"),
    ]
    assert all(e["producer"] == "metadata" and e["version"] == 1 for e in events)
    assert events[0]["payload"] == {
        "person_id": 31,
        "name": "Tom Hanks",
        "known_for_department": "Acting",
        "popularity": 5.0,
        "profile_path": None,
        "imdb_id": "nm0000158",
        "tmdb_id": 31,
    }
    # Each person once per role, what movies needs for with_cast / with_crew.
    assert events[2]["payload"] == {
        "movie_id": 13,
        "people": [
            {"person_id": 24, "role": "crew"},
            {"person_id": 31, "role": "cast"},
            {"person_id": 31, "role": "crew"},
        ],
    }
    assert events[3]["payload"] == {"keyword_id": 818, "name": "based on novel or book"}
    assert events[4]["payload"] == {"movie_id": 13}
    assert events[5]["payload"]["people"] == [
        {"person_id": 31, "role": "cast"},
        {"person_id": 31, "role": "crew"},
    ]
    assert events[6]["payload"] == {"person_id": 24}

    # The relay publishes them after commit.
    ctx = gateway.services["metadata"].state.ctx

    async def all_published() -> bool:
        async with ctx.db.unit_of_work(write=False) as session:
            pending: int = await ctx.outbox.pending_count(session)
        return pending == 0

    await eventually(all_published)
