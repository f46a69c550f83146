"""One behaviour for every event bus: in process, RabbitMQ, and a Kafka-protocol broker (Tansu).

Written once, run on each adapter (see movieverse.platform.events.bus for the contract). Each test
uses names of its own (a fresh prefix), so tests never see each other's queues or topics. "A
crash" is a bus stopped while its handler is still running: the event was handled but never
acknowledged, as when a process dies between the two.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from movieverse.platform.db import Database
from movieverse.platform.events import Event, Inbox, Subscription, new_event
from movieverse.platform.events.bus import EventBus
from movieverse.platform.events.crashes import CrashLog
from movieverse.platform.events.deadletters import DeadLetterStore
from movieverse.platform.events.kafka import KafkaEventBus
from movieverse.platform.events.memory import InMemoryEventBus
from movieverse.platform.events.rabbitmq import RabbitMqEventBus
from movieverse.platform.settings import PlatformSettings
from tests.brokers import event_prefix, kafka_broker
from tests.platform.toy_service import Base, Note, NoteWritten
from tests.support import eventually, require_server

NOTE = NoteWritten.event_type
OTHER = "toy.memo.written"
WITHIN = 30.0  # brokers deliver asynchronously; generous for a loaded CI machine


@pytest.fixture(scope="session")
def kafka_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with kafka_broker(tmp_path_factory.mktemp("kafka")) as url:
        yield url


BusFactory = Callable[[], EventBus]


@pytest.fixture(params=["memory", "rabbitmq", "kafka"])
def make_bus(request: pytest.FixtureRequest, tmp_path: Path) -> BusFactory:
    """Makes buses of one adapter that share this test's names: a second one is the same
    deployment after a restart."""
    prefix = event_prefix()
    base, ceiling = 0.01, 0.05  # retry back-off, short for tests
    if request.param == "memory":
        store = DeadLetterStore(tmp_path / "dead-letters.db")
        return lambda: InMemoryEventBus(
            store=store,
            replay_poll_seconds=0.05,
            retry_base_seconds=base,
            retry_max_seconds=ceiling,
        )
    if request.param == "rabbitmq":
        url = require_server("rabbitmq")
        return lambda: RabbitMqEventBus(
            url=url, prefix=prefix, retry_base_seconds=base, retry_max_seconds=ceiling
        )
    kafka = request.getfixturevalue("kafka_url")
    return _kafka_buses(kafka, prefix, tmp_path, partitions=3)


def _kafka_buses(url: str, prefix: str, tmp_path: Path, *, partitions: int) -> BusFactory:
    crash_log = CrashLog(tmp_path / "kafka-crashes.db")  # on the host's disk, kept over restarts
    # A short session: a restarted consumer waits out its predecessor's (Tansu does not act
    # on a consumer's leaving the group).
    return lambda: KafkaEventBus(
        url=url,
        prefix=prefix,
        partitions=partitions,
        session_timeout_ms=3000,
        retry_base_seconds=0.01,
        retry_max_seconds=0.05,
        crash_log=crash_log,
    )


@dataclass
class Recorder:
    """A handler that records what it saw, and fails on request."""

    seen: list[Event] = field(default_factory=list)
    fail_times: int = 0
    poison: set[str] = field(default_factory=set)

    async def __call__(self, event: Event) -> None:
        self.seen.append(event)
        if NoteWritten.model_validate(event.payload).text in self.poison:
            raise ValueError("poison")
        if self.fail_times > 0:
            self.fail_times -= 1
            raise RuntimeError("transient")

    def texts(self) -> list[str]:
        return [NoteWritten.model_validate(e.payload).text for e in self.seen]


def _note(text: str, key: str = "k") -> Event:
    return new_event(NoteWritten(text=text), producer="toy", key=key)


def _other(text: str) -> Event:
    event = _note(text)
    return event.model_copy(update={"type": OTHER})


@pytest.fixture
async def running(make_bus: BusFactory) -> AsyncIterator[list[EventBus]]:
    """Buses the test started; all stopped at the end."""
    buses: list[EventBus] = []
    yield buses
    for bus in buses:
        await bus.stop()


async def _started(buses: list[EventBus], make_bus: BusFactory) -> EventBus:
    bus = make_bus()
    await bus.start()
    buses.append(bus)
    return bus


async def _until(check: Callable[[], bool]) -> None:
    async def ready() -> bool:
        return check()

    await eventually(ready, within=WITHIN)


async def test_every_group_gets_every_event_of_its_types(
    make_bus: BusFactory, running: list[EventBus]
) -> None:
    bus = make_bus()
    both, notes_only = Recorder(), Recorder()
    # Subscribed before start and after: both are served.
    bus.subscribe(Subscription("both", frozenset({NOTE, OTHER}), both))
    await bus.start()
    running.append(bus)
    bus.subscribe(Subscription("notes", frozenset({NOTE}), notes_only))
    await bus.publish_many([_note("a"), _other("b")])
    await bus.publish(_note("c"))
    await bus.publish_many([])
    await _until(lambda: len(both.seen) >= 3 and len(notes_only.seen) >= 2)
    await asyncio.sleep(0.3)  # nothing more arrives
    assert sorted(both.texts()) == ["a", "b", "c"]
    assert sorted(notes_only.texts()) == ["a", "c"]
    assert await bus.ping()


async def test_a_failing_handler_is_retried_until_it_succeeds(
    make_bus: BusFactory, running: list[EventBus]
) -> None:
    bus = await _started(running, make_bus)
    flaky = Recorder(fail_times=2)
    bus.subscribe(Subscription("flaky", frozenset({NOTE}), flaky, max_attempts=5))
    await bus.publish(_note("eventually"))
    await _until(lambda: len(flaky.seen) >= 3)
    await asyncio.sleep(0.3)
    assert flaky.texts() == ["eventually"] * 3
    assert list(await bus.dead_letters("flaky")) == []


async def test_a_poison_message_is_dead_lettered_replayed_and_purged(
    make_bus: BusFactory, running: list[EventBus]
) -> None:
    bus = await _started(running, make_bus)
    handler = Recorder(poison={"poison", "bad again"})
    bus.subscribe(Subscription("picky", frozenset({NOTE}), handler, max_attempts=3))
    await bus.publish_many([_note("poison", key="p"), _note("fine", key="p")])
    # The group moves on past the poison message, after trying it three times.
    await _until(lambda: "fine" in handler.texts())
    assert handler.texts() == ["poison"] * 3 + ["fine"]

    async def dead() -> list[str]:
        letters = await bus.dead_letters("picky")
        return [NoteWritten.model_validate(d.event.payload).text for d in letters]

    await eventually(lambda: _has(dead, ["poison"]), within=WITHIN)
    letter = (await bus.dead_letters("picky"))[0]
    assert letter.group == "picky"
    assert letter.attempts == 3
    assert "poison" in letter.error
    assert list(await bus.dead_letters("some-other-group")) == []

    # Fixed, then replayed: the group gets the event again, and only that group.
    handler.poison.discard("poison")
    assert await bus.replay_dead_letters("picky") == 1
    await _until(lambda: handler.texts().count("poison") == 4)
    await eventually(lambda: _has(dead, []), within=WITHIN)

    await bus.publish(_note("bad again"))
    await eventually(lambda: _has(dead, ["bad again"]), within=WITHIN)
    assert await bus.purge_dead_letters("picky") == 1
    assert await dead() == []


async def _has(read: Callable[[], Awaitable[list[str]]], expected: list[str]) -> bool:
    return await read() == expected


async def test_order_holds_per_key(make_bus: BusFactory, running: list[EventBus]) -> None:
    bus = await _started(running, make_bus)
    handler = Recorder()
    bus.subscribe(Subscription("ordered", frozenset({NOTE}), handler))
    keys = [f"movie-{k}" for k in range(5)]
    events = [_note(f"{key}:{n:03d}", key=key) for n in range(40) for key in keys]
    for start in range(0, len(events), 50):
        await bus.publish_many(events[start : start + 50])
    await _until(lambda: len(handler.seen) >= len(events))
    for key in keys:
        mine = [t for t in handler.texts() if t.startswith(f"{key}:")]
        assert mine == sorted(mine), key
        assert len(mine) == 40


@pytest.fixture
async def notes_db(tmp_path: Path) -> AsyncIterator[Database]:
    url = f"sqlite:///{tmp_path / 'notes.db'}"
    engine = create_engine(url)
    Base.metadata.create_all(engine)
    engine.dispose()
    database = Database.connect(url, PlatformSettings(environment="test"))
    yield database
    await database.dispose()


async def _notes(db: Database) -> int:
    async with db.unit_of_work(write=False) as session:
        return int((await session.execute(select(func.count()).select_from(Note))).scalar_one())


def _effect() -> Callable[[AsyncSession, Event], object]:
    async def write_note(session: AsyncSession, event: Event) -> None:
        session.add(Note(text=NoteWritten.model_validate(event.payload).text))

    return write_note


async def test_a_crash_between_handling_and_acknowledging_redelivers_without_a_double_effect(
    make_bus: BusFactory, running: list[EventBus], notes_db: Database
) -> None:
    inbox = Inbox(Base.metadata.tables["toy_inbox"], db=notes_db)
    idempotent = inbox.handler("notes", _effect())  # type: ignore[arg-type]
    calls: list[Event] = []
    never = asyncio.Event()

    async def handle_then_hang(event: Event) -> None:
        await idempotent(event)  # committed: the note and the inbox row
        calls.append(event)
        if len(calls) == 1:
            await never.wait()  # the process "dies" here, before the acknowledgement

    first = make_bus()
    first.subscribe(Subscription("notes", frozenset({NOTE}), handle_then_hang))
    await first.start()
    event = _note("exactly once")
    publishing = asyncio.create_task(first.publish(event))
    await _until(lambda: len(calls) == 1)
    # The in-process bus hands over while publishing, so the publisher (the outbox relay) never
    # saw the publish return and will publish again; a broker had accepted it already.
    published = publishing.done()
    publishing.cancel()
    await first.stop()
    assert await _notes(notes_db) == 1

    second = make_bus()
    second.subscribe(Subscription("notes", frozenset({NOTE}), handle_then_hang))
    await second.start()
    running.append(second)
    if not published:
        await second.publish(event)
    await _until(lambda: len(calls) == 2)
    assert calls[1].id == event.id
    assert await _notes(notes_db) == 1  # the inbox absorbed the redelivery


async def test_a_duplicate_publish_has_one_effect(
    make_bus: BusFactory, running: list[EventBus], notes_db: Database
) -> None:
    bus = await _started(running, make_bus)
    inbox = Inbox(Base.metadata.tables["toy_inbox"], db=notes_db)
    calls: list[Event] = []
    idempotent = inbox.handler("notes", _effect())  # type: ignore[arg-type]

    async def handle(event: Event) -> None:
        await idempotent(event)
        calls.append(event)

    bus.subscribe(Subscription("notes", frozenset({NOTE}), handle))
    event = _note("twice sent")
    await bus.publish(event)
    await bus.publish_many([event])  # the relay retried a batch the bus had accepted
    await _until(lambda: len(calls) == 2)
    assert await _notes(notes_db) == 1


async def test_a_batch_with_a_poison_event_applies_the_rest_once(
    make_bus: BusFactory, running: list[EventBus], notes_db: Database
) -> None:
    """A batch handler (the inbox's) gets what arrived together in one transaction; a poison event
    among them rolls that back, and the events then go one by one: every good one takes effect
    once, in order, and only the poison one is dead-lettered."""
    inbox = Inbox(Base.metadata.tables["toy_inbox"], db=notes_db)

    async def write_unless_poison(session: AsyncSession, event: Event) -> None:
        text = NoteWritten.model_validate(event.payload).text
        if text == "poison":
            raise ValueError("poison")
        session.add(Note(text=text))

    bus = await _started(running, make_bus)
    bus.subscribe(
        Subscription(
            "batched", frozenset({NOTE}), inbox.handler("batched", write_unless_poison),
            max_attempts=2,
        )
    )  # fmt: skip
    texts = [f"note {n:02d}" for n in range(30)]
    texts.insert(12, "poison")
    await bus.publish_many([_note(t, key="same") for t in texts])
    await _until_async(lambda: _count_is(notes_db, 30))

    async def dead() -> list[str]:
        letters = await bus.dead_letters("batched")
        return [NoteWritten.model_validate(d.event.payload).text for d in letters]

    await eventually(lambda: _has(dead, ["poison"]), within=WITHIN)
    async with notes_db.unit_of_work(write=False) as session:
        stored = list((await session.execute(select(Note.text).order_by(Note.id))).scalars())
    assert stored == [t for t in texts if t != "poison"]


async def _count_is(db: Database, expected: int) -> bool:
    return await _notes(db) == expected


async def _until_async(check: Callable[[], Awaitable[bool]]) -> None:
    await eventually(check, within=WITHIN)


async def test_kafka_dead_letters_a_record_that_kills_its_consumer_every_time(
    kafka_url: str, tmp_path: Path
) -> None:
    """Kafka counts no deliveries: the consumer does (crashes.py), so a record that kills its
    process on every start stops after ``max_attempts`` crashes and the partition moves on.
    RabbitMQ's own delivery limit does this for its queues."""
    make_bus = _kafka_buses(kafka_url, event_prefix(), tmp_path, partitions=1)
    handled: list[str] = []
    dying = asyncio.Event()

    async def handle(event: Event) -> None:
        text = NoteWritten.model_validate(event.payload).text
        if text == "kills":
            dying.set()
            await asyncio.Event().wait()  # the process dies here: nothing after it runs
        handled.append(text)

    publisher = make_bus()
    await publisher.start()
    try:
        await publisher.publish_many([_note("before"), _note("kills"), _note("after")])
    finally:
        await publisher.stop()
    crashes = 0
    while True:
        bus = make_bus()
        bus.subscribe(Subscription("crashy", frozenset({NOTE}), handle, max_attempts=3))
        dying.clear()
        await bus.start()
        await _until(lambda: dying.is_set() or "after" in handled)
        if "after" in handled:
            break
        await bus.stop()  # a dead process: the record is neither committed nor dead-lettered
        crashes += 1
        assert crashes <= 4, "a crash loop must end after max_attempts crashes (+1 batch)"
    try:
        letters = await bus.dead_letters("crashy")
        assert [NoteWritten.model_validate(d.event.payload).text for d in letters] == ["kills"]
        assert letters[0].attempts == 3
        assert "died 3 times" in letters[0].error
        assert crashes >= 3
        assert handled.count("after") == 1
        assert "before" in handled
    finally:
        await bus.stop()
