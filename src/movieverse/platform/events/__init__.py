"""Domain events: the envelope, the transactional outbox and its relay, the inbox, the bus port."""

from movieverse.contracts.envelope import Event, EventPayload, new_event
from movieverse.platform.events.bus import DeadLetter, EventBus, Handler, Subscription
from movieverse.platform.events.inbox import Inbox, SessionHandler
from movieverse.platform.events.outbox import Outbox, OutboxRelay

__all__ = [
    "DeadLetter",
    "Event",
    "EventBus",
    "EventPayload",
    "Handler",
    "Inbox",
    "Outbox",
    "OutboxRelay",
    "SessionHandler",
    "Subscription",
    "new_event",
]
