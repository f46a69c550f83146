"""The catalog's genre table holds the shared vocabulary (movieverse.contracts.genres), which
metadata serves by name: a movie tagged with an id always has a name to show."""

from __future__ import annotations

import httpx
from sqlalchemy import select

from movieverse.contracts.genres import GENRES
from movieverse.gateway.app import Gateway
from movieverse.services.movies.genres import MOVIELENS_GENRES
from movieverse.services.movies.models import Genre


async def test_migrated_genres_are_the_shared_vocabulary(
    catalog: tuple[Gateway, httpx.AsyncClient],
) -> None:
    gateway, _ = catalog
    ctx = gateway.services["movies"].state.ctx
    async with ctx.db.unit_of_work(write=False) as session:
        stored = {int(i): str(n) for i, n in await session.execute(select(Genre.id, Genre.name))}
    assert stored == GENRES


def test_movielens_genres_map_into_the_vocabulary() -> None:
    assert set(MOVIELENS_GENRES.values()) <= set(GENRES)
