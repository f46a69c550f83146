"""A service's consumers as a table: which events each one takes and the function that applies
them. The service's ``events.py`` declares the table, with the handler's dependencies already
bound; ``subscribe_consumers`` puts each one behind the service's inbox (idempotent, one
transaction per batch) under its own consumer group."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass

from movieverse.contracts.envelope import Event
from movieverse.platform.events.bus import EventBus, Subscription
from movieverse.platform.events.inbox import Inbox, SessionBatchHandler, SessionHandler


@dataclass(frozen=True)
class Consumer:
    """``name`` is the inbox's consumer name and the group's suffix (``<service>.<name>``).
    Exactly one of ``handle_many`` (a batch in one go) and ``handle_one`` (event by event)."""

    name: str
    event_types: frozenset[str]
    handle_many: SessionBatchHandler | None = None
    handle_one: SessionHandler | None = None
    # The state an event carries whole (a document by its id): in a batch only the last counts.
    latest_wins: Callable[[Event], Hashable] | None = None
    # A cheap look at the event before any transaction (see Subscription.accepts).
    accepts: Callable[[Event], bool] | None = None

    def __post_init__(self) -> None:
        if (self.handle_many is None) == (self.handle_one is None):
            raise ValueError(f"consumer {self.name}: give handle_many or handle_one, not both")


def subscribe_consumers(
    service: str, bus: EventBus, inbox: Inbox, consumers: Sequence[Consumer]
) -> None:
    for consumer in consumers:
        if consumer.handle_many is not None:
            handler = inbox.batch_handler(
                consumer.name, consumer.handle_many, latest_wins=consumer.latest_wins
            )
        else:
            assert consumer.handle_one is not None  # __post_init__ holds one of the two
            handler = inbox.handler(
                consumer.name, consumer.handle_one, latest_wins=consumer.latest_wins
            )
        bus.subscribe(
            Subscription(
                group=f"{service}.{consumer.name}",
                event_types=consumer.event_types,
                handler=handler,
                accepts=consumer.accepts,
            )
        )


def by_key(event: Event) -> str:
    """``latest_wins`` for events keyed by the document they carry whole."""
    return event.key
