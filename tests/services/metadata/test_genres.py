"""Genres: the vocabulary seeded as documents at start-up, served with HTTP caching."""

from __future__ import annotations

from movieverse.contracts.genres import GENRES
from movieverse.services.metadata import service
from tests.services.metadata.conftest import MetadataApp


async def test_list_and_one_genre_with_etags(metadata: MetadataApp) -> None:
    _, client = metadata
    response = await client.get("/genres")
    assert response.status_code == 200
    genres = response.json()["genres"]
    assert genres == [{"id": i, "name": n} for i, n in sorted(GENRES.items(), key=lambda g: g[1])]
    assert response.headers["cache-control"] == "public, max-age=60"
    etag = response.headers["etag"]
    assert etag.startswith('"')
    again = await client.get("/genres", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""

    action = await client.get("/genres/28")
    assert action.json() == {"id": 28, "name": "Action"}
    assert (await client.get("/genres/100001")).json()["name"] == "Film-Noir"
    not_modified = await client.get("/genres/28", headers={"If-None-Match": action.headers["etag"]})
    assert not_modified.status_code == 304


async def test_unknown_and_malformed_genre_ids(metadata: MetadataApp) -> None:
    _, client = metadata
    missing = await client.get("/genres/4242")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    assert missing.json()["detail"] == "No genre with id 4242"
    for bad in ("action", "0"):
        response = await client.get(f"/genres/{bad}")
        assert response.status_code == 400
        assert "genre_id" in response.json()["detail"]


async def test_seeding_restores_the_vocabulary_and_is_idempotent(metadata: MetadataApp) -> None:
    gateway, client = metadata
    ctx = gateway.services["metadata"].state.ctx
    store = ctx.runtime.documents
    async with ctx.db.unit_of_work(write=False) as session:
        assert await service.genres_to_seed(session, store=store) == {}
    async with ctx.db.unit_of_work() as session:
        await store.put(session, "genres", "28", {"id": 28, "name": "Explosions"})
        await store.delete(session, "genres", "37")
    async with ctx.db.unit_of_work(write=False) as session:
        stale = await service.genres_to_seed(session, store=store)
    assert sorted(stale) == [28, 37]
    async with ctx.db.unit_of_work() as session:
        await service.seed_genres(session, store=store, genres=stale)
    async with ctx.db.unit_of_work(write=False) as session:
        assert await service.genres_to_seed(session, store=store) == {}
    assert len((await client.get("/genres")).json()["genres"]) == len(GENRES)
