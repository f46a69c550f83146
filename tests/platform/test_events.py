"""The outbox, its relay, the inbox and the in-process bus: no event lost, none applied twice."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from movieverse.platform.db import Database
from movieverse.platform.events import Event, Inbox, Outbox, OutboxRelay, Subscription, new_event
from movieverse.platform.events.memory import InMemoryEventBus
from movieverse.platform.settings import PlatformSettings
from tests.platform.toy_service import Base, Note, NoteWritten

TYPE = NoteWritten.event_type


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    url = f"sqlite:///{tmp_path / 'events.db'}"
    engine = create_engine(url)
    Base.metadata.create_all(engine)
    engine.dispose()
    database = Database.connect(url, PlatformSettings(environment="test"))
    yield database
    await database.dispose()


def _outbox(db: Database) -> Outbox:
    return Outbox(Base.metadata.tables["toy_outbox"], service="toy")


def _inbox(db: Database) -> Inbox:
    return Inbox(Base.metadata.tables["toy_inbox"], db=db)


def _event(text: str, key: str = "k1") -> Event:
    return new_event(NoteWritten(text=text), producer="toy", key=key)


async def _pending(db: Database) -> int:
    async with db.unit_of_work(write=False) as session:
        return await _outbox(db).pending_count(session)


async def test_envelope_follows_the_house_rules() -> None:
    event = _event("hello")
    assert event.id.version == 7
    assert event.type == "toy.note.written"
    assert event.topic == "toy.note"
    assert event.occurred_at.tzinfo is not None
    assert NoteWritten.from_event(event).text == "hello"
    with pytest.raises(ValueError, match="frozen"):
        event.key = "other"  # type: ignore[misc]


async def test_outbox_rows_exist_only_if_the_transaction_commits(db: Database) -> None:
    outbox = _outbox(db)

    async def write_and_fail() -> None:
        async with db.unit_of_work() as session:
            session.add(Note(text="rolled back"))
            await outbox.add(session, _event("lost"))
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        await write_and_fail()
    assert await _pending(db) == 0
    async with db.unit_of_work() as session:
        session.add(Note(text="kept"))
        await outbox.add(session, _event("kept"))
    assert await _pending(db) == 1


async def test_relay_publishes_in_order_and_marks_published(db: Database) -> None:
    bus = InMemoryEventBus()
    seen: list[str] = []

    async def record(event: Event) -> None:
        seen.append(NoteWritten.from_event(event).text)

    bus.subscribe(Subscription(group="g", event_types=frozenset({TYPE}), handler=record))
    outbox = _outbox(db)
    async with db.unit_of_work() as session:
        await outbox.add(session, *[_event(str(i)) for i in range(250)])
    relay = OutboxRelay(outbox=outbox, db=db, bus=bus, poll_seconds=0.05, batch_size=100)
    await relay.flush()
    assert seen == [str(i) for i in range(250)]
    assert await _pending(db) == 0


async def test_commit_wakes_the_running_relay(db: Database) -> None:
    bus = InMemoryEventBus()
    delivered = asyncio.Event()

    async def record(event: Event) -> None:
        delivered.set()

    bus.subscribe(Subscription(group="g", event_types=frozenset({TYPE}), handler=record))
    relay = OutboxRelay(outbox=_outbox(db), db=db, bus=bus, poll_seconds=30)
    relay.start()
    try:
        await asyncio.sleep(0.05)
        async with db.unit_of_work() as session:
            await _outbox(db).add(session, _event("wake"))
        # Far sooner than the 30 s poll: the commit hook woke the relay.
        await asyncio.wait_for(delivered.wait(), timeout=2)
    finally:
        await relay.stop()


async def test_failed_publish_keeps_the_event_and_retries(db: Database) -> None:
    class FlakyBus(InMemoryEventBus):
        def __init__(self) -> None:
            super().__init__()
            self.fail_next = 2
            self.published: list[Event] = []

        async def publish_many(self, events: Sequence[Event]) -> None:
            if self.fail_next:
                self.fail_next -= 1
                raise ConnectionError("broker unavailable")
            self.published.extend(events)

    bus = FlakyBus()
    outbox = _outbox(db)
    async with db.unit_of_work() as session:
        await outbox.add(session, _event("a"), _event("b"))
    relay = OutboxRelay(outbox=outbox, db=db, bus=bus)
    assert await relay.publish_pending() == 0
    assert await relay.publish_pending() == 0
    assert await _pending(db) == 2
    assert await relay.publish_pending() == 2
    assert [NoteWritten.from_event(e).text for e in bus.published] == ["a", "b"]


async def test_crash_after_handling_redelivers_and_the_inbox_absorbs_it(db: Database) -> None:
    """At-least-once: the relay dies after the consumer handled an event but before marking it
    published. On restart the event goes out again; the inbox makes the second delivery a no-op."""

    class CrashAfterPublish(InMemoryEventBus):
        crash = True

        async def publish_many(self, events: Sequence[Event]) -> None:
            await super().publish_many(events)
            if self.crash:
                raise SystemExit("process killed between handling and acknowledging")

    bus = CrashAfterPublish()
    inbox = _inbox(db)
    effects: list[str] = []

    async def apply(session: AsyncSession, event: Event) -> None:
        effects.append(NoteWritten.from_event(event).text)

    bus.subscribe(
        Subscription(group="g", event_types=frozenset({TYPE}), handler=inbox.handler("c", apply))
    )
    outbox = _outbox(db)
    async with db.unit_of_work() as session:
        await outbox.add(session, _event("once"))
    relay = OutboxRelay(outbox=outbox, db=db, bus=bus)
    with pytest.raises(SystemExit):
        await relay.publish_pending()
    assert await _pending(db) == 1  # never acknowledged
    bus.crash = False
    restarted = OutboxRelay(outbox=outbox, db=db, bus=bus)
    assert await restarted.publish_pending() == 1
    assert effects == ["once"]  # delivered twice, applied once
    assert await _pending(db) == 0


async def test_inbox_rolls_back_the_effect_of_a_failed_handler(db: Database) -> None:
    inbox = _inbox(db)
    attempts = 0

    async def write_then_fail(session: AsyncSession, event: Event) -> None:
        nonlocal attempts
        attempts += 1
        session.add(Note(text=f"attempt {attempts}"))
        if attempts < 3:
            raise RuntimeError("transient")

    handler = inbox.handler("writer", write_then_fail)
    event = _event("x")
    for _ in range(2):
        with pytest.raises(RuntimeError):
            await handler(event)
    await handler(event)
    await handler(event)  # a duplicate after success does nothing
    async with db.unit_of_work(write=False) as session:
        texts = (await session.execute(select(Note.text))).scalars().all()
    assert texts == ["attempt 3"]
    assert await inbox.seen("writer", event)


async def test_bus_retries_then_dead_letters_a_poison_message() -> None:
    bus = InMemoryEventBus(retry_base_seconds=0.001)
    calls = 0
    healthy: list[str] = []

    async def poison(event: Event) -> None:
        nonlocal calls
        calls += 1
        raise ValueError("cannot handle this payload")

    async def fine(event: Event) -> None:
        healthy.append(event.key)

    bus.subscribe(
        Subscription(group="bad", event_types=frozenset({TYPE}), handler=poison, max_attempts=3)
    )
    bus.subscribe(Subscription(group="good", event_types=frozenset({TYPE}), handler=fine))
    await bus.publish(_event("p", key="one"))
    await bus.publish(_event("q", key="two"))
    assert calls == 6  # 3 attempts per event, then the group moves on
    assert healthy == ["one", "two"]  # another group is unaffected
    letters = await bus.dead_letters()
    assert [(d.group, d.event.key, d.attempts) for d in letters] == [
        ("bad", "one", 3),
        ("bad", "two", 3),
    ]
    assert "cannot handle" in letters[0].error


async def test_bus_delivers_only_subscribed_types() -> None:
    bus = InMemoryEventBus()
    got: list[str] = []

    async def record(event: Event) -> None:
        got.append(event.type)

    bus.subscribe(Subscription(group="g", event_types=frozenset({"x.y.z"}), handler=record))
    await bus.publish(_event("ignored"))
    assert got == []


async def test_relay_stop_flushes_pending_events(db: Database) -> None:
    bus = InMemoryEventBus()
    got: list[str] = []

    async def record(event: Event) -> None:
        got.append(NoteWritten.from_event(event).text)

    bus.subscribe(Subscription(group="g", event_types=frozenset({TYPE}), handler=record))
    relay = OutboxRelay(outbox=_outbox(db), db=db, bus=bus, poll_seconds=30)
    async with db.unit_of_work() as session:
        await _outbox(db).add(session, _event("written before shutdown"))
    db.after_commit_hooks.clear()  # the relay is not woken: only stop() can deliver it
    relay.start()
    await relay.stop()
    assert "written before shutdown" in got
    async with db.unit_of_work(write=False) as session:
        table = Base.metadata.tables["toy_outbox"]
        published = await session.execute(
            select(func.count()).select_from(table).where(table.c.published_at.is_not(None))
        )
        assert published.scalar_one() == 1


async def test_relay_stop_lets_a_pass_in_progress_finish(db: Database) -> None:
    """Stopping while a consumer is handling a batch lets it finish: cancelled, the handler would
    be cut mid-transaction and the final flush would hand it the same events again."""
    bus = InMemoryEventBus()
    entered, release = asyncio.Event(), asyncio.Event()
    handled: list[str] = []
    cancelled: list[str] = []

    async def slow(event: Event) -> None:
        entered.set()
        try:
            await release.wait()
        except asyncio.CancelledError:
            cancelled.append(NoteWritten.from_event(event).text)
            raise
        handled.append(NoteWritten.from_event(event).text)

    bus.subscribe(Subscription(group="g", event_types=frozenset({TYPE}), handler=slow))
    relay = OutboxRelay(outbox=_outbox(db), db=db, bus=bus, poll_seconds=30)
    relay.start()
    async with db.unit_of_work() as session:
        await _outbox(db).add(session, _event("in flight at shutdown"))
    await asyncio.wait_for(entered.wait(), timeout=5)
    stopping = asyncio.create_task(relay.stop())
    await asyncio.sleep(0.05)
    assert not stopping.done()  # waiting for the pass, not cutting it
    release.set()
    await asyncio.wait_for(stopping, timeout=5)
    assert (handled, cancelled) == (["in flight at shutdown"], [])
    assert await _pending(db) == 0


async def test_relay_stop_cuts_a_pass_that_never_ends(db: Database) -> None:
    bus = InMemoryEventBus()
    entered = asyncio.Event()

    async def stuck(event: Event) -> None:
        entered.set()
        await asyncio.Event().wait()

    bus.subscribe(Subscription(group="g", event_types=frozenset({TYPE}), handler=stuck))
    relay = OutboxRelay(outbox=_outbox(db), db=db, bus=bus, poll_seconds=30)
    relay.start()
    async with db.unit_of_work() as session:
        await _outbox(db).add(session, _event("never handled"))
    await asyncio.wait_for(entered.wait(), timeout=5)
    # Bounded: the pass is cancelled after the grace, and so is the final flush's attempt.
    await asyncio.wait_for(relay.stop(flush_timeout=0.2), timeout=5)
    assert await _pending(db) == 1  # still there for the next start


async def test_pruning_forgets_only_old_entries(db: Database) -> None:
    from datetime import timedelta

    bus = InMemoryEventBus()
    outbox = _outbox(db)
    inbox = _inbox(db)
    async with db.unit_of_work() as session:
        await outbox.add(session, _event("old"), _event("pending"))
    relay = OutboxRelay(outbox=outbox, db=db, bus=bus, retention=timedelta(0), batch_size=1)
    assert await relay.publish_pending() == 1  # "old" is published, "pending" is not

    async def noop(session: AsyncSession, event: Event) -> None:
        return None

    await inbox.handler("c", noop)(_event("handled"))
    await relay.prune()
    await inbox.prune(older_than=timedelta(0))
    table = Base.metadata.tables["toy_outbox"]
    async with db.unit_of_work(write=False) as session:
        left = (await session.execute(select(table.c.body))).scalars().all()
        handled = (
            await session.execute(
                select(func.count()).select_from(Base.metadata.tables["toy_inbox"])
            )
        ).scalar_one()
    assert len(left) == 1
    assert "pending" in left[0]
    assert handled == 0


async def test_a_batch_is_handled_in_one_go_and_a_poison_event_is_set_aside_alone(
    db: Database,
) -> None:
    """The in-process bus hands a group the relay's whole batch in one transaction; when one event
    fails, the batch rolls back and goes again one by one: the good events take effect once, the
    poison one is retried and dead-lettered alone, and already-handled ones are skipped."""
    bus = InMemoryEventBus(retry_base_seconds=0.001, retry_max_seconds=0.001)
    inbox = _inbox(db)
    batches: list[int] = []

    async def write_note(session: AsyncSession, event: Event) -> None:
        text = NoteWritten.from_event(event).text
        if text == "poison":
            raise ValueError("cannot handle this one")
        session.add(Note(text=text))

    handler = inbox.handler("notes", write_note)

    class CountingHandler:
        async def __call__(self, event: Event) -> None:
            await handler(event)

        async def many(self, events: Sequence[Event]) -> None:
            batches.append(len(events))
            await handler.many(events)

    bus.subscribe(
        Subscription(
            group="g", event_types=frozenset({TYPE}), handler=CountingHandler(), max_attempts=2
        )
    )
    outbox = _outbox(db)
    already = _event("seen before")
    await handler(already)  # handled earlier, e.g. before a crash
    async with db.unit_of_work() as session:
        await outbox.add(
            session, _event("one"), already, _event("poison"), _event("two"), _event("three")
        )
    relay = OutboxRelay(outbox=outbox, db=db, bus=bus)
    assert await relay.publish_pending() == 5
    async with db.unit_of_work(write=False) as session:
        texts = sorted((await session.execute(select(Note.text))).scalars())
    assert texts == ["one", "seen before", "three", "two"]
    assert batches == [5]  # one attempt at the whole batch, then one by one
    letters = await bus.dead_letters("g")
    assert [NoteWritten.from_event(d.event).text for d in letters] == ["poison"]
    assert letters[0].attempts == 2


async def test_sqlite_writers_of_a_process_take_turns_without_failing(db: Database) -> None:
    """Many concurrent write units on one SQLite file: each commits, none meets 'database is
    locked', and they queue in the process rather than polling the file lock."""

    async def write(i: int) -> None:
        async with db.unit_of_work() as session:
            session.add(Note(text=f"n{i}"))
            await asyncio.sleep(0)  # hold the turn across an await, as a request does

    await asyncio.gather(*(write(i) for i in range(64)))
    async with db.unit_of_work(write=False) as session:
        count = (await session.execute(select(func.count()).select_from(Note))).scalar_one()
    assert count == 64


