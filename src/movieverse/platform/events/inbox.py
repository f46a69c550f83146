"""The inbox: idempotent consumers.

:meth:`Inbox.handler` wraps a handler so that it runs in its own unit of work together with the
insert of ``(consumer, event id)`` into the service's ``<service>_inbox`` table. A redelivered event
finds its row and is skipped; a handler that fails leaves no row, so the retry runs it again.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable, Sequence
from datetime import timedelta

import structlog
from sqlalchemy import Column, MetaData, String, Table, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from movieverse.contracts.envelope import Event
from movieverse.platform.db import Database, UtcDateTime, utcnow

log = structlog.get_logger("movieverse.events.inbox")

SessionHandler = Callable[[AsyncSession, Event], Awaitable[None]]
# Handles several events at once in one session: the fresh ones of a batch, in delivery order.
SessionBatchHandler = Callable[[AsyncSession, Sequence[Event]], Awaitable[None]]


def inbox_table(metadata: MetaData, service: str) -> Table:
    return Table(
        f"{service}_inbox",
        metadata,
        Column("consumer", String(100), primary_key=True),
        Column("event_id", String(36), primary_key=True),
        Column("event_type", String(120), nullable=False),
        Column("handled_at", UtcDateTime, nullable=False),
    )


class Inbox:
    def __init__(self, table: Table, *, db: Database) -> None:
        self.table = table
        self.db = db

    def handler(
        self,
        consumer: str,
        handle: SessionHandler,
        *,
        latest_wins: Callable[[Event], Hashable] | None = None,
    ) -> IdempotentHandler:
        """``latest_wins`` names the state an event carries whole (a movie's rating totals): in a
        batch, only the last event of each such key is applied, the earlier ones are recorded as
        handled -- what applying them in turn would have left is the same."""

        async def one_by_one(session: AsyncSession, events: Sequence[Event]) -> None:
            for event in events:
                await handle(session, event)

        return IdempotentHandler(self, consumer, one_by_one, latest_wins=latest_wins)

    def batch_handler(
        self,
        consumer: str,
        handle_many: SessionBatchHandler,
        *,
        latest_wins: Callable[[Event], Hashable] | None = None,
    ) -> IdempotentHandler:
        """Like :meth:`handler`, but ``handle_many`` gets a batch's events not handled yet all at
        once: a hot consumer can read and write them in a few statements instead of a few per
        event (a movie page's ratings: one read of every movie touched, one write)."""
        return IdempotentHandler(self, consumer, handle_many, latest_wins=latest_wins)

    async def prune(self, *, older_than: timedelta) -> None:
        """Forget handled ids past the window in which a broker could redeliver them."""
        cutoff = utcnow() - older_than
        async with self.db.unit_of_work() as session:
            await session.execute(delete(self.table).where(self.table.c.handled_at < cutoff))

    async def seen(self, consumer: str, event: Event) -> bool:
        async with self.db.unit_of_work(write=False) as session:
            row = await session.execute(
                select(self.table.c.event_id).where(
                    self.table.c.consumer == consumer, self.table.c.event_id == str(event.id)
                )
            )
            return row.first() is not None


class IdempotentHandler:
    """A consumer's handler behind the inbox: one event (``__call__``) or a batch (``many``),
    each in one unit of work with the inbox rows that mark the events handled."""

    def __init__(
        self,
        inbox: Inbox,
        consumer: str,
        handle_many: SessionBatchHandler,
        *,
        latest_wins: Callable[[Event], Hashable] | None = None,
    ) -> None:
        self.inbox = inbox
        self.consumer = consumer
        self.handle_many = handle_many
        self.latest_wins = latest_wins

    def _superseded(self, events: Sequence[Event]) -> set[int]:
        """Positions of events a later event of the same ``latest_wins`` key makes moot."""
        if self.latest_wins is None:
            return set()
        last: dict[Hashable, int] = {}
        for position, event in enumerate(events):
            last[self.latest_wins(event)] = position
        kept = set(last.values())
        return {position for position in range(len(events)) if position not in kept}

    async def __call__(self, event: Event) -> None:
        await self.many([event])

    async def many(self, events: Sequence[Event]) -> None:
        """Handle the events not handled yet, in order, in one transaction: a batch costs one
        commit (and on SQLite one turn at the write lock) instead of one per event. If any
        handler raises, nothing of the batch is kept."""
        table = self.inbox.table
        consumer = self.consumer
        try:
            async with self.inbox.db.unit_of_work(urgent=True) as session:
                ids = [str(e.id) for e in events]
                seen = set(
                    (
                        await session.execute(
                            select(table.c.event_id).where(
                                table.c.consumer == consumer, table.c.event_id.in_(ids)
                            )
                        )
                    ).scalars()
                )
                # One time for the batch: its rows are written by one transaction.
                now = utcnow()
                handled: list[dict[str, object]] = []
                fresh: list[Event] = []
                superseded = self._superseded(events)
                for position, (event, event_id) in enumerate(zip(events, ids, strict=True)):
                    if event_id in seen:
                        log.debug("event_duplicate_skipped", consumer=consumer, event_id=event_id)
                        continue
                    if position not in superseded:
                        fresh.append(event)
                    seen.add(event_id)  # a batch may hold the same event twice
                    handled.append(
                        {
                            "consumer": consumer,
                            "event_id": event_id,
                            "event_type": event.type,
                            "handled_at": now,
                        }
                    )
                if fresh:
                    await self.handle_many(session, fresh)
                if handled:
                    await session.execute(table.insert(), handled)
        except IntegrityError:
            # A concurrent delivery of the same events won the race and committed first; ours
            # rolled back entirely, so each effect happened exactly once.
            if not all([await self.inbox.seen(self.consumer, e) for e in events]):
                raise
