"""The write path (platform/writes.py): a write function runs in a transaction of its own --
inline on the loop's thread on SQLite, after its turn among the process's writers, and through
a unit of work when another process holds the lock or on a database server. Every way commits
all or nothing and wakes the relay after a commit that staged events."""

from __future__ import annotations

import asyncio
import json
import signal
import sqlite3
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import (
    Column,
    Connection,
    ForeignKeyConstraint,
    Integer,
    MetaData,
    String,
    Table,
    insert,
    select,
)
from sqlalchemy.exc import IntegrityError

from movieverse.contracts.envelope import EventPayload, new_event
from movieverse.platform.db import Database
from movieverse.platform.errors import Unauthorized
from movieverse.platform.events.outbox import Outbox, outbox_table
from movieverse.platform.settings import PlatformSettings
from movieverse.platform.writes import in_session
from tests.support import fresh_database, loop_ticks

metadata = MetaData()
notes = Table(
    "writes_notes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("text", String(50), nullable=False),
)
# A note's tags, checked at the commit where the store can (deferred): a write can then fail
# at its COMMIT, after every statement succeeded.
tags = Table(
    "writes_tags",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("note_id", Integer, nullable=False),
    *(
        ForeignKeyConstraint(
            ["note_id"], ["writes_notes.id"], deferrable=True, initially="DEFERRED"
        ).ddl_if(dialect=dialect)
        for dialect in ("sqlite", "postgresql")
    ),
    # MariaDB has no deferred constraints.
    ForeignKeyConstraint(["note_id"], ["writes_notes.id"]).ddl_if(dialect="mysql"),
)
outbox = Outbox(outbox_table(metadata, "writes"), service="writes")


class NoteWritten(EventPayload):
    event_type = "writes.note.written"

    note_id: int


class Fixture:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.writes = db.writes
        self.wakes = 0
        db.after_commit_hooks.append(self._woken)

    def _woken(self) -> None:
        self.wakes += 1

    async def notes(self) -> list[tuple[int, str]]:
        async with self.db.unit_of_work(write=False) as session:
            rows = await session.execute(select(notes.c.id, notes.c.text).order_by(notes.c.id))
            return [(int(i), str(t)) for i, t in rows]

    async def staged(self) -> int:
        async with self.db.unit_of_work(write=False) as session:
            return await outbox.pending_count(session)


@asynccontextmanager
async def fixture(url: str) -> AsyncIterator[Fixture]:
    db = Database.connect(url, PlatformSettings())
    made = Fixture(db)
    try:
        async with db.unit_of_work() as session:
            await (await session.connection()).run_sync(metadata.create_all)
        yield made
    finally:
        await db.dispose()


@asynccontextmanager
async def on(store: str, tmp_path: Path) -> AsyncIterator[Fixture]:
    if store == "sqlite":
        async with fixture(f"sqlite:///{tmp_path}/writes.db") as made:
            yield made
        return
    async with fresh_database(store, prefix="mvtest_writes") as url, fixture(url) as made:
        yield made


def note(text: str, *, note_id: int = 1, announce: bool = False) -> Any:
    def work(connection: Connection) -> str:
        connection.execute(insert(notes).values(id=note_id, text=text))
        if announce:
            event = new_event(NoteWritten(note_id=note_id), producer="writes", key=str(note_id))
            outbox.add_sync(connection, event)
        return text

    return work


STORES = ["sqlite", "postgres", "mysql"]


@pytest.mark.parametrize("store", STORES)
async def test_a_write_commits_and_wakes_the_relay_only_when_it_staged_events(
    store: str, tmp_path: Path
) -> None:
    async with on(store, tmp_path) as made:
        assert await made.writes.run(note("quiet", note_id=1)) == "quiet"
        assert made.wakes == 0
        assert await made.writes.run(note("loud", note_id=2, announce=True)) == "loud"
        assert made.wakes == 1
        assert await made.notes() == [(1, "quiet"), (2, "loud")]
        assert await made.staged() == 1
        inline = store == "sqlite"
        assert (made.writes.inline_writes, made.writes.session_writes) == (
            (2, 0) if inline else (0, 2)
        )


@pytest.mark.parametrize("store", STORES)
async def test_a_failing_write_or_a_refusal_before_the_commit_keeps_nothing(
    store: str, tmp_path: Path
) -> None:
    async with on(store, tmp_path) as made:

        def fails(connection: Connection) -> None:
            note("half", note_id=1, announce=True)(connection)
            raise RuntimeError("half-way")

        def refuse() -> None:
            raise Unauthorized("This session has ended; sign in again")

        with pytest.raises(RuntimeError, match="half-way"):
            await made.writes.run(fails)
        with pytest.raises(Unauthorized):
            await made.writes.run(note("late", note_id=2, announce=True), before_commit=refuse)
        assert await made.notes() == []
        assert await made.staged() == 0
        assert made.wakes == 0
        # The path is still usable after both.
        await made.writes.run(note("after", note_id=3))
        assert await made.notes() == [(3, "after")]


@pytest.mark.parametrize("store", STORES)
async def test_a_write_failing_at_its_commit_keeps_nothing_and_holds_no_lock(
    store: str, tmp_path: Path
) -> None:
    """A tag of a note that does not exist: on SQLite and PostgreSQL the deferred check fails
    the COMMIT itself (sqlite3 then leaves its transaction open, which would keep the write
    lock), on MariaDB the insert."""
    async with on(store, tmp_path) as made:

        def orphan_tag(connection: Connection) -> None:
            note("kept?", note_id=1, announce=True)(connection)
            connection.execute(insert(tags).values(id=1, note_id=404))

        with pytest.raises(IntegrityError):
            await made.writes.run(orphan_tag)
        assert await made.notes() == []
        assert await made.staged() == 0
        assert made.wakes == 0
        # The write lock is free: a session writer and the write path both write at once.
        async with made.db.unit_of_work() as session:
            await session.execute(insert(notes).values(id=2, text="session"))
        await made.writes.run(note("after", note_id=3))
        assert await made.notes() == [(2, "session"), (3, "after")]
        if store == "sqlite":
            assert made.writes.session_writes == 0


