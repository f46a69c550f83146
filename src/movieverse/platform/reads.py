"""Short reads without a session: the path hot read routes take (issue 18, "Fast paths").

A read through a session on aiosqlite hands every step (BEGIN, the statement, its rows, the
ROLLBACK) to aiosqlite's thread and back. Each handover costs about 0.25 ms of CPU here, so a
movie page read by primary key cost about 1 ms of CPU, of which SQLite's own work was 15 µs.

So on SQLite a read statement runs on the caller's thread -- the event loop's -- through a
plain sqlite3 connection, autocommit and read-only, under a CPU-time budget: past it SQLite
interrupts it (a progress handler) and it runs again the usual way, on aiosqlite's thread,
where SQLite's C code releases the GIL and the loop serves others meanwhile. A lookup by index
finishes far inside the budget; a count over a million rows does not block the loop for longer
than the budget. A read that would have to wait for a lock goes the usual way at once too
(busy timeout 0): WAL readers never wait for the writer, but a checkpoint can hold them briefly.

On a database server a read takes a pooled connection of the async engine: asyncpg and asyncmy
are asynchronous already. Each read is one statement seen at one moment; reads that must agree
with each other belong in one unit of work.
"""

from __future__ import annotations

import math
import sqlite3
import time
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Engine, Row, create_engine, event
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import StaticPool
from sqlalchemy.sql import Executable

# How often (in SQLite virtual machine steps, each a few nanoseconds) SQLite asks whether the
# inline read is over its budget: often enough to stop within a few microseconds of it.
_PROGRESS_STEPS = 1000
# sqlite3's messages for a statement the progress handler stopped and for a lock it met.
_GIVE_WAY_MESSAGES = ("interrupted", "database is locked", "database table is locked")

Params = Mapping[str, Any] | None


class ReadPath:
    """``rows(statement)``: a read statement's rows, by the cheapest path the store allows."""

    def __init__(self, engine: AsyncEngine, *, inline_budget_seconds: float) -> None:
        self._engine = engine
        self._inline = engine.dialect.name == "sqlite" and inline_budget_seconds > 0
        self._budget = inline_budget_seconds
        self._deadline = math.inf
        self._sync_engine: Engine | None = None
        self._connection: Connection | None = None
        # How many reads ran inline and how many gave way to the thread (for tests and metrics).
        self.inline_reads = 0
        self.deferred_reads = 0

    @property
    def dialect(self) -> str:
        return self._engine.dialect.name

    async def rows(self, statement: Executable, params: Params = None) -> Sequence[Row[Any]]:
        if self._inline:
            rows = self._try_inline(statement, params)
            if rows is not None:
                self.inline_reads += 1
                return rows
            self.deferred_reads += 1
        async with self._engine.connect() as connection:
            return (await connection.execute(statement, params)).all()

    async def first(self, statement: Executable, params: Params = None) -> Row[Any] | None:
        found = await self.rows(statement, params)
        return found[0] if found else None

    def _try_inline(self, statement: Executable, params: Params) -> Sequence[Row[Any]] | None:
        """The rows, or None when the read must go the usual way (over budget, or locked)."""
        connection = self._inline_connection()
        self._deadline = time.thread_time() + self._budget
        try:
            return connection.execute(statement, params).all()
        except OperationalError as exc:
            if _gives_way(exc):
                return None
            raise
        finally:
            self._deadline = math.inf
            connection.rollback()  # ends SQLAlchemy's bookkeeping; autocommit holds no snapshot

    def _inline_connection(self) -> Connection:
        if self._connection is None:
            url = self._engine.url.set(drivername="sqlite+pysqlite")
            # One connection, only ever used synchronously by whoever calls: never shared
            # between two reads at once, so the thread check sqlite3 makes would only be in the
            # way of a Database built in one thread and used in another's loop.
            self._sync_engine = create_engine(
                url,
                poolclass=StaticPool,
                isolation_level="AUTOCOMMIT",
                connect_args={"check_same_thread": False, "timeout": 0},
            )
            event.listen(self._sync_engine, "connect", self._prepare)
            self._connection = self._sync_engine.connect()
        return self._connection

    def _prepare(self, dbapi_connection: sqlite3.Connection, _record: object) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA query_only=ON")  # this connection never writes, by construction
        cursor.close()
        dbapi_connection.set_progress_handler(self._over_budget, _PROGRESS_STEPS)

    def _over_budget(self) -> bool:
        # This thread's CPU time, not the wall clock: on a busy machine a read the scheduler
        # paused would otherwise be stopped and run twice for time it never spent.
        return time.thread_time() > self._deadline

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None
        if self._sync_engine is not None:
            self._sync_engine.dispose()
            self._sync_engine = None


def _gives_way(exc: OperationalError) -> bool:
    message = str(exc.orig).lower()
    return any(text in message for text in _GIVE_WAY_MESSAGES)
