"""The event bus a deployment's settings name: in process, Kafka or RabbitMQ.

Kept apart from the service app builder (platform/assembly.py) so that the outbox relay's own
thread (relay_thread.py), which service.py starts, can make one without importing service.py.
"""

from __future__ import annotations

from movieverse.platform.events.bus import EventBus
from movieverse.platform.events.deadletters import DeadLetterStore
from movieverse.platform.events.memory import InMemoryEventBus
from movieverse.platform.settings import PlatformSettings


def create_event_bus(settings: PlatformSettings, *, consume: bool = True) -> EventBus:
    """The adapter ``MOVIEVERSE_EVENT_BUS_URL`` names. ``consume=False`` for command-line tools:
    they declare what their services' subscriptions need but leave consuming to the services."""
    url = settings.event_bus_url
    base, ceiling = settings.event_retry_base_seconds, settings.event_retry_max_seconds
    if url.startswith("kafka://"):
        from movieverse.platform.events.crashes import CrashLog
        from movieverse.platform.events.kafka import KafkaEventBus

        return KafkaEventBus(
            url=url,
            prefix=settings.event_prefix,
            partitions=settings.kafka_partitions,
            session_timeout_ms=settings.kafka_session_timeout_ms,
            retry_base_seconds=base,
            retry_max_seconds=ceiling,
            consume=consume,
            crash_log=CrashLog(settings.var_dir / "kafka-crashes.db"),
        )
    if url.startswith(("amqp://", "amqps://")):
        from movieverse.platform.events.rabbitmq import RabbitMqEventBus

        return RabbitMqEventBus(
            url=url,
            prefix=settings.event_prefix,
            retry_base_seconds=base,
            retry_max_seconds=ceiling,
            consume=consume,
        )
    # The in-process bus keeps its dead letters beside the services' data, for `movieverse dlq`.
    store = DeadLetterStore(settings.var_dir / "dead-letters.db")
    return InMemoryEventBus(store=store, consume=consume)
