"""On a database server with a broker the outbox relay runs on a loop of its own: it publishes
even while the service's loop cannot run at all (here: blocked outright, the extreme of a loop
saturated by a request backlog). With the thread switched off, the same relay waits."""

from __future__ import annotations

import asyncio
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import create_async_engine

from movieverse.platform.assembly import SharedRuntime, service_runtime
from movieverse.platform.db import normalise_url
from movieverse.platform.events import new_event
from movieverse.platform.settings import PlatformSettings
from tests.brokers import event_prefix
from tests.platform import toy_service
from tests.platform.toy_service import Base, NoteWritten
from tests.support import fresh_database, require_server

BLOCKED_SECONDS = 5.0  # far longer than a publish to a local broker takes


async def _published(url: str) -> list[bool]:
    engine = create_async_engine(normalise_url(url))
    try:
        async with engine.connect() as conn:
            table = Base.metadata.tables["toy_outbox"]
            rows = await conn.execute(select(table.c.published_at))
            return [published is not None for (published,) in rows]
    finally:
        await engine.dispose()


def _read_from_another_loop(url: str) -> list[bool]:
    """Read without giving the blocked loop a turn (which would let its own relay run)."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, _published(url)).result()


@pytest.mark.parametrize("own_thread", [True, False])
async def test_the_relay_publishes_while_the_service_loop_is_blocked(
    own_thread: bool, tmp_path: Path
) -> None:
    broker = require_server("rabbitmq")
    async with fresh_database("postgres", prefix="mvtest_relay_thread") as url:
        engine = create_async_engine(normalise_url(url))
        async with engine.begin() as conn:
            await conn.run_sync(Base.metadata.create_all)
        await engine.dispose()
        platform = PlatformSettings(
            environment="test",
            var_dir=tmp_path,
            database_url=url,
            event_bus_url=broker,
            event_prefix=event_prefix(),
            outbox_relay_thread=own_thread,
        )
        shared = SharedRuntime(platform)
        async with service_runtime(toy_service.DEFINITION, platform, shared, migrate=False) as ctx:
            names = {thread.name for thread in threading.enumerate()}
            assert ("outbox-relay-toy" in names) is own_thread
            await asyncio.sleep(0.2)  # start-up settles: the publishing gate is open
            async with ctx.db.unit_of_work() as session:
                await ctx.outbox.add(
                    session, new_event(NoteWritten(text="blocked"), producer="toy", key="k")
                )
            time.sleep(BLOCKED_SECONDS)  # noqa: ASYNC251 -- the point: this loop cannot run
            assert _read_from_another_loop(url) == [own_thread]
            # Free again, the loop's own relay (no thread) catches up as well.
            deadline = time.monotonic() + 30
            while _read_from_another_loop(url) != [True]:
                assert time.monotonic() < deadline, "the event was never published"
                await asyncio.sleep(0.1)
