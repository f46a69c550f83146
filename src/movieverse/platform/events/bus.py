"""The event bus port. Adapters: in-process (memory.py), RabbitMQ (rabbitmq.py), Kafka (kafka.py);
``tests/contract/test_bus_contract.py`` holds every one to the rules below.

Contract every adapter keeps:
- ``publish``/``publish_many`` return only once the events are durably accepted (in process:
  handled or dead-lettered by every subscribed group; a broker: confirmed), so the outbox relay
  may then mark them published; a failure raises, and the relay publishes them again;
- each subscription is a consumer *group*: every group gets every event of its types once-or-more,
  in order per ``key``;
- a handler that raises is retried with back-off; after ``max_attempts`` the event goes to the
  group's dead letters and the group moves on (a poison message never blocks it); dead letters can
  be listed, replayed to their group, and purged (``movieverse dlq``);
- an event whose handling was interrupted (a crash before the acknowledgement) is delivered again:
  handlers are made idempotent by the inbox, so that costs nothing but the repeat;
- ``subscribe`` may be called before or after ``start``: services register their consumers in
  their own start-up, after the shared bus has started;
- a bus made with ``consume=False`` (command-line tools) declares what a subscription needs (a
  broker's queues and bindings, so no event is lost before the service first runs) but never
  consumes: events belong to the services' own processes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from movieverse.contracts.envelope import Event

Handler = Callable[[Event], Awaitable[None]]


class BatchHandler(Protocol):
    """A handler that can also take several events at once (the inbox's, see inbox.py): all of
    them in one transaction, or none. An adapter with a backlog may use :meth:`many`; when it
    raises, the adapter hands the events over one by one, so a poison event is still retried
    and dead-lettered alone and the others are unaffected."""

    async def __call__(self, event: Event) -> None: ...

    async def many(self, events: Sequence[Event]) -> None: ...


@dataclass(frozen=True)
class Subscription:
    group: str
    event_types: frozenset[str]
    handler: Handler
    max_attempts: int = 5
    # A cheap look at the event itself: False passes it over before any transaction (a consumer
    # of movie updates that only cares about release dates skips score changes this way).
    accepts: Callable[[Event], bool] | None = None

    def wants(self, event: Event) -> bool:
        if event.type not in self.event_types:
            return False
        return self.accepts is None or self.accepts(event)

    @property
    def batch_handler(self) -> BatchHandler | None:
        many = getattr(self.handler, "many", None)
        return self.handler if callable(many) else None  # type: ignore[return-value]

    @property
    def topics(self) -> frozenset[str]:
        """The aggregate streams (``auth.user``) its event types travel on."""
        return frozenset(t.rsplit(".", 1)[0] for t in self.event_types)


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

    async def publish_many(self, events: Sequence[Event]) -> None:
        """Publish in order; returns once all are accepted, raises if any is not."""
        ...

    def subscribe(self, subscription: Subscription) -> None: ...

    async def ready(self) -> None:
        """Return once what the subscriptions need on the broker exists (queues, bindings,
        topics); raise if it could not be made."""
        ...

    async def dead_letters(self, group: str | None = None) -> Sequence[DeadLetter]:
        """Dead letters, oldest first: of one group, or of every group this bus knows."""
        ...

    async def replay_dead_letters(self, group: str) -> int:
        """Give a group its dead letters again (after a fix); returns how many."""
        ...

    async def purge_dead_letters(self, group: str) -> int:
        """Drop a group's dead letters; returns how many."""
        ...

    async def ping(self) -> str: ...


def backoff_delays(base: float, ceiling: float) -> Callable[[int], float]:
    """The wait before retry ``attempt`` (1-based): doubling from ``base``, capped."""

    def delay(attempt: int) -> float:
        return float(min(ceiling, base * 2 ** (attempt - 1)))

    return delay