async def test_a_subscription_can_pass_over_events_before_any_transaction(db: Database) -> None:
    bus = InMemoryEventBus()
    inbox = _inbox(db)
    handled: list[str] = []

    async def record(session: AsyncSession, event: Event) -> None:
        handled.append(NoteWritten.from_event(event).text)

    bus.subscribe(
        Subscription(
            group="g",
            event_types=frozenset({TYPE}),
            handler=inbox.handler("picky", record),
            accepts=lambda event: not str(event.payload["text"]).startswith("skip"),
        )
    )
    await bus.publish_many([_event("keep"), _event("skip me"), _event("keep too")])
    assert handled == ["keep", "keep too"]
    async with db.unit_of_work(write=False) as session:
        table = Base.metadata.tables["toy_inbox"]
        rows = (await session.execute(select(func.count()).select_from(table))).scalar_one()
    assert rows == 2  # the passed-over event cost no inbox row, hence no transaction


async def test_in_a_batch_the_latest_state_of_a_key_wins(db: Database) -> None:
    """Events that each carry a whole state (a movie's totals): a batch applies only the last per
    key, and records every one as handled, so a redelivery of the earlier ones changes nothing."""
    inbox = _inbox(db)
    applied: list[str] = []

    async def apply(session: AsyncSession, event: Event) -> None:
        applied.append(NoteWritten.from_event(event).text)

    handler = inbox.handler("totals", apply, latest_wins=lambda e: e.key)
    events = [_event("a1", "a"), _event("b1", "b"), _event("a2", "a"), _event("a3", "a")]
    await handler.many(events)
    assert applied == ["b1", "a3"]
    await handler.many(events[:2])  # redelivered
    assert applied == ["b1", "a3"]
    assert all([await inbox.seen("totals", e) for e in events])
