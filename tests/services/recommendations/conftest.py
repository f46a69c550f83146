"""Recommendations under test: the whole gateway (movies, ratings and lists come in through
their own APIs and events), on SQLite and, where PostgreSQL and Redis are configured, with the
recommendations and ai tables on PostgreSQL and the cache on Redis."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from movieverse.gateway.app import Gateway, create_gateway
from movieverse.services.recommendations.settings import RecommendationsSettings
from tests.services.ai.conftest import ai_settings
from tests.support import (
    Stack,
    fast_auth_settings,
    fresh_database,
    server_url,
    start_from_migrated_sqlite,
)

RecsApp = tuple[Gateway, httpx.AsyncClient]


# Recommendations, the ai service behind them, and what feeds both.
RECOMMENDATIONS_AND_PEERS = ("auth", "users", "movies", "reviews", "ai", "recommendations")


@pytest.fixture(params=["embedded", "distributed"])
async def stores(request: pytest.FixtureRequest) -> AsyncIterator[tuple[str | None, str | None]]:
    """(database URL for ai and recommendations, Redis URL) -- None: the embedded stores."""
    if request.param == "embedded":
        yield None, None
        return
    redis = server_url("redis")
    if redis is None:
        pytest.skip("MOVIEVERSE_TEST_REDIS_URL is not set")
    async with fresh_database(
        "postgres", prefix="mv_recs", migrated_for=("ai", "recommendations")
    ) as url:
        yield url, redis


@asynccontextmanager
async def served(
    stores: tuple[str | None, str | None], var_dir: Path, **own: Any
) -> AsyncIterator[RecsApp]:
    database, redis = stores
    settings = Stack("test", database_url=None, redis_url=redis).settings(var_dir)
    await start_from_migrated_sqlite(settings)
    gateway = create_gateway(
        settings,
        only=RECOMMENDATIONS_AND_PEERS,
        service_overrides={
            "auth": fast_auth_settings(),
            "ai": ai_settings(database),
            "recommendations": RecommendationsSettings(database_url=database, **own),
        },
    )
    async with gateway.edge.router.lifespan_context(gateway.edge):
        transport = httpx.ASGITransport(app=gateway)
        async with httpx.AsyncClient(transport=transport, base_url="http://recs.test") as client:
            yield gateway, client


@pytest.fixture
async def recs_app(stores: tuple[str | None, str | None], tmp_path: Path) -> AsyncIterator[RecsApp]:
    async with served(stores, tmp_path / "var") as app:
        yield app


@pytest.fixture
async def unrefreshed_app(
    stores: tuple[str | None, str | None], tmp_path: Path
) -> AsyncIterator[RecsApp]:
    """Changed users' pages are not recomputed in the background: only requests ask ai."""
    async with served(stores, tmp_path / "var", refresh_after_changes=False) as app:
        yield app