@pytest.mark.parametrize("store", STORES)
async def test_a_write_function_joins_a_unit_of_work_already_open(
    store: str, tmp_path: Path
) -> None:
    """``in_session``: a write-path function as part of a consumer's or a request's unit of
    work, its events waking the relay when that unit commits."""
    async with on(store, tmp_path) as made:
        async with made.db.unit_of_work() as session:
            await session.execute(insert(notes).values(id=1, text="orm side"))
            await in_session(session, note("core side", note_id=2, announce=True))
            assert made.wakes == 0  # not before the commit
        assert made.wakes == 1
        assert await made.notes() == [(1, "orm side"), (2, "core side")]

        async def fails_after_the_write() -> None:
            async with made.db.unit_of_work() as session:
                await in_session(session, note("rolled back", note_id=3, announce=True))
                raise RuntimeError("the unit of work fails after the write")

        with pytest.raises(RuntimeError):
            await fails_after_the_write()
        assert await made.notes() == [(1, "orm side"), (2, "core side")]
        assert made.wakes == 1


async def test_an_inline_write_waits_its_turn_behind_a_session_writer(tmp_path: Path) -> None:
    """A session writer of the same process holds SQLite's lock across awaits; the inline write
    queues for its turn instead of meeting the lock (and then falling back)."""
    async with fixture(f"sqlite:///{tmp_path}/writes.db") as made:
        async with made.db.unit_of_work() as session:
            await session.execute(insert(notes).values(id=1, text="first"))
            second = asyncio.create_task(made.writes.run(note("second", note_id=2)))
            await asyncio.sleep(0.1)
            assert not second.done()
        assert await second == "second"
        assert (made.writes.inline_writes, made.writes.session_writes) == (1, 0)
        assert await made.notes() == [(1, "first"), (2, "second")]


async def test_a_write_meeting_another_process_at_the_lock_waits_off_the_loop(
    tmp_path: Path,
) -> None:
    """Another process's writer (a CLI import) holds the lock: the inline attempt gives way at
    once and the write waits in a unit of work, on aiosqlite's thread, while the loop serves."""
    path = tmp_path / "writes.db"
    async with fixture(f"sqlite:///{path}") as made:
        other = sqlite3.connect(path, isolation_level=None)
        try:
            other.execute("begin immediate")
            released = asyncio.get_running_loop().call_later(0.3, other.execute, "commit")
            try:
                async with loop_ticks() as ticks:
                    assert await made.writes.run(note("waited", announce=True)) == "waited"
            finally:
                released.cancel()
        finally:
            other.close()
        assert (made.writes.inline_writes, made.writes.session_writes) == (0, 1)
        assert ticks.count >= 3  # the loop went on while the write waited for the lock
        assert made.wakes == 1
        assert await made.notes() == [(1, "waited")]
        # With the lock free again, the next write runs inline.
        await made.writes.run(note("inline", note_id=2))
        assert made.writes.inline_writes == 1


async def _write_until_killed(url: str) -> None:
    """In a child process: inline writes, each with its event, one acknowledgement line on
    stdout after each commit, until the parent kills the process."""
    db = Database.connect(url, PlatformSettings())
    writes = db.writes
    note_id = 0
    while True:
        note_id += 1
        await writes.run(note(f"note {note_id}", note_id=note_id, announce=True))
        assert writes.session_writes == 0  # nothing else writes: every write ran inline
        sys.stdout.write(f"{note_id}\n")
        sys.stdout.flush()


async def test_a_process_killed_mid_stream_keeps_every_acknowledged_write_and_its_event(
    tmp_path: Path,
) -> None:
    """SIGKILL, no shutdown: every write acknowledged before the kill is in the database with
    its event, and nothing is there without its event (SQLite's log is written at each commit;
    the inline connection never checkpoints, and nothing else did here)."""
    url = f"sqlite:///{tmp_path}/writes.db"
    async with fixture(url):
        pass  # the schema
    repository = Path(__file__).resolve().parents[2]  # noqa: ASYNC240 -- no I/O: a name
    child = subprocess.Popen(  # noqa: ASYNC220, S603 -- this interpreter, fixed arguments
        [
            sys.executable,
            "-c",
            "import asyncio, sys\n"
            "from tests.platform.test_writes import _write_until_killed\n"
            "asyncio.run(_write_until_killed(sys.argv[1]))",
            url,
        ],
        cwd=repository,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    acknowledged: list[int] = []
    try:
        while len(acknowledged) < 200:
            line = await asyncio.to_thread(child.stdout.readline)
            assert line, f"the writer ended early (exit {child.poll()})"
            acknowledged.append(int(line))
        child.send_signal(signal.SIGKILL)  # mid-stream: it is writing the next ones
    finally:
        child.kill()
        await asyncio.to_thread(child.wait)
        child.stdout.close()
    assert child.returncode == -signal.SIGKILL
    async with fixture(url) as made:
        stored = [note_id for note_id, _ in await made.notes()]
        async with made.db.unit_of_work(write=False) as session:
            bodies = (await session.execute(select(outbox.table.c.body))).scalars().all()
    announced = sorted(json.loads(body)["payload"]["note_id"] for body in bodies)
    assert set(acknowledged) <= set(stored)
    assert announced == stored
