"""The inbox: idempotent consumers.

:meth:`Inbox.handler` wraps a handler so that it runs in its own unit of work together with the
insert of ``(consumer, event id)`` into the service's ``<service>_inbox`` table. A redelivered event
finds its row and is skipped; a handler that fails leaves no row, so the retry runs it again.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta

import structlog
from sqlalchemy import Column, MetaData, String, Table, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from movieverse.platform.db import Database, UtcDateTime, utcnow
from movieverse.platform.events.bus import Handler
from movieverse.platform.events.envelope import Event

log = structlog.get_logger("movieverse.events.inbox")

SessionHandler = Callable[[AsyncSession, Event], Awaitable[None]]


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

    def handler(self, consumer: str, handle: SessionHandler) -> Handler:
        async def idempotent(event: Event) -> None:
            try:
                async with self.db.unit_of_work() as session:
                    seen = await session.execute(
                        select(self.table.c.event_id).where(
                            self.table.c.consumer == consumer,
                            self.table.c.event_id == str(event.id),
                        )
                    )
                    if seen.first() is not None:
                        log.debug(
                            "event_duplicate_skipped", consumer=consumer, event_id=str(event.id)
                        )
                        return
                    await handle(session, event)
                    await session.execute(
                        self.table.insert().values(
                            consumer=consumer,
                            event_id=str(event.id),
                            event_type=event.type,
                            handled_at=utcnow(),
                        )
                    )
            except IntegrityError:
                # A concurrent delivery of the same event won the race and committed first;
                # ours rolled back entirely, so the effect happened exactly once.
                if not await self.seen(consumer, event):
                    raise

        return idempotent

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
