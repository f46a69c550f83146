"""Erasing a deleted account's data, and erasing it once more after the dust settles.

A service erases what a user wrote when ``users.user.deleted`` reaches it. A write of that user's
that was already past its token check when the account was deleted can still commit after the
erasure ran -- it is rare (the token is refused everywhere within moments, and the request's unit
of work asks again just before it commits), but "rare" is not "never": on a database server two
transactions can interleave so that neither sees the other. So the erasure leaves a row in the
service's ``<service>_erased_users`` ledger, and a sweeper erases every such user once more when
``grace`` has passed, by which time no request that began before the deletion can still be
writing. The ledger also lets a service check "was this user erased?" without asking anyone.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from uuid import UUID

import structlog
from sqlalchemy import Column, MetaData, Table, Uuid, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from movieverse.platform.db import Database, UtcDateTime, utcnow

if TYPE_CHECKING:
    from movieverse.platform.assembly import ServiceContext

log = structlog.get_logger("movieverse.erasure")

EraseUser = Callable[[AsyncSession, UUID], Awaitable[None]]


def erased_users_table(metadata: MetaData, service: str) -> Table:
    return Table(
        f"{service}_erased_users",
        metadata,
        Column("user_id", Uuid, primary_key=True),
        Column("erased_at", UtcDateTime, nullable=False, index=True),
        # Set once the second, late pass has run.
        Column("swept_at", UtcDateTime, nullable=True),
    )


class ErasureLedger:
    """Runs a service's ``erase`` for deleted users: on the event, and once more after grace."""

    def __init__(
        self,
        *,
        table: Table,
        db: Database,
        erase: EraseUser,
        grace: timedelta,
        user_column: str = "user_id",
        erased_column: str = "erased_at",
    ) -> None:
        self._table = table
        self._db = db
        self._erase = erase
        self._grace = grace
        self._user = table.c[user_column]
        self._erased_at = table.c[erased_column]
        self._swept_at = table.c["swept_at"]

    async def record(self, session: AsyncSession, user_id: UUID) -> None:
        """Note the erasure (idempotent), in the caller's transaction."""
        found = await session.execute(select(self._user).where(self._user == user_id))
        if found.first() is None:
            await session.execute(
                insert(self._table).values(
                    {self._user.key: user_id, self._erased_at.key: utcnow(), "swept_at": None}
                )
            )

    async def erase(self, session: AsyncSession, user_id: UUID) -> None:
        """``users.user.deleted``: record, then erase, in the caller's transaction."""
        await self.record(session, user_id)
        await self._erase(session, user_id)

    async def is_erased(self, session: AsyncSession, user_id: UUID) -> bool:
        found = await session.execute(select(self._user).where(self._user == user_id))
        return found.first() is not None

    async def sweep(self, *, now: datetime | None = None) -> int:
        """Erase once more every user whose grace has passed and who was not swept yet, oldest
        first, each in a unit of work of its own: a user whose erasure fails is logged and left
        for the next round, and the users after them are still swept. Returns how many were."""
        due_before = (now or utcnow()) - self._grace
        async with self._db.unit_of_work(write=False) as session:
            found = await session.execute(
                select(self._user)
                .where(self._swept_at.is_(None), self._erased_at <= due_before)
                .order_by(self._erased_at)
            )
            due = list(found.scalars())
        swept = 0
        for user_id in due:
            try:
                async with self._db.unit_of_work(urgent=True) as session:
                    await self._erase(session, user_id)
                    await session.execute(
                        update(self._table).where(self._user == user_id).values(swept_at=utcnow())
                    )
            except Exception:  # one user's failure must not stall the rest
                log.exception("erasure_sweep_failed", user_id=str(user_id))
                continue
            swept += 1
        if due:
            log.info("erasure_swept", users=swept, failed=len(due) - swept)
        return swept

    async def run(self, *, every: float) -> None:
        """Sweep until cancelled."""
        while True:
            await asyncio.sleep(every)
            try:
                await self.sweep()
            except Exception as exc:  # the rows stay due; the next round tries again
                log.warning("erasure_sweep_failed", error=repr(exc))


def start_sweeping(ledger: ErasureLedger, stack: AsyncExitStack, *, grace_seconds: float) -> None:
    """Sweep in the background until the stack closes: about twice per grace period."""
    task = asyncio.create_task(
        ledger.run(every=min(max(grace_seconds / 2, 1.0), 60.0)), name="erasure-sweeper"
    )

    async def stop() -> None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    stack.push_async_callback(stop)


def erasure_ledger(
    ctx: ServiceContext,
    stack: AsyncExitStack,
    *,
    table: Table,
    erase: EraseUser,
    **columns: str,
) -> ErasureLedger:
    """The service's ledger (its runtime keeps it), sweeping in the background after
    ``MOVIEVERSE_ERASURE_GRACE_SECONDS`` when the service consumes events (servers, not CLI
    tools)."""
    grace_seconds = ctx.platform.erasure_grace_seconds
    ledger = ErasureLedger(
        table=table, db=ctx.db, erase=erase, grace=timedelta(seconds=grace_seconds), **columns
    )
    if ctx.shared.consume:
        start_sweeping(ledger, stack, grace_seconds=grace_seconds)
    return ledger
