"""Fixtures: each API test runs on the embedded stack and, where the servers are configured,
again on PostgreSQL + Redis (the distributed stack)."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from movieverse.gateway.app import Gateway
from movieverse.platform.db import normalise_url
from movieverse.platform.migrations import upgrade
from tests.brokers import RUN_ID_VARIABLE, sweep_rabbitmq
from tests.support import (
    SERVICE_METADATA,
    Stack,
    require_server,
    running_gateway,
    server_url,
    services_under_test,
    truncate_all,
)

# A server with ratings and no model trains one 15 s after it starts (MOVIEVERSE_AI_TRAIN_ON_START).
# In the test suite that would be a minute of CPU inside tests that are about something else
# (imports, search, the e2e servers, which inherit this); the ai tests train explicitly.
os.environ.setdefault("MOVIEVERSE_AI_TRAIN_ON_START", "false")
# pytest-xdist starts each worker with COLUMNS set to the controller's terminal width (80 when
# there is none), and rich fixes a console's width at creation when COLUMNS is set: the CLI's
# console, made at import, would then wrap every table at 80 whatever a test's own COLUMNS says.
os.environ.pop("COLUMNS", None)


async def _admin_execute(url: str, statement: str) -> None:
    import asyncpg

    parsed = make_url(url)
    conn = await asyncpg.connect(
        host=parsed.host or "127.0.0.1",
        port=parsed.port or 5432,
        user=parsed.username or "postgres",
        password=parsed.password,
        database=parsed.database or "postgres",
    )
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


def _is_xdist_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


def pytest_configure(config: pytest.Config) -> None:
    """What earlier runs left on the machine's RabbitMQ goes before this run (see tests/brokers.py
    for why it matters). Only the controlling process sweeps: a worker sweeping at its start would
    delete the queues a sibling worker's running test has just declared."""
    url = server_url("rabbitmq")
    if not _is_xdist_worker(config):
        os.environ[RUN_ID_VARIABLE] = str(os.getpid())  # the workers inherit it
        if url is not None:
            sweep_rabbitmq(url, own_run=os.environ[RUN_ID_VARIABLE])


def pytest_unconfigure(config: pytest.Config) -> None:
    """What this run declared goes after it, once every worker has finished."""
    url = server_url("rabbitmq")
    if url is not None and not _is_xdist_worker(config):
        sweep_rabbitmq(url, own_run=os.environ.get(RUN_ID_VARIABLE, str(os.getpid())))


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str | None]:
    """A fresh PostgreSQL database for this test session, migrated once; None if unconfigured."""
    base = server_url("postgres")
    if base is None:
        yield None
        return
    name = f"movieverse_test_{uuid.uuid4().hex[:10]}"
    asyncio.run(_admin_execute(base, f'CREATE DATABASE "{name}"'))
    url = make_url(normalise_url(base)).set(database=name).render_as_string(hide_password=False)
    try:
        for service in SERVICE_METADATA:
            upgrade(service, url)
        yield url
    finally:
        asyncio.run(_admin_execute(base, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(params=["embedded", "servers"])
async def stack(request: pytest.FixtureRequest, postgres_database: str | None) -> Stack:
    if request.param == "embedded":
        return Stack("embedded", database_url=None, redis_url=None)
    redis = server_url("redis")
    if postgres_database is None or redis is None:
        pytest.skip("MOVIEVERSE_TEST_POSTGRES_URL or MOVIEVERSE_TEST_REDIS_URL is not set")
    await truncate_all(postgres_database)
    return Stack("servers", database_url=postgres_database, redis_url=redis)


@pytest.fixture
async def gateway_client(
    stack: Stack, tmp_path: Path, request: pytest.FixtureRequest
) -> AsyncIterator[httpx.AsyncClient]:
    """The all-in-one app (shared in-process bus) behind an ASGI client: the services the
    test's module marks (``pytest.mark.services``), or every service."""
    only = services_under_test(request)
    async with running_gateway(stack.settings(tmp_path / "var"), only=only) as (_, client):
        yield client


@pytest.fixture
async def gateway(
    stack: Stack, tmp_path: Path, request: pytest.FixtureRequest
) -> AsyncIterator[tuple[Gateway, httpx.AsyncClient]]:
    only = services_under_test(request)
    async with running_gateway(stack.settings(tmp_path / "var"), only=only) as pair:
        yield pair


@pytest.fixture(params=["sqlite", "postgres", "mysql"])
def fresh_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database of each kind (SQLite always; servers when their URL is set)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'fresh.db'}"
        return
    base = require_server(request.param)
    name = f"mv_fresh_{uuid.uuid4().hex[:8]}"
    async_base = normalise_url(base)

    async def admin(statement: str) -> None:
        engine = create_async_engine(async_base, isolation_level="AUTOCOMMIT")
        try:
            async with engine.connect() as conn:
                await conn.execute(text(statement))
        finally:
            await engine.dispose()

    quote = '"' if request.param == "postgres" else "`"
    asyncio.run(admin(f"CREATE DATABASE {quote}{name}{quote}"))
    try:
        yield make_url(async_base).set(database=name).render_as_string(hide_password=False)
    finally:
        asyncio.run(admin(f"DROP DATABASE IF EXISTS {quote}{name}{quote}"))
