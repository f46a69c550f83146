"""The transactional outbox and its relay.

A service writes its events into its own ``<service>_outbox`` table in the same transaction as the
change, so an event exists if and only if the change committed. The relay publishes pending rows
in insertion order after commit and marks them published only once the bus accepted them; a crash
in between publishes them again (at-least-once), which consumers absorb through their inbox.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import hashlib
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from functools import cache

import structlog
from prometheus_client import Counter, Gauge
from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    delete,
    func,
    select,
    text,
    update,
)
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession

from movieverse.contracts.envelope import Event
from movieverse.platform.db import Database, UtcDateTime, utcnow
from movieverse.platform.events.bus import EventBus
from movieverse.platform.observability import process_registry
from movieverse.platform.prepared import Prepared
from movieverse.platform.writes import OUTBOX_WRITTEN

log = structlog.get_logger("movieverse.events.outbox")


def outbox_table(metadata: MetaData, service: str) -> Table:
    return Table(
        f"{service}_outbox",
        metadata,
        # An integer sequence gives the publishing order; the event id is what consumers see.
        Column("seq", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True),
        Column("event_id", String(36), nullable=False, unique=True),
        Column("topic", String(120), nullable=False),
        Column("event_key", String(200), nullable=False),
        Column("body", Text, nullable=False),
        Column("created_at", UtcDateTime, nullable=False),
        Column("published_at", UtcDateTime, nullable=True, index=True),
        Column("attempts", Integer, nullable=False, default=0),
        Column("last_error", String(500), nullable=True),
    )


@dataclass(frozen=True)
class _OutboxMetrics:
    published: Counter
    pending: Gauge


@cache
def _outbox_metrics() -> _OutboxMetrics:
    registry = process_registry()
    return _OutboxMetrics(
        published=Counter(
            "movieverse_outbox_published",
            "Events the relay published",
            ["service"],
            registry=registry,
        ),
        pending=Gauge(
            "movieverse_outbox_pending",
            "Events waiting in the outbox at the relay's last pass",
            ["service"],
            registry=registry,
        ),
    )


class Outbox:
    def __init__(self, table: Table, *, service: str) -> None:
        self.table = table
        self.service = service
        self._insert = Prepared(table.insert())  # the write path's staging (add_sync)

    async def add(self, session: AsyncSession, *events: Event) -> None:
        """Stage events in the caller's transaction; they exist only if it commits."""
        if not events:
            return
        await session.execute(self.table.insert(), self._rows(events))
        session.info[OUTBOX_WRITTEN] = True

    def add_sync(self, connection: Connection, *events: Event) -> None:
        """:meth:`add` for a write on the write path (platform/writes.py), which wakes the
        relay after its commit."""
        if not events:
            return
        self._insert.execute_many(connection, self._rows(events))
        connection.info[OUTBOX_WRITTEN] = True

    @staticmethod
    def _rows(events: Sequence[Event]) -> list[dict[str, object]]:
        now = utcnow()
        return [
            {
                "event_id": str(e.id),
                "topic": e.topic,
                "event_key": e.key,
                "body": e.model_dump_json(),
                "created_at": now,
                "attempts": 0,
            }
            for e in events
        ]

    async def pending_count(self, session: AsyncSession) -> int:
        stmt = (
            select(func.count()).select_from(self.table).where(self.table.c.published_at.is_(None))
        )
        return int((await session.execute(stmt)).scalar_one())


