"""Every service's migration history builds exactly the schema its models describe
(``alembic check`` is clean) on SQLite, PostgreSQL and MariaDB, and can be undone."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from movieverse.platform.migrations import alembic_config, check, upgrade
from tests.support import SERVICE_METADATA, require_server

SERVICES = sorted(SERVICE_METADATA)


@pytest.fixture(params=["sqlite", "postgres", "mysql"])
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrations.db'}"
        return
    base = require_server(request.param)
    name = f"mv_migrations_{uuid.uuid4().hex[:8]}"
    from movieverse.platform.db import normalise_url

    async_base = normalise_url(base)
    import asyncio

    from sqlalchemy.ext.asyncio import create_async_engine

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


@pytest.mark.parametrize("service", SERVICES)
def test_history_matches_the_models(empty_database: str, service: str) -> None:
    upgrade(service, empty_database)
    check(service, empty_database)  # raises if models and schema disagree


def test_services_share_one_database_without_interference(empty_database: str) -> None:
    for service in SERVICES:
        upgrade(service, empty_database)
    for service in SERVICES:
        check(service, empty_database)


@pytest.mark.parametrize("service", SERVICES)
def test_history_downgrades_to_nothing_and_back(empty_database: str, service: str) -> None:
    config = alembic_config(service, empty_database)
    command.upgrade(config, "head")
    command.downgrade(config, "base")
    command.upgrade(config, "head")
    check(service, empty_database)


def test_sqlite_tables_carry_the_service_prefix(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'names.db'}"
    for service in SERVICES:
        upgrade(service, url)
    engine = create_engine(url)
    try:
        names = set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
    for service in SERVICES:
        own = {n for n in names if n.startswith(f"{service}_")}
        assert own == set(SERVICE_METADATA[service].tables)
        assert f"alembic_version_{service}" in names
