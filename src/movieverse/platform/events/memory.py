"""The in-process event bus of the embedded shape.

Delivery is synchronous with publishing: ``publish`` hands the event to every subscribed group,
retries failing handlers with back-off, and returns when each group has handled or dead-lettered
it. The outbox relay marks an event published only after that, so a crash at any point leaves the
event in the outbox to be delivered again (at-least-once); inboxes make redelivery harmless.
Per-group locks keep delivery sequential, so order per key is the relay's order.

Dead letters are kept in a :class:`DeadLetterStore` when one is given (``movieverse up`` keeps
one under ``var/``), else in memory. Replays the command line requests there are delivered by the
bus that has the group's consumer, on its next poll.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Sequence

from movieverse.contracts.envelope import Event
from movieverse.platform.db import utcnow
from movieverse.platform.events.bus import DeadLetter, Subscription, backoff_delays
from movieverse.platform.events.deadletters import DeadLetterStore
from movieverse.platform.events.delivery import deliver, deliver_batch, log, log_dead_letter

# Events a group handles in one transaction when the relay brings several: the write lock of an
# embedded database is taken once per batch, not once per event, and a batch keeps only the
# latest state of each key (a movie's totals) where its consumer says so. 500, as Kafka's
# max.poll.records: 100 cost a rating write 20 % more CPU in all (bench/rating_writes.py).
HANDLER_BATCH_SIZE = 500


class InMemoryEventBus:
    def __init__(
        self,
        *,
        retry_base_seconds: float = 0.05,
        retry_max_seconds: float = 2.0,
        dead_letter_capacity: int = 10_000,
        store: DeadLetterStore | None = None,
        replay_poll_seconds: float = 1.0,
        consume: bool = True,
    ) -> None:
        self._subscriptions: list[Subscription] = []
        self._group_locks: dict[str, asyncio.Lock] = {}
        self._dead: deque[DeadLetter] = deque(maxlen=dead_letter_capacity)
        self._delay = backoff_delays(retry_base_seconds, retry_max_seconds)
        self._store = store
        self._replay_poll = replay_poll_seconds
        self._consume = consume
        self._replayer: asyncio.Task[None] | None = None

    async def start(self) -> None:
        if self._store is not None and self._consume and self._replayer is None:
            self._replayer = asyncio.create_task(self._replay_requested(), name="dlq-replay")

    async def stop(self) -> None:
        if self._replayer is not None:
            self._replayer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._replayer
            self._replayer = None

    def subscribe(self, subscription: Subscription) -> None:
        if not self._consume:
            return  # nothing to declare in process; and consuming is the services' own job
        self._subscriptions.append(subscription)
        self._group_locks.setdefault(subscription.group, asyncio.Lock())

    async def ready(self) -> None:
        return None  # nothing outside this process to declare

    async def publish(self, event: Event) -> None:
        targets = [s for s in self._subscriptions if s.wants(event)]
        if targets:
            await asyncio.gather(*(self._deliver(s, event) for s in targets))

    async def publish_many(self, events: Sequence[Event]) -> None:
        # Each group gets its share of the batch in order, the groups side by side.
        shares = [(s, [e for e in events if s.wants(e)]) for s in self._subscriptions]
        await asyncio.gather(*(self._deliver_many(s, share) for s, share in shares if share))

    async def dead_letters(self, group: str | None = None) -> Sequence[DeadLetter]:
        if self._store is not None:
            return await self._store.letters(group)
        return [d for d in self._dead if group is None or d.group == group]

    async def replay_dead_letters(self, group: str) -> int:
        if self._store is not None:
            # Delivered by whichever bus has the group's consumer (see _replay_requested).
            return await self._store.request_replay(group)
        letters = [d for d in self._dead if d.group == group]
        for letter in letters:
            self._dead.remove(letter)
        for letter in letters:
            for subscription in self._group(group, letter.event):
                await self._deliver(subscription, letter.event)
        return len(letters)

    async def purge_dead_letters(self, group: str) -> int:
        if self._store is not None:
            return await self._store.purge(group)
        letters = [d for d in self._dead if d.group == group]
        for letter in letters:
            self._dead.remove(letter)
        return len(letters)

    async def ping(self) -> str:
        return "in-process"

    def _group(self, group: str, event: Event) -> list[Subscription]:
        return [s for s in self._subscriptions if s.group == group and s.wants(event)]

    async def _deliver(self, subscription: Subscription, event: Event) -> None:
        async with self._group_locks[subscription.group]:
            failed = await deliver(subscription, event, delay=self._delay)
            if failed is not None:
                await self._dead_letter(subscription.group, event, *failed)

    async def _deliver_many(self, subscription: Subscription, events: list[Event]) -> None:
        async with self._group_locks[subscription.group]:
            for start in range(0, len(events), HANDLER_BATCH_SIZE):
                chunk = events[start : start + HANDLER_BATCH_SIZE]
                for event, error, attempts in await deliver_batch(
                    subscription, chunk, delay=self._delay
                ):
                    await self._dead_letter(subscription.group, event, error, attempts)

    async def _dead_letter(self, group: str, event: Event, error: str, attempts: int) -> None:
        letter = DeadLetter(
            group=group, event=event, error=error, attempts=attempts, failed_at=utcnow()
        )
        log_dead_letter(group, event, error, attempts)
        if self._store is None:
            self._dead.append(letter)
            return
        try:
            await self._store.add(letter)
        except Exception as exc:  # the log line above still holds the whole event
            log.error("dead_letter_store_failed", group=group, error=repr(exc))

    async def _replay_requested(self) -> None:
        assert self._store is not None
        while True:
            await asyncio.sleep(self._replay_poll)
            try:
                groups = {s.group for s in self._subscriptions}
                for letter_id, letter in await self._store.to_replay(groups):
                    # Out of the store first: a failing replay dead-letters it afresh.
                    await self._store.remove(letter_id)
                    for subscription in self._group(letter.group, letter.event):
                        await self._deliver(subscription, letter.event)
            except Exception as exc:  # keep polling; the requests stay in the store
                log.warning("dead_letter_replay_failed", error=repr(exc))