def _lock_key(name: str) -> int:
    """A stable signed 64-bit key for PostgreSQL advisory locks."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


@asynccontextmanager
async def relay_leadership(db: Database, service: str) -> AsyncIterator[bool]:
    """Yield whether this process may publish ``service``'s outbox right now.

    Several processes of one service (the distributed shape) each run a relay. If two published
    the same pending rows at once, events would go out twice and, worse, out of order per key.
    One relay at a time holds a lock for its pass: an advisory lock on PostgreSQL, a named lock on
    MySQL/MariaDB, a file lock beside an SQLite database. The others skip the pass.
    """
    name = f"movieverse-outbox-{service}"
    if db.dialect == "sqlite":
        database = make_url(db.url).database or ""
        with open(f"{database}.relay-lock", "a+b") as handle:  # noqa: ASYNC230 -- local file
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                yield False
                return
            try:
                yield True
            finally:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
        return
    if db.dialect == "postgresql":
        acquire = text("select pg_try_advisory_lock(:key)").bindparams(key=_lock_key(name))
        release = text("select pg_advisory_unlock(:key)").bindparams(key=_lock_key(name))
    else:
        acquire = text("select get_lock(:name, 0)").bindparams(name=name)
        release = text("select release_lock(:name)").bindparams(name=name)
    async with db.plumbing.connect() as conn:
        held = bool((await conn.execute(acquire)).scalar())
        await conn.commit()
        try:
            yield held
        finally:
            if held:
                await conn.execute(release)
                await conn.commit()


async def _end_task(task: asyncio.Task[None], *, grace: float) -> None:
    """Wait up to ``grace`` for ``task`` to end by itself, then cancel it; never wait unbounded
    (a task that ignores its cancellation is logged and left behind, not waited on forever)."""
    if grace > 0:
        await asyncio.wait({task}, timeout=grace)
    if not task.done():
        task.cancel()
        await asyncio.wait({task}, timeout=max(grace, 1.0))
    if not task.done():
        log.error("outbox_relay_stuck", task=task.get_name())
    elif not task.cancelled() and task.exception() is not None:
        log.warning("outbox_relay_failed", task=task.get_name(), error=repr(task.exception()))


class OutboxRelay:
    """Publishes a service's outbox to the bus: woken after commits, polling as a safety net."""

    def __init__(
        self,
        *,
        outbox: Outbox,
        db: Database,
        bus: EventBus,
        poll_seconds: float = 1.0,
        batch_size: int = 100,
        linger_seconds: float = 0.0,
        retention: timedelta = timedelta(days=1),
        gate: asyncio.Event | None = None,
    ) -> None:
        self.outbox = outbox
        self.db = db
        self.bus = bus
        self.poll_seconds = poll_seconds
        self.batch_size = batch_size
        self.linger_seconds = linger_seconds
        self.retention = retention
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._metrics = _outbox_metrics()
        self._pass_lock = asyncio.Lock()
        # Publishing waits until the gate opens (every in-process consumer has subscribed).
        self._gate = gate
        db.after_commit_hooks.append(self.wake)

    def wake(self) -> None:
        self._wake.set()

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(
                self._run(), name=f"outbox-relay-{self.outbox.service}"
            )

    async def stop(self, *, flush_timeout: float = 10.0) -> None:
        """Stop polling, then publish whatever is still pending (graceful shutdown)."""
        self._stopping = True
        self._wake.set()
        started = self._gate is None or self._gate.is_set()
        if self._task is not None:
            # A pass in progress is let finish: cut mid-statement it would leave its connection,
            # and in process a consumer's handler, half way, and deliver its batch twice. Only a
            # pass that outlasts the grace (or a relay still waiting for its gate) is cancelled.
            await _end_task(self._task, grace=flush_timeout if started else 0.0)
            self._task = None
        if not started:
            return  # start-up never completed: leave the events for the next run
        try:
            await asyncio.wait_for(self.flush(), timeout=flush_timeout)
        except Exception as exc:
            log.warning("outbox_flush_incomplete", service=self.outbox.service, error=repr(exc))

    async def flush(self) -> int:
        """Publish until nothing is pending (or the bus refuses); how many went out."""
        published = 0
        while True:
            passed = await self.publish_pending()
            published += passed
            if passed < self.batch_size:
                return published

    async def _run(self) -> None:
        if self._gate is not None:
            await self._gate.wait()
        while not self._stopping:
            published = 0
            try:
                published = await self.flush()
            except Exception as exc:
                log.warning("outbox_relay_error", service=self.outbox.service, error=repr(exc))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self.poll_seconds)
            # Busy (the last pass carried several events and commits keep coming): let the
            # next ones gather. After a quiet spell the first event goes out at once.
            busy = published > 1 and self._wake.is_set()
            if self.linger_seconds and busy and not self._stopping:
                await asyncio.sleep(self.linger_seconds)
            self._wake.clear()

    async def publish_pending(self) -> int:
        """One pass: publish up to ``batch_size`` pending events in order; returns how many.

        No transaction is held while publishing: in-process consumers write to their own stores
        (possibly the same SQLite file), and a long transaction here would block them.
        """
        table = self.outbox.table
        async with self._pass_lock, relay_leadership(self.db, self.outbox.service) as leader:
            if not leader:
                return 0
            async with self.db.unit_of_work(write=False, urgent=True) as session:
                stmt = (
                    select(table.c.seq, table.c.body, table.c.attempts)
                    .where(table.c.published_at.is_(None))
                    .order_by(table.c.seq)
                    .limit(self.batch_size)
                )
                rows = (await session.execute(stmt)).all()
            if not rows:
                self._metrics.pending.labels(self.outbox.service).set(0)
                return 0
            # Parsed and checked in one step by pydantic's own JSON parser: json.loads then
            # model_validate built every body's dicts twice (a relay pass carries ~100 events).
            events = [Event.model_validate_json(body) for _, body, _ in rows]
            try:
                # The whole batch in order; a broker confirms it in one round of acknowledgements.
                await self.bus.publish_many(events)
            except Exception as exc:
                # Nothing is marked: the batch goes again, in order, on the next pass (what the
                # bus did accept is delivered twice, and the consumers' inboxes absorb that).
                seq, _, attempts = rows[0]
                await self._mark(seq, attempts=attempts + 1, error=repr(exc)[:500])
                log.warning(
                    "outbox_publish_failed",
                    service=self.outbox.service,
                    event_id=str(events[0].id),
                    batch=len(events),
                    error=repr(exc),
                )
                self._metrics.pending.labels(self.outbox.service).set(len(rows))
                return 0
            await self._mark_published([seq for seq, _, _ in rows])
            self._metrics.published.labels(self.outbox.service).inc(len(rows))
            self._metrics.pending.labels(self.outbox.service).set(0)
            return len(rows)

    async def _mark_published(self, seqs: list[int]) -> None:
        table = self.outbox.table
        async with self.db.unit_of_work(urgent=True) as session:
            await session.execute(
                update(table)
                .where(table.c.seq.in_(seqs))
                .values(published_at=utcnow(), attempts=table.c.attempts + 1, last_error=None)
            )

    async def _mark(self, seq: int, *, attempts: int, error: str | None) -> None:
        table = self.outbox.table
        values: dict[str, object] = {"attempts": attempts, "last_error": error}
        if error is None:
            values["published_at"] = utcnow()
        async with self.db.unit_of_work(urgent=True) as session:
            await session.execute(update(table).where(table.c.seq == seq).values(**values))

    async def prune(self) -> None:
        """Forget published events older than the retention (kept a while for inspection)."""
        cutoff = utcnow() - self.retention
        table = self.outbox.table
        async with self.db.unit_of_work() as session:
            await session.execute(
                delete(table).where(
                    table.c.published_at.is_not(None), table.c.published_at < cutoff
                )
            )
