"""Relational storage: engines, the unit of work, portable column types, and migrations.

The entrypoint owns the transaction (DESIGN rule 2): :func:`unit_of_work` commits when the block
ends cleanly and rolls back otherwise; services and repositories only ``flush``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import structlog
from sqlalchemy import DateTime, TypeDecorator, event, text
from sqlalchemy.dialects import mysql
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.types import TypeEngine

from movieverse.platform.reads import ReadPath
from movieverse.platform.settings import PlatformSettings
from movieverse.platform.writer_turns import WriterTurns
from movieverse.platform.writes import WritePath

# How long a SQLite writer waits for its turn before giving up (as busy_timeout does).
SQLITE_BUSY_SECONDS = 30

# Drivers the project ships, so plain URLs (postgresql://, mysql://, sqlite://) just work.
_ASYNC_DRIVERS = {
    "postgresql": "postgresql+asyncpg",
    "postgres": "postgresql+asyncpg",
    "mysql": "mysql+asyncmy",
    "mariadb": "mysql+asyncmy",
    "sqlite": "sqlite+aiosqlite",
}


def normalise_url(url: str) -> str:
    """Pick our async driver for a URL given without one."""
    scheme, sep, rest = url.partition("://")
    if sep and "+" not in scheme and scheme in _ASYNC_DRIVERS:
        return f"{_ASYNC_DRIVERS[scheme]}://{rest}"
    return url


def ensure_sqlite_directory(url: str) -> None:
    parsed = make_url(normalise_url(url))
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        Path(str(parsed.database)).parent.mkdir(parents=True, exist_ok=True)


def redact_url(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC instants on every backend (SQLite and MySQL drop the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name in {"mysql", "mariadb"}:
            # MySQL's DATETIME keeps whole seconds unless asked for microseconds.
            return dialect.type_descriptor(mysql.DATETIME(fsp=6))
        return dialect.type_descriptor(DateTime(timezone=True))

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; use timezone-aware UTC")
        value = value.astimezone(UTC)
        if dialect.name in {"sqlite", "mysql", "mariadb"}:
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


_AFTER_COMMIT = "movieverse_after_commit"
log = structlog.get_logger("movieverse.db")


def after_commit(session: AsyncSession, callback: Callable[[], Awaitable[None]]) -> None:
    """Run ``callback`` once the session's unit of work has committed (never on rollback).

    For effects outside the database that must not run early -- dropping a cache entry before
    the commit would let a concurrent reader cache the old row again.
    """
    session.info.setdefault(_AFTER_COMMIT, []).append(callback)


@dataclass
class StoreStatus:
    name: str
    url: str
    reachable: bool
    latency_ms: float | None
    version: str | None
    error: str | None = None


class Database:
    """An async engine and its session factory for one service.

    On a database server the event plumbing (outbox relay, inbox consumers) has a small pool of
    its own, ``plumbing``: under load hundreds of requests queue for the main pool's connections,
    and a relay queued behind them would publish seconds late -- every event's lag would grow
    with the request backlog.
    """

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        url: str,
        plumbing: AsyncEngine | None = None,
        inline_read_budget_seconds: float = 0.0,
    ) -> None:
        self.engine = engine
        self.url = url
        # Hot read routes' statements without a session (reads.py).
        self.reads = ReadPath(engine, inline_budget_seconds=inline_read_budget_seconds)
        self.plumbing = plumbing or engine
        self.sessionmaker = async_sessionmaker(engine, expire_on_commit=False, autoflush=True)
        self._plumbing_sessionmaker = (
            async_sessionmaker(plumbing, expire_on_commit=False, autoflush=True)
            if plumbing is not None
            else self.sessionmaker
        )
        self.dialect = engine.dialect.name
        # Called after every successful commit that wrote to the outbox (wakes the relay).
        self.after_commit_hooks: list[Callable[[], None]] = []
        # Writers of this process take turns at SQLite's one write lock (see writer_turns.py).
        self._sqlite_writer = WriterTurns() if self.dialect == "sqlite" else None
        # Hot writes' short transactions (writes.py); its SQLite connection opens on first use.
        self.writes = WritePath(self)

    @classmethod
    def connect(cls, url: str, settings: PlatformSettings) -> Database:
        url = normalise_url(url)
        parsed = make_url(url)
        kwargs: dict[str, Any] = {"echo": settings.db_echo}
        if parsed.get_backend_name() == "sqlite":
            if parsed.database in (None, "", ":memory:"):
                raise ValueError("in-memory SQLite is per-connection; use a file URL")
            ensure_sqlite_directory(url)
            kwargs["connect_args"] = {"timeout": SQLITE_BUSY_SECONDS}
        else:
            kwargs.update(
                pool_size=settings.db_pool_size,
                max_overflow=settings.db_max_overflow,
                pool_recycle=settings.db_pool_recycle_seconds,
                pool_pre_ping=True,
            )
        engine = create_async_engine(url, **kwargs)
        if parsed.get_backend_name() == "sqlite":
            event.listen(engine.sync_engine, "connect", _sqlite_connect)
            event.listen(engine.sync_engine, "begin", _sqlite_begin)
            # One file, one write lock: the writer turns give the plumbing its priority there.
            return cls(
                engine,
                url=url,
                inline_read_budget_seconds=settings.db_sqlite_inline_read_ms / 1000,
            )
        kwargs.update(
            pool_size=settings.db_plumbing_pool_size,
            max_overflow=settings.db_plumbing_max_overflow,
        )
        return cls(engine, url=url, plumbing=create_async_engine(url, **kwargs))

    @asynccontextmanager
    async def unit_of_work(
        self, *, write: bool = True, urgent: bool = False
    ) -> AsyncIterator[AsyncSession]:
        """A session whose work is committed if the block succeeds and rolled back otherwise.

        ``write=False`` is a promise that the block only reads; on SQLite that lets it run beside
        the writer instead of queueing for the write lock. ``urgent`` work (the event plumbing)
        goes before waiting requests: ahead of them at SQLite's write lock, and on its own pool on
        a database server.
        """
        sessions = self._plumbing_sessionmaker if urgent else self.sessionmaker
        async with self._write_turn(write, urgent), sessions() as session:
            try:
                if write and self.dialect == "sqlite":
                    await session.connection(execution_options={_SQLITE_BEGIN: "IMMEDIATE"})
                yield session
                await session.commit()
            except BaseException:
                await session.rollback()
                raise
        if session.info.pop("outbox_written", False):
            for hook in self.after_commit_hooks:
                hook()
        for callback in session.info.pop(_AFTER_COMMIT, ()):
            try:
                await callback()
            except Exception as exc:  # the write is committed; a failed follow-up must not undo it
                log.warning("after_commit_failed", error=repr(exc))

    @asynccontextmanager
    async def _write_turn(self, write: bool, urgent: bool) -> AsyncIterator[None]:
        if not write or self._sqlite_writer is None:
            yield
            return
        try:
            async with asyncio.timeout(SQLITE_BUSY_SECONDS):
                await self._sqlite_writer.acquire(urgent=urgent)
        except TimeoutError:
            # What the file lock would say after busy_timeout: a writer held it far too long.
            raise OperationalError(
                "BEGIN IMMEDIATE", None, Exception("database is locked")
            ) from None
        try:
            yield
        finally:
            self._sqlite_writer.release()

    async def status(self, name: str) -> StoreStatus:
        started = time.perf_counter()
        try:
            async with self.engine.connect() as conn:
                version = await conn.run_sync(_server_version)
        except Exception as exc:  # any driver error means "not reachable" for health checks
            return StoreStatus(
                name=name,
                url=redact_url(self.url),
                reachable=False,
                latency_ms=None,
                version=None,
                error=type(exc).__name__,
            )
        return StoreStatus(
            name=name,
            url=redact_url(self.url),
            reachable=True,
            latency_ms=round((time.perf_counter() - started) * 1000, 2),
            version=version,
        )

    async def dispose(self) -> None:
        self.reads.close()
        self.writes.close()
        await self.engine.dispose()
        if self.plumbing is not self.engine:
            await self.plumbing.dispose()


def _server_version(sync_conn: Any) -> str:
    dialect = sync_conn.dialect.name
    if dialect == "sqlite":
        return "SQLite " + str(sync_conn.execute(text("select sqlite_version()")).scalar())
    if dialect == "postgresql":
        return str(sync_conn.execute(text("show server_version")).scalar()).join(
            ("PostgreSQL ", "")
        )
    return str(sync_conn.execute(text("select version()")).scalar())


_SQLITE_BEGIN = "movieverse_sqlite_begin"


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin (see _sqlite_begin).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    # WAL lets readers and the single writer proceed together; busy_timeout waits out writers.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_SECONDS * 1000}")
    cursor.close()


def _sqlite_begin(conn: Any) -> None:
    # A writing transaction takes the write lock up front (BEGIN IMMEDIATE) and so waits its turn
    # under busy_timeout. A deferred one that reads first and writes later would instead fail at
    # once with SQLITE_BUSY when another writer committed in between.
    mode = conn.get_execution_options().get(_SQLITE_BEGIN, "DEFERRED")
    conn.exec_driver_sql(f"BEGIN {mode}")
