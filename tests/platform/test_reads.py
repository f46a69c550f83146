"""The read path (platform/reads.py): on SQLite a read runs on the caller's thread within a time
budget and gives way to aiosqlite's thread past it or at a lock; on a server it is one pooled
async connection. Every way gives the same rows, typed the same."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import JSON, Column, Date, Integer, MetaData, String, Table, insert, select, text
from sqlalchemy.exc import OperationalError

from movieverse.platform.db import Database, UtcDateTime
from movieverse.platform.settings import PlatformSettings
from tests.support import fresh_database, loop_ticks

metadata = MetaData()
things = Table(
    "reads_things",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("name", String(50)),
    Column("released", Date, nullable=True),
    Column("seen_at", UtcDateTime, nullable=True),
    Column("tags", JSON, nullable=True),
)
SEEN = datetime(2026, 12, 7, 6, 30, 15, tzinfo=UTC)
ROWS: list[dict[str, Any]] = [
    {"id": 1, "name": "Amélie", "released": date(2001, 4, 25), "seen_at": SEEN, "tags": ["fr"]},
    {"id": 2, "name": "Heat", "released": None, "seen_at": None, "tags": None},
]
# Counting to 5 million in a recursive CTE keeps SQLite busy for a few seconds: far past any
# budget, so the inline attempt is interrupted for certain.
LONG_COUNT = text(
    "with recursive n(i) as (select 1 union all select i + 1 from n where i < 5000000)"
    " select count(*) from n"
)


@asynccontextmanager
async def database(url: str, **settings: Any) -> AsyncIterator[Database]:
    db = Database.connect(url, PlatformSettings(**settings))
    try:
        async with db.unit_of_work() as session:
            await (await session.connection()).run_sync(metadata.create_all)
            await session.execute(insert(things), ROWS)
        yield db
    finally:
        await db.dispose()


def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path}/reads.db"


async def test_sqlite_reads_run_inline_and_type_their_values_as_a_session_does(
    tmp_path: Path,
) -> None:
    async with database(sqlite_url(tmp_path)) as db:
        statement = select(things).order_by(things.c.id)
        rows = await db.reads.rows(statement)
        async with db.unit_of_work(write=False) as session:
            expected = (await session.execute(statement)).all()
        assert [tuple(r) for r in rows] == [tuple(r) for r in expected]
        assert rows[0].seen_at == SEEN
        assert rows[0].seen_at.tzinfo is not None
        assert rows[0].released == date(2001, 4, 25)
        assert rows[0].tags == ["fr"]
        assert (db.reads.inline_reads, db.reads.deferred_reads) == (1, 0)


async def test_an_inline_read_sees_what_was_committed_a_moment_before(tmp_path: Path) -> None:
    async with database(sqlite_url(tmp_path)) as db:
        one = select(things.c.name).where(things.c.id == 1)
        assert (await db.reads.first(one)) == ("Amélie",)
        async with db.unit_of_work() as session:
            await session.execute(things.update().where(things.c.id == 1).values(name="Amelie"))
        # The held connection keeps no snapshot between reads (autocommit).
        assert (await db.reads.first(one)) == ("Amelie",)


async def test_a_read_over_its_budget_gives_way_to_the_thread_and_still_answers(
    tmp_path: Path,
) -> None:
    async with database(sqlite_url(tmp_path), db_sqlite_inline_read_ms=1) as db:
        async with loop_ticks() as ticks:
            (count,) = (await db.reads.rows(LONG_COUNT))[0]
        assert count == 5_000_000
        assert (db.reads.inline_reads, db.reads.deferred_reads) == (0, 1)
        # The loop went on serving while the count ran on the thread.
        assert ticks.count >= 3
        # The interrupted connection reads again inline.
        assert (await db.reads.first(select(things.c.id).where(things.c.id == 2))) == (2,)
        assert db.reads.inline_reads == 1


async def test_a_read_meeting_a_lock_waits_on_the_thread_not_on_the_loop(tmp_path: Path) -> None:
    path = tmp_path / "locked.db"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("create table t (x integer)")
    holder.execute("insert into t values (1)")
    db = Database.connect(f"sqlite:///{path}", PlatformSettings())
    try:
        # A rollback-journal database under an exclusive lock: readers must wait (WAL readers
        # never do, but the path must not hang the loop if one ever has to).
        holder.execute("pragma journal_mode=delete")
        holder.execute("begin exclusive")
        released = asyncio.get_running_loop().call_later(0.3, holder.execute, "commit")
        rows = await db.reads.rows(text("select x from t"))
        released.cancel()
        assert [tuple(r) for r in rows] == [(1,)]
        assert (db.reads.inline_reads, db.reads.deferred_reads) == (0, 1)
    finally:
        await db.dispose()
        holder.close()


async def test_the_inline_connection_cannot_write(tmp_path: Path) -> None:
    async with database(sqlite_url(tmp_path)) as db:
        with pytest.raises(OperationalError, match="readonly"):
            await db.reads.rows(things.delete())
        async with db.unit_of_work(write=False) as session:
            assert (await session.execute(select(things.c.id))).scalars().all() == [1, 2]


async def test_a_zero_budget_sends_every_read_to_the_thread(tmp_path: Path) -> None:
    async with database(sqlite_url(tmp_path), db_sqlite_inline_read_ms=0) as db:
        assert len(await db.reads.rows(select(things))) == 2
        assert (db.reads.inline_reads, db.reads.deferred_reads) == (0, 0)


@pytest.mark.parametrize("server", ["postgres", "mysql"])
async def test_on_a_server_a_read_is_one_pooled_connection(server: str) -> None:
    async with fresh_database(server, prefix="mvtest_reads") as url, database(url) as db:
        rows = await db.reads.rows(select(things).order_by(things.c.id))
        assert [r._asdict() for r in rows] == ROWS
        assert db.reads.inline_reads == 0
        assert db.engine.pool.checkedout() == 0  # type: ignore[attr-defined]
