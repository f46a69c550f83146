"""The in-process event bus of the embedded shape.

Delivery is synchronous with publishing: ``publish`` hands the event to every subscribed group,
retries failing handlers with back-off, and returns when each group has handled or dead-lettered
it. The outbox relay marks an event published only after that, so a crash at any point leaves the
event in the outbox to be delivered again (at-least-once); inboxes make redelivery harmless.
Per-group locks keep delivery sequential, so order per key is the relay's order.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Sequence

import structlog

from movieverse.platform.db import utcnow
from movieverse.platform.events.bus import DeadLetter, Subscription
from movieverse.platform.events.envelope import Event

log = structlog.get_logger("movieverse.events.memory")


class InMemoryEventBus:
    def __init__(
        self,
        *,
        retry_base_seconds: float = 0.05,
        retry_max_seconds: float = 2.0,
        dead_letter_capacity: int = 10_000,
    ) -> None:
        self._subscriptions: list[Subscription] = []
        self._group_locks: dict[str, asyncio.Lock] = {}
        self._dead: deque[DeadLetter] = deque(maxlen=dead_letter_capacity)
        self._retry_base = retry_base_seconds
        self._retry_max = retry_max_seconds
        self._running = False

    async def start(self) -> None:
        self._running = True

    async def stop(self) -> None:
        self._running = False

    def subscribe(self, subscription: Subscription) -> None:
        self._subscriptions.append(subscription)
        self._group_locks.setdefault(subscription.group, asyncio.Lock())

    async def publish(self, event: Event) -> None:
        targets = [s for s in self._subscriptions if s.wants(event)]
        if targets:
            await asyncio.gather(*(self._deliver(s, event) for s in targets))

    async def dead_letters(self) -> Sequence[DeadLetter]:
        return list(self._dead)

    async def ping(self) -> str:
        return "in-process"

    async def _deliver(self, subscription: Subscription, event: Event) -> None:
        async with self._group_locks[subscription.group]:
            delay = self._retry_base
            for attempt in range(1, subscription.max_attempts + 1):
                try:
                    await subscription.handler(event)
                    return
                except Exception as exc:
                    if attempt == subscription.max_attempts:
                        self._dead_letter(subscription, event, exc, attempt)
                        return
                    log.warning(
                        "event_handler_failed",
                        group=subscription.group,
                        event_id=str(event.id),
                        event_type=event.type,
                        attempt=attempt,
                        error=repr(exc),
                    )
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, self._retry_max)

    def _dead_letter(
        self, subscription: Subscription, event: Event, exc: Exception, attempts: int
    ) -> None:
        letter = DeadLetter(
            group=subscription.group,
            event=event,
            error=repr(exc),
            attempts=attempts,
            failed_at=utcnow(),
        )
        self._dead.append(letter)
        # The whole event is logged so it can be replayed even after the process is gone.
        log.error(
            "event_dead_lettered",
            group=subscription.group,
            attempts=attempts,
            error=repr(exc),
            dead_event=event.model_dump(mode="json"),
        )
