"""Alembic, one history per service (``migrations/<service>``), run programmatically.

Each service keeps its own version table (``alembic_version_<service>``) and only looks at its own
tables, so several services can share one database in the distributed shape.
"""

from __future__ import annotations

import asyncio
import warnings
from pathlib import Path
from typing import Any

import anyio.to_thread
from alembic import command
from alembic.config import Config
from alembic.runtime.environment import EnvironmentContext
from sqlalchemy import MetaData, pool
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

import movieverse
from movieverse.platform.db import ensure_sqlite_directory, normalise_url


def migrations_root() -> Path:
    """Installed wheels carry the histories inside the package; a checkout has them at its root."""
    packaged = Path(movieverse.__file__).parent / "_migrations"
    if packaged.is_dir():
        return packaged
    return Path(movieverse.__file__).resolve().parents[2] / "migrations"


def alembic_config(service: str, url: str) -> Config:
    script_location = migrations_root() / service
    if not script_location.is_dir():
        raise FileNotFoundError(f"no migrations for service {service!r} at {script_location}")
    config = Config()
    config.set_main_option("script_location", str(script_location))
    config.set_main_option("path_separator", "os")
    config.set_main_option("version_locations", str(script_location / "versions"))
    ensure_sqlite_directory(url)
    config.attributes["url"] = normalise_url(url)
    config.attributes["service"] = service
    return config


def upgrade(service: str, url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(service, url), revision)


async def upgrade_async(service: str, url: str) -> None:
    # Alembic's env drives its own event loop; give it a thread that has none.
    await anyio.to_thread.run_sync(upgrade, service, url)


def check(service: str, url: str) -> None:
    """Raise if the models and the migrated schema disagree (``alembic check``)."""
    command.check(alembic_config(service, url))


def version_table(service: str) -> str:
    return f"alembic_version_{service}"


def run_env(context: EnvironmentContext, metadata: MetaData) -> None:
    """Body of every ``migrations/<service>/env.py``."""
    config = context.config
    service: str = config.attributes["service"]
    url: str = config.attributes["url"]
    own_tables = set(metadata.tables)
    # Indexes a migration makes for one dialect only (see the movies models): not for autogenerate.
    dialect_indexes = frozenset(metadata.info.get("dialect_indexes", ()))

    def include_object(
        obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
    ) -> bool:
        # Other services' tables may live in the same database; they are not ours to diff.
        if type_ == "table":
            return name in own_tables
        if type_ == "index" and name in dialect_indexes:
            return False
        table = getattr(obj, "table", None)
        if table is not None:
            return table.name in own_tables
        return True

    def configure(connection: Connection) -> None:
        # SQLAlchemy cannot reflect expression indexes and says so; they are dialect indexes,
        # left out of autogenerate above, so the warning says nothing worth showing.
        warnings.filterwarnings(
            "ignore", message="Skipped unsupported reflection of expression-based index"
        )
        context.configure(
            connection=connection,
            target_metadata=metadata,
            version_table=version_table(service),
            include_object=include_object,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()

    async def run_async() -> None:
        engine = create_async_engine(url, poolclass=pool.NullPool)
        try:
            async with engine.connect() as connection:
                await connection.run_sync(configure)
        finally:
            await engine.dispose()

    if context.is_offline_mode():
        context.configure(
            url=url,
            target_metadata=metadata,
            version_table=version_table(service),
            literal_binds=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        return
    asyncio.run(run_async())
