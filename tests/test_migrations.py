"""Every service's migration history builds exactly the schema its models describe
(``alembic check`` is clean) on SQLite, PostgreSQL and MariaDB, and can be undone."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import create_engine, inspect

from movieverse.platform.migrations import alembic_config, check, upgrade
from tests.support import SERVICE_METADATA

SERVICES = sorted(SERVICE_METADATA)


@pytest.mark.parametrize("service", SERVICES)
def test_history_matches_the_models(fresh_database: str, service: str) -> None:
    upgrade(service, fresh_database)
    check(service, fresh_database)  # raises if models and schema disagree


def test_services_share_one_database_without_interference(fresh_database: str) -> None:
    for service in SERVICES:
        upgrade(service, fresh_database)
    for service in SERVICES:
        check(service, fresh_database)


@pytest.mark.parametrize("service", SERVICES)
def test_history_downgrades_to_nothing_and_back(fresh_database: str, service: str) -> None:
    config = alembic_config(service, fresh_database)
    command.upgrade(config, "head")
    command.downgrade(config, "base")
    command.upgrade(config, "head")
    check(service, fresh_database)


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
