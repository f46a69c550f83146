"""A movie's snapshot (what its events carry) is built in one place: a bulk import and an API
edit of the same movie publish the same fields, in the same order."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import httpx
from sqlalchemy import select

from movieverse.contracts.movies import MovieCreated, MovieUpdated
from movieverse.gateway.app import Gateway
from movieverse.services.movies import service
from movieverse.services.movies.import_entries import ImportEntry
from movieverse.services.movies.importer import CatalogImporter
from movieverse.services.movies.snapshot import movie_snapshot
from tests.support import admin_account

HEAT = ImportEntry(
    source="tmdb",
    tmdb_id=949,
    imdb_id="tt0113277",
    movielens_id=None,
    values={
        "title": "Heat",
        "title_sort": "heat",
        "original_title": "Heat",
        "original_language": "en",
        "overview": "Obsessive master thief Neil McCauley leads a top-notch crew.",
        "release_date": date(1995, 12, 15),
        "release_year": 1995,
        "runtime": 170,
        "popularity": 17.9,
        "source_vote_average": 7.7,
        "source_vote_count": 1886,
    },
    # Given out of order on purpose: the snapshot orders them.
    genres={80: "Crime", 28: "Action", 18: "Drama"},
    keywords={642: "robbery", 1812: "los angeles", 3: "bank"},
)


async def _published(gateway: Gateway, event_type: str) -> dict[str, Any]:
    ctx = gateway.services["movies"].state.ctx
    table = ctx.outbox.table
    async with ctx.db.unit_of_work(write=False) as session:
        bodies = (await session.execute(select(table.c.body).order_by(table.c.seq))).scalars()
        events = [json.loads(body) for body in bodies]
    return next(e for e in reversed(events) if e["type"] == event_type)["payload"]  # type: ignore[no-any-return]


async def test_an_import_and_an_api_edit_publish_the_same_snapshot(
    catalog: tuple[Gateway, httpx.AsyncClient],
) -> None:
    gateway, client = catalog
    ctx = gateway.services["movies"].state.ctx
    async with ctx.db.unit_of_work() as session:
        await CatalogImporter(outbox=ctx.outbox).apply(session, [HEAT])
    async with ctx.db.unit_of_work(write=False) as session:
        movie_id = (await service.ids_by_tmdb_id(session, tmdb_ids=[949]))[949]
    imported = await _published(gateway, MovieCreated.event_type)
    assert imported["genres"] == ["Action", "Crime", "Drama"]
    assert imported["genre_ids"] == [28, 80, 18]
    assert imported["keywords"] == ["bank", "los angeles", "robbery"]

    admin = await admin_account(gateway, client)
    edited = await client.patch(f"/movies/{movie_id}", json={"runtime": 171}, headers=admin.headers)
    assert edited.status_code == 200, edited.text
    updated = await _published(gateway, MovieUpdated.event_type)
    assert updated.pop("changed") == ["runtime"]  # the edit's own: not a snapshot field
    assert updated == imported


def test_the_snapshot_orders_genres_by_name_and_keywords_alike() -> None:
    snapshot = movie_snapshot(
        MovieCreated,
        movie_id=7,
        columns={"title": "Alien", "vote_count": None},
        genres=[(878, "Science Fiction"), (27, "Horror")],
        keywords=["space", "android"],
    )
    assert (snapshot.genres, snapshot.genre_ids) == (["Horror", "Science Fiction"], [27, 878])
    assert snapshot.keywords == ["android", "space"]
    assert (snapshot.vote_count, snapshot.popularity, snapshot.adult) == (0, 0.0, False)
    assert snapshot.alternative_titles == []
