"""Prepared statements (platform/prepared.py): on the write path's inline SQLite connection they
go straight to sqlite3, and what they write and read is exactly what ``Connection.execute``
writes and reads (UUIDs, UTC datetimes, NULLs, fixed values); what they would not do the same
way (Python-side defaults) goes through ``Connection.execute``; errors keep SQLAlchemy's
classes; and on any other connection, every store included, they are ``Connection.execute``."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import (
    Column,
    Connection,
    Integer,
    MetaData,
    String,
    Table,
    Uuid,
    bindparam,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from movieverse.platform.db import Database, UtcDateTime
from movieverse.platform.prepared import Prepared
from movieverse.platform.settings import PlatformSettings
from movieverse.platform.writes import in_session
from tests.support import fresh_database

metadata = MetaData()
things = Table(
    "prepared_things",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("owner", Uuid, nullable=False),
    Column("label", String(40), nullable=True),
    Column("at", UtcDateTime, nullable=False),
    Column("points", Integer, nullable=False, default=7),  # a Python-side default
)
INSERT = Prepared(things.insert())
ONE = Prepared(
    select(things.c.owner, things.c.label, things.c.at, things.c.points).where(
        things.c.id == bindparam("b_id")
    )
)
# A value fixed in the statement beside one passed by name.
RELABEL = Prepared(update(things).where(things.c.id == bindparam("b_id")).values(label="fixed"))

OWNER = uuid.UUID("0192f3a4-0000-7000-8000-00000000abcd")
AT = datetime(2026, 12, 7, 16, 30, 5, 123456, tzinfo=UTC)


def row(thing_id: int, **extra: Any) -> dict[str, Any]:
    return {"id": thing_id, "owner": OWNER, "label": None, "at": AT, "points": 3, **extra}


@asynccontextmanager
async def database(url: str) -> AsyncIterator[Database]:
    db = Database.connect(url, PlatformSettings())
    try:
        async with db.unit_of_work() as session:
            await (await session.connection()).run_sync(metadata.create_all)
        yield db
    finally:
        await db.dispose()


async def read_back(db: Database, thing_id: int) -> tuple[Any, ...] | None:
    """Through SQLAlchemy's own execution, for comparison."""
    async with db.unit_of_work(write=False) as session:
        found = (
            await session.execute(
                select(things.c.owner, things.c.label, things.c.at, things.c.points).where(
                    things.c.id == thing_id
                )
            )
        ).first()
        return None if found is None else tuple(found)


async def test_inline_statements_write_and_read_what_sqlalchemy_does(tmp_path: Path) -> None:
    async with database(f"sqlite:///{tmp_path}/prepared.db") as db:
        runs = INSERT.inline_runs + ONE.inline_runs + RELABEL.inline_runs

        def work(connection: Connection) -> tuple[Any, ...] | None:
            INSERT.execute(connection, row(1))
            INSERT.execute_many(connection, [row(2, label="two"), row(3, label="three")])
            connection.execute(things.insert(), row(4, label="by sqlalchemy"))
            RELABEL.execute(connection, {"b_id": 3})
            return ONE.first(connection, {"b_id": 4})

        read_inline = await db.writes.run(work)
        assert db.writes.inline_writes == 1
        # Five executions went straight to sqlite3: three writes and one read, and the update.
        assert INSERT.inline_runs + ONE.inline_runs + RELABEL.inline_runs == runs + 4

        assert read_inline == (OWNER, "by sqlalchemy", AT, 3)
        assert await read_back(db, 1) == (OWNER, None, AT, 3)
        assert await read_back(db, 2) == (OWNER, "two", AT, 3)
        assert await read_back(db, 3) == (OWNER, "fixed", AT, 3)
        missing = await db.writes.run(lambda connection: ONE.first(connection, {"b_id": 99}))
        assert missing is None


async def test_python_side_defaults_go_through_sqlalchemy(tmp_path: Path) -> None:
    async with database(f"sqlite:///{tmp_path}/prepared.db") as db:
        runs = INSERT.inline_runs
        without_points = {k: v for k, v in row(1).items() if k != "points"}
        await db.writes.run(lambda connection: INSERT.execute(connection, without_points))
        assert INSERT.inline_runs == runs  # SQLAlchemy computed the default
        assert await read_back(db, 1) == (OWNER, None, AT, 7)


async def test_errors_are_sqlalchemys_and_the_write_keeps_nothing(tmp_path: Path) -> None:
    async with database(f"sqlite:///{tmp_path}/prepared.db") as db:
        await db.writes.run(lambda connection: INSERT.execute(connection, row(1)))

        def twice(connection: Connection) -> None:
            INSERT.execute(connection, row(2))
            INSERT.execute(connection, row(1))  # the primary key is taken

        with pytest.raises(IntegrityError):
            await db.writes.run(twice)
        assert await read_back(db, 2) is None
        # The connection is usable again: the failed transaction ended.
        await db.writes.run(lambda connection: INSERT.execute(connection, row(2)))
        assert await read_back(db, 2) == (OWNER, None, AT, 3)


@pytest.mark.parametrize("store", ["sqlite", "postgres", "mysql"])
async def test_elsewhere_they_are_connection_execute(store: str, tmp_path: Path) -> None:
    """In a unit of work (and on every database server) nothing runs inline."""

    async def check(db: Database) -> None:
        runs = INSERT.inline_runs + ONE.inline_runs + RELABEL.inline_runs

        def work(connection: Connection) -> tuple[Any, ...] | None:
            INSERT.execute_many(connection, [row(1), row(2)])
            RELABEL.execute(connection, {"b_id": 2})
            return ONE.first(connection, {"b_id": 2})

        async with db.unit_of_work() as session:
            assert await in_session(session, work) == (OWNER, "fixed", AT, 3)
        assert INSERT.inline_runs + ONE.inline_runs + RELABEL.inline_runs == runs
        assert await read_back(db, 1) == (OWNER, None, AT, 3)

    if store == "sqlite":
        async with database(f"sqlite:///{tmp_path}/prepared.db") as db:
            await check(db)
        return
    async with fresh_database(store, prefix="mvtest_prepared") as url, database(url) as db:
        await check(db)
