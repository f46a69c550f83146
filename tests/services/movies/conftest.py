"""Movies runs on SQLite and, where MariaDB is configured, on MariaDB (its distributed home)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from movieverse.gateway.app import Gateway, create_gateway
from movieverse.platform.db import normalise_url
from movieverse.services.movies.settings import MoviesSettings
from tests.support import Stack, fast_auth_settings, require_server


async def _mysql_admin(base: str, statement: str) -> None:
    engine = create_async_engine(normalise_url(base), isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text(statement))
    finally:
        await engine.dispose()


@pytest.fixture(params=["sqlite", "mariadb"])
async def movies_database(request: pytest.FixtureRequest) -> AsyncIterator[str | None]:
    """None: the embedded SQLite file; otherwise a fresh MariaDB database for this test."""
    if request.param == "sqlite":
        yield None
        return
    base = require_server("mysql")
    name = f"mv_movies_{uuid.uuid4().hex[:8]}"
    await _mysql_admin(base, f"CREATE DATABASE `{name}`")
    try:
        yield make_url(normalise_url(base)).set(database=name).render_as_string(hide_password=False)
    finally:
        await _mysql_admin(base, f"DROP DATABASE IF EXISTS `{name}`")


@pytest.fixture
async def catalog(
    movies_database: str | None, tmp_path: Path
) -> AsyncIterator[tuple[Gateway, httpx.AsyncClient]]:
    settings = Stack("embedded", database_url=None, redis_url=None).settings(tmp_path / "var")
    gateway = create_gateway(
        settings,
        service_overrides={
            "auth": fast_auth_settings(),
            "movies": MoviesSettings(database_url=movies_database, top_rated_min_votes=50),
        },
    )
    async with gateway.edge.router.lifespan_context(gateway.edge):
        transport = httpx.ASGITransport(app=gateway)
        async with httpx.AsyncClient(transport=transport, base_url="http://catalog.test") as c:
            yield gateway, c
