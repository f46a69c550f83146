"""Several processes of one service each run a relay; still every event goes out once, in order."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from movieverse.platform.db import Database
from movieverse.platform.events import Event, Outbox, OutboxRelay, Subscription, new_event
from movieverse.platform.events.memory import InMemoryEventBus
from movieverse.platform.events.outbox import relay_leadership
from movieverse.platform.settings import PlatformSettings
from tests.platform.toy_service import Base, NoteWritten


@pytest.fixture
async def two_processes(fresh_database: str) -> AsyncIterator[tuple[Database, Database]]:
    """Two independent engines on one database, as two processes of the toy service would have."""
    setup = Database.connect(fresh_database, PlatformSettings(environment="test"))
    async with setup.engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    await setup.dispose()
    settings = PlatformSettings(environment="test")
    first = Database.connect(fresh_database, settings)
    second = Database.connect(fresh_database, settings)
    yield first, second
    await first.dispose()
    await second.dispose()


async def test_only_one_relay_leads_at_a_time(two_processes: tuple[Database, Database]) -> None:
    first, second = two_processes
    async with relay_leadership(first, "toy") as leading:
        assert leading is True
        async with relay_leadership(second, "toy") as also:
            assert also is False
    async with relay_leadership(second, "toy") as now:
        assert now is True


async def test_competing_relays_publish_each_event_once_in_order(
    two_processes: tuple[Database, Database],
) -> None:
    first, second = two_processes
    outbox = Outbox(Base.metadata.tables["toy_outbox"], service="toy")
    async with first.unit_of_work() as session:
        await outbox.add(
            session,
            *[new_event(NoteWritten(text=str(i)), producer="toy", key="k") for i in range(300)],
        )
    bus = InMemoryEventBus()
    received: list[str] = []

    async def record(event: Event) -> None:
        received.append(NoteWritten.from_event(event).text)
        await asyncio.sleep(0)  # let the other relay run in between

    bus.subscribe(
        Subscription(group="g", event_types=frozenset({NoteWritten.event_type}), handler=record)
    )
    relays = [OutboxRelay(outbox=outbox, db=db, bus=bus, batch_size=25) for db in (first, second)]
    for _ in range(20):
        await asyncio.gather(*(relay.flush() for relay in relays))
        if len(received) >= 300:
            break
    assert received == [str(i) for i in range(300)]
