"""Delivering what an import staged, before the server answers anyone.

An import writes its events to the services' outboxes and leaves them for the server (the
command has no consumers). On a fresh install that is thousands of events -- a movie created,
its people, its credits -- that the search index, the recommenders and the other copies must
take in. If the server started with them pending, the first user would wait behind them: their
first rating took ~13 s to reach the movie's totals while the consumers worked through the demo
import. So ``movieverse demo-data`` runs every service here, without HTTP, until no outbox holds
anything (handlers' own follow-up events included), and only then does ``make run`` serve.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from movieverse.gateway.app import Gateway, create_gateway
from movieverse.platform.db import utcnow
from movieverse.platform.settings import PlatformSettings
from movieverse.services.ai.settings import AiSettings

POLL_SECONDS = 0.5
REPORT_EVERY_SECONDS = 5.0


@dataclass(frozen=True)
class Settled:
    events_delivered: int
    seconds: float


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


async def settle_staged_events(
    settings: PlatformSettings, *, say: Callable[[str], None] = lambda _: None
) -> Settled:
    """Run the services until every outbox is empty twice in a row (a handler's own events
    land in its outbox after the batch that caused them)."""
    # No training here: the server trains at its own start, on what this delivered.
    gateway = create_gateway(settings, service_overrides={"ai": AiSettings(train_on_start=False)})
    started, since = time.monotonic(), utcnow()
    async with gateway.edge.router.lifespan_context(gateway.edge):
        pending = await pending_events(gateway)
        if pending:
            say(f"delivering the events an import staged before serving ({pending} to go)")
        empty_polls, last_report = 0, started
        while empty_polls < 2:
            await asyncio.sleep(POLL_SECONDS)
            pending = await pending_events(gateway)
            empty_polls = empty_polls + 1 if pending == 0 else 0
            if pending and time.monotonic() - last_report >= REPORT_EVERY_SECONDS:
                say(f"{pending} events still to deliver")
                last_report = time.monotonic()
        delivered = await published_since(gateway, since)
    return Settled(events_delivered=delivered, seconds=time.monotonic() - started)
