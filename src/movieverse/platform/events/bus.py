"""The event bus port. Adapters: in-process (here: memory.py); Kafka and RabbitMQ later.

Contract every adapter keeps:
- ``publish`` returns only once the event is durably accepted (for the in-process bus: handled
  or dead-lettered by every subscribed group), so the outbox relay may then mark it published;
- each subscription is a consumer *group*: every group gets every event of its types once-or-more,
  in order per ``key``;
- a handler that raises is retried with back-off; after ``max_attempts`` the event goes to the
  dead-letter store and the group moves on (a poison message never blocks it);
- ``subscribe`` may be called before or after ``start``: services register their consumers in
  their own start-up, after the shared bus has started.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from movieverse.platform.events.envelope import Event

Handler = Callable[[Event], Awaitable[None]]


@dataclass(frozen=True)
class Subscription:
    group: str
    event_types: frozenset[str]
    handler: Handler
    max_attempts: int = 5

    def wants(self, event: Event) -> bool:
        return event.type in self.event_types


@dataclass(frozen=True)
class DeadLetter:
    group: str
    event: Event
    error: str
    attempts: int
    failed_at: datetime


class EventBus(Protocol):
    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def publish(self, event: Event) -> None: ...

    def subscribe(self, subscription: Subscription) -> None: ...

    async def dead_letters(self) -> Sequence[DeadLetter]: ...

    async def ping(self) -> str: ...
