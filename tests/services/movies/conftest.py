"""Movies runs on SQLite and, where MariaDB is configured, on MariaDB (its distributed home)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from movieverse.gateway.app import Gateway, create_gateway
from movieverse.services.movies.settings import MoviesSettings
from tests.support import Stack, fast_auth_settings, fresh_database, start_from_migrated_sqlite

# The catalog and what its API tests need: accounts, metadata for credits and genres, and
# users, whose list activity makes trending, and reviews, whose ratings make top rated.
MOVIES_AND_PEERS = ("auth", "users", "movies", "metadata", "reviews")


@pytest.fixture(params=["sqlite", "mariadb"])
async def movies_database(request: pytest.FixtureRequest) -> AsyncIterator[str | None]:
    """None: the embedded SQLite file; otherwise a fresh MariaDB database for this test."""
    if request.param == "sqlite":
        yield None
        return
    async with fresh_database("mysql", prefix="mv_movies") as url:
        yield url


@pytest.fixture
async def catalog(
    movies_database: str | None, tmp_path: Path
) -> AsyncIterator[tuple[Gateway, httpx.AsyncClient]]:
    settings = Stack("embedded", database_url=None, redis_url=None).settings(tmp_path / "var")
    await start_from_migrated_sqlite(settings)
    gateway = create_gateway(
        settings,
        only=MOVIES_AND_PEERS,
        service_overrides={
            "auth": fast_auth_settings(),
            "movies": MoviesSettings(database_url=movies_database, top_rated_min_votes=50),
        },
    )
    async with gateway.edge.router.lifespan_context(gateway.edge):
        transport = httpx.ASGITransport(app=gateway)
        async with httpx.AsyncClient(transport=transport, base_url="http://catalog.test") as c:
            yield gateway, c
