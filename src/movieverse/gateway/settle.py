"""Delivering what an import staged, before the server answers anyone.

An import writes its events to the services' outboxes and leaves them for the server (the
command has no consumers). On a fresh install that is thousands of events -- a movie created,
its people, its credits -- that the search index, the recommenders and the other copies must
take in. If the server started with them pending, the first user would wait behind them: their
first rating took ~13 s to reach the movie's totals while the consumers worked through the demo
import. So ``movieverse demo-data`` runs every service here, without HTTP, until no outbox holds
anything (handlers' own follow-up events included), and only then does ``make run`` serve.

If the outboxes stop emptying (a broker that went away after the start), it does not wait for
ever: after ``STALL_SECONDS`` without progress it says so and returns, and the server delivers
the rest once it can.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from movieverse.gateway.app import Gateway, create_gateway
from movieverse.platform.db import utcnow
from movieverse.platform.settings import PlatformSettings
from movieverse.services.ai.settings import AiSettings

POLL_SECONDS = 0.5
REPORT_EVERY_SECONDS = 5.0
STALL_SECONDS = 60.0


@dataclass(frozen=True)
class Settled:
    events_delivered: int
    seconds: float
    left_pending: int = 0


async def pending_events(gateway: Gateway) -> int:
    total = 0
    for app in gateway.services.values():
        ctx = app.state.ctx
        async with ctx.db.unit_of_work(write=False) as session:
            total += await ctx.outbox.pending_count(session)
    return total


async def published_since(gateway: Gateway, since: datetime) -> int:
    """Events the relays published from ``since`` on: what this run delivered (the relays start
    publishing while the services start, before anything here could count what was pending)."""
    total = 0
    for app in gateway.services.values():
        ctx = app.state.ctx
        table = ctx.outbox.table
        async with ctx.db.unit_of_work(write=False) as session:
            found = await session.execute(
                select(func.count()).select_from(table).where(table.c.published_at >= since)
            )
            total += int(found.scalar_one())
    return total


async def until_outboxes_empty(
    count_pending: Callable[[], Awaitable[int]],
    *,
    say: Callable[[str], None],
    poll_seconds: float = POLL_SECONDS,
    stall_seconds: float = STALL_SECONDS,
) -> int:
    """Poll until nothing is pending twice in a row (a handler's own events land in its outbox
    after the batch that caused them), or until ``stall_seconds`` pass without the count going
    down; returns what is still pending (0 when settled)."""
    pending = await count_pending()
    if pending:
        say(f"delivering the events an import staged before serving ({pending} to go)")
    empty_polls = 0
    last_report = progress_at = time.monotonic()
    lowest = pending
    while empty_polls < 2:
        await asyncio.sleep(poll_seconds)
        pending = await count_pending()
        empty_polls = empty_polls + 1 if pending == 0 else 0
        now = time.monotonic()
        if pending < lowest:
            lowest, progress_at = pending, now
        elif pending and now - progress_at >= stall_seconds:
            say(
                f"{pending} staged events are not being delivered (no progress in "
                f"{stall_seconds:.0f} s); serving anyway, they follow once they can"
            )
            return pending
        if pending and now - last_report >= REPORT_EVERY_SECONDS:
            say(f"{pending} events still to deliver")
            last_report = now
    return 0


async def settle_staged_events(
    settings: PlatformSettings, *, say: Callable[[str], None] = lambda _: None
) -> Settled:
    """Run the services until every outbox is empty (or delivery stalls)."""
    # No training here: the server trains at its own start, on what this delivered.
    gateway = create_gateway(settings, service_overrides={"ai": AiSettings(train_on_start=False)})
    started, since = time.monotonic(), utcnow()
    async with gateway.edge.router.lifespan_context(gateway.edge):
        left = await until_outboxes_empty(lambda: pending_events(gateway), say=say)
        delivered = await published_since(gateway, since)
    return Settled(
        events_delivered=delivered, seconds=time.monotonic() - started, left_pending=left
    )
