"""Search and indexer under test: the whole gateway (movies, people and reviews come in through
their own APIs), with the indexer's documents on SQLite and, where PostgreSQL is configured, on
PostgreSQL (its distributed home), in a fresh database per test."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from movieverse.gateway.app import Gateway, create_gateway
from movieverse.services.indexer.settings import IndexerSettings
from tests.support import Stack, fast_auth_settings, fresh_database, start_from_migrated_sqlite

SearchApp = tuple[Gateway, httpx.AsyncClient]


# Search, its indexer, and what is indexed: movies, people (metadata) and reviews.
SEARCH_AND_PEERS = ("indexer", "search", "auth", "movies", "metadata", "reviews")


@pytest.fixture(params=["sqlite", "postgres"])
async def indexer_database(request: pytest.FixtureRequest) -> AsyncIterator[str | None]:
    if request.param == "sqlite":
        yield None
        return
    async with fresh_database("postgres", prefix="mv_indexer", migrated_for=("indexer",)) as url:
        yield url


@pytest.fixture
async def gateway(indexer_database: str | None, tmp_path: Path) -> AsyncIterator[SearchApp]:
    settings = Stack("embedded", database_url=None, redis_url=None).settings(
        tmp_path / "var", semantic_search=True
    )
    await start_from_migrated_sqlite(settings)
    gateway = create_gateway(
        settings,
        only=SEARCH_AND_PEERS,
        service_overrides={
            "auth": fast_auth_settings(),
            "indexer": IndexerSettings(database_url=indexer_database),
        },
    )
    async with gateway.edge.router.lifespan_context(gateway.edge):
        transport = httpx.ASGITransport(app=gateway)
        async with httpx.AsyncClient(transport=transport, base_url="http://search.test") as c:
            yield gateway, c
