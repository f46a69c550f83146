"""Short write transactions without a session: the path the hottest writes take (issue 18,
"Fast paths").

A write through a session on aiosqlite hands every step to aiosqlite's thread and back: the
BEGIN, each statement three times (a cursor, the execution, its rows or its close), the COMMIT.
A handover costs 0.15-0.25 ms of CPU here, so a rating write of five statements cost about 3 ms
of CPU, of which SQLite's own work was about 0.1 ms.

So on SQLite a write runs on the event loop's thread, through a plain sqlite3 connection of its
own, in one transaction (BEGIN IMMEDIATE ... COMMIT) that no ``await`` interrupts. It first
takes this process's turn at the write lock (db.py's writer turns, the queue every session
writer of the process waits in), so it never meets another writer of this process at the lock,
and holds the lock only for the fraction of a millisecond its statements take. A writer of
another process (a CLI import) makes its BEGIN fail at once (busy timeout 0): the write then
goes the usual way, in a unit of work whose connection waits under busy_timeout on aiosqlite's
thread.

On a database server the write runs in a unit of work through ``AsyncSession.run_sync``:
asyncpg and asyncmy are asynchronous already, each statement one round trip. Either way a write
is one function of a synchronous SQLAlchemy ``Connection``, written once for every store.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar, cast

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session
from sqlalchemy.pool import StaticPool

from movieverse.platform.prepared import INLINE_SQLITE

if TYPE_CHECKING:  # db.py builds the write path of every Database (db.writes)
    from movieverse.platform.db import Database

T = TypeVar("T")
# Set in Connection.info by what stages events in the outbox (Outbox.add_sync), so that the
# relay is woken after the commit. The unit of work reads the same key in Session.info.
OUTBOX_WRITTEN = "outbox_written"
# sqlite3's messages when another connection holds the lock and the busy timeout (0) ran out.
_LOCKED_MESSAGES = ("database is locked", "database table is locked")

Work = Callable[[Connection], T]
BeforeCommit = Callable[[], None]


class _LockedElsewhere(Exception):
    """The inline transaction met another process's writer; it rolled back, nothing was kept."""


class WritePath:
    """``await writes.run(work)``: ``work(connection)`` in a transaction of its own, committed
    once it returns and ``before_commit`` (a last check that may still refuse) has passed, and
    rolled back if either raises."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._inline = db.dialect == "sqlite"
        self._sync_engine: Engine | None = None
        self._connection: Connection | None = None
        # Writes that ran inline and writes that went through a session (tests, diagnostics).
        self.inline_writes = 0
        self.session_writes = 0

    async def run(self, work: Work[T], *, before_commit: BeforeCommit | None = None) -> T:
        if self._inline:
            try:
                # db.py keeps its writer turns to itself; a session writer waits in the same
                # queue, and that is what makes the two kinds of writer take turns.
                async with self._db._write_turn(True, False):
                    result, staged = self._inline_write(work, before_commit)
            except _LockedElsewhere:
                pass  # another process writes: wait for it the usual way
            else:
                self.inline_writes += 1
                if staged:
                    for hook in self._db.after_commit_hooks:
                        hook()
                return result
        self.session_writes += 1
        return await self._session_write(work, before_commit)

    def _inline_write(self, work: Work[T], before_commit: BeforeCommit | None) -> tuple[T, bool]:
        connection = self._writer()
        try:
            with connection.begin():
                result = work(connection)
                if before_commit is not None:
                    before_commit()
            return result, bool(connection.info.pop(OUTBOX_WRITTEN, False))
        except BaseException as exc:
            connection.info.pop(OUTBOX_WRITTEN, None)
            self._end_leftover_transaction(connection)
            if isinstance(exc, OperationalError) and _locked(exc):
                raise _LockedElsewhere from exc
            raise

    def _end_leftover_transaction(self, connection: Connection) -> None:
        """A COMMIT that fails (a deferred constraint, a full disk, an I/O error) leaves
        sqlite3's transaction open while SQLAlchemy counts it as ended: it would keep the write
        lock, and every later writer of the file would wait for it in vain."""
        try:
            raw = cast("sqlite3.Connection | None", connection.connection.dbapi_connection)
            if raw is not None and raw.in_transaction:
                raw.rollback()
        except Exception:
            self.close()  # closing the connection ends its transaction; the next write opens one

    async def _session_write(self, work: Work[T], before_commit: BeforeCommit | None) -> T:
        async with self._db.unit_of_work() as session:
            result = await in_session(session, work)
            if before_commit is not None:
                before_commit()
        return result

    def _writer(self) -> Connection:
        if self._connection is None:
            url = self._db.engine.url.set(drivername="sqlite+pysqlite")
            # One connection, only ever used by one write at a time (a write never awaits), so
            # sqlite3's thread check would only be in the way of a Database built in one thread
            # and used in another's loop.
            engine = create_engine(
                url,
                poolclass=StaticPool,
                connect_args={"check_same_thread": False, "timeout": 0},
            )
            event.listen(engine, "connect", _prepare)
            event.listen(engine, "begin", _begin_immediate)
            self._sync_engine = engine
            self._connection = engine.connect()
            # Prepared statements (prepared.py) run on it directly.
            self._connection.info[INLINE_SQLITE] = self._connection.connection.driver_connection
        return self._connection

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None
        if self._sync_engine is not None:
            self._sync_engine.dispose()
            self._sync_engine = None


async def in_session(session: AsyncSession, work: Work[T]) -> T:
    """Run a write-path function within a unit of work already open (a consumer's, a job's),
    as part of its transaction."""
    return await session.run_sync(_on_session_connection, work)


def _on_session_connection(session: Session, work: Work[T]) -> T:
    connection = session.connection()
    try:
        return work(connection)
    finally:
        # The unit of work wakes the relay after its commit when the session says so.
        if connection.info.pop(OUTBOX_WRITTEN, False):
            session.info[OUTBOX_WRITTEN] = True


def _locked(exc: OperationalError) -> bool:
    message = str(exc.orig).lower()
    return any(text in message for text in _LOCKED_MESSAGES)


def _prepare(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
    # SQLAlchemy, through the "begin" event, says when a transaction begins, not sqlite3.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    # As every connection of the service's database (db.py), except for two settings. With
    # synchronous=NORMAL a commit is in the log file when COMMIT returns, so an acknowledged
    # write survives the process's crash; only a power cut may lose the last ones, as with db.py.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    # A checkpoint writes the log back into the database file and syncs it: tens of
    # milliseconds that must not stall the event loop. The service's session connections
    # (the relay marking each batch published, at the least) checkpoint on their thread.
    cursor.execute("PRAGMA wal_autocheckpoint=0")
    cursor.close()


def _begin_immediate(connection: Connection) -> None:
    # The write lock up front: the transaction never waits half-way. Straight to sqlite3: the
    # statement needs nothing of SQLAlchemy's execution, which would cost it three times more.
    raw = cast("sqlite3.Connection", connection.info[INLINE_SQLITE])
    try:
        raw.execute("BEGIN IMMEDIATE")
    except sqlite3.Error as exc:
        raise DBAPIError.instance("BEGIN IMMEDIATE", (), exc, sqlite3.Error) from exc
