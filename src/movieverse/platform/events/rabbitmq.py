"""The RabbitMQ adapter of the event bus (aio-pika).

Layout, under a configurable prefix (default ``movieverse.``):
- one durable topic exchange ``movieverse.events``; an event's routing key is its type;
- each subscription is a durable *quorum* queue ``movieverse.<group>`` bound to its event types,
  with a single active consumer, so however many processes of a service run, the queue is
  consumed in order by one of them at a time (order per key holds);
- dead letters go to ``movieverse.<group>.dlq``.

Publishing waits for the broker's confirm of every message (persistent messages on durable
queues), so an event the relay marks published is on disk. A message is acknowledged only after
its handler succeeded or it was dead-lettered: a crash in between delivers it again. Messages that
arrived together (up to the prefetch) are handled as one batch (one transaction of a batch
handler; one by one if it fails). A handler that raises is retried in process with back-off,
``max_attempts`` times, then dead-lettered. One
that kills its process is redelivered with RabbitMQ's delivery count raised, and the queue's
``x-delivery-limit`` dead-letters it after enough crashes -- so even that never blocks the queue
for ever.

Queues are declared when a service subscribes, and ``movieverse migrate`` declares every
service's (a bus made with ``consume=False``): events published before a consumer's queue exists
would have nowhere to go.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import aio_pika
import aiormq
from aio_pika.abc import (
    AbstractChannel,
    AbstractExchange,
    AbstractIncomingMessage,
    AbstractQueue,
    AbstractRobustConnection,
)

from movieverse.contracts.envelope import Event
from movieverse.platform.db import utcnow
from movieverse.platform.events.bus import DeadLetter, Subscription, backoff_delays
from movieverse.platform.events.delivery import deliver_batch, log, log_dead_letter

# Crashes (not raised errors) a message may cause before the broker dead-letters it.
CRASH_DELIVERY_LIMIT = 10
# A broker that stops answering -- or blocks publishers on a resource alarm -- must surface as an
# error the caller retries (the relay backs off), never as a wait without end.
CONNECT_TIMEOUT_SECONDS = 15.0
CONFIRM_TIMEOUT_SECONDS = 30.0


class RabbitMqEventBus:
    def __init__(
        self,
        *,
        url: str,
        prefix: str = "movieverse.",
        retry_base_seconds: float = 0.2,
        retry_max_seconds: float = 5.0,
        prefetch: int = 32,
        consume: bool = True,
    ) -> None:
        self._url = url
        self._prefix = prefix
        self._delay = backoff_delays(retry_base_seconds, retry_max_seconds)
        self._prefetch = prefetch
        self._consume = consume
        self._subscriptions: list[Subscription] = []
        self._setups: list[asyncio.Task[None]] = []
        self._consumers: list[asyncio.Task[None]] = []
        self._connection: AbstractRobustConnection | None = None
        self._channel: AbstractChannel | None = None
        self._exchange: AbstractExchange | None = None

    # Names -----------------------------------------------------------------------------------

    def queue_name(self, group: str) -> str:
        return f"{self._prefix}{group}"

    def dlq_name(self, group: str) -> str:
        return f"{self._prefix}{group}.dlq"

    # Life cycle ------------------------------------------------------------------------------

    async def start(self) -> None:
        self._connection = await aio_pika.connect_robust(self._url, timeout=CONNECT_TIMEOUT_SECONDS)
        self._channel = await self._connection.channel(publisher_confirms=True)
        self._exchange = await self._channel.declare_exchange(
            f"{self._prefix}events", aio_pika.ExchangeType.TOPIC, durable=True
        )
        for subscription in self._subscriptions:
            self._begin(subscription)

    async def stop(self) -> None:
        for task in (*self._setups, *self._consumers):
            task.cancel()
        for task in (*self._setups, *self._consumers):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._setups.clear()
        self._consumers.clear()
        if self._connection is not None:
            # Unacknowledged messages go back to their queues: they are delivered again.
            await self._connection.close()
            self._connection = None
            self._channel = None
            self._exchange = None

    def subscribe(self, subscription: Subscription) -> None:
        self._subscriptions.append(subscription)
        if self._connection is not None:
            self._begin(subscription)

    def _begin(self, subscription: Subscription) -> None:
        self._setups.append(
            asyncio.create_task(self._setup(subscription), name=f"amqp-setup-{subscription.group}")
        )

    async def ready(self) -> None:
        """Wait until every subscription's queue is declared and bound (and say if one failed):
        an event published before its consumers' queues exist would be lost to them."""
        if self._setups:
            await asyncio.gather(*self._setups)

    async def ping(self) -> str:
        await self.ready()
        connection = self._connected()
        properties: dict[str, Any] = dict(
            getattr(getattr(connection.transport, "connection", None), "server_properties", {})
            or {}
        )
        version = properties.get("version", b"?")
        text = version.decode() if isinstance(version, bytes) else str(version)
        return f"RabbitMQ {text}"

    # Topology --------------------------------------------------------------------------------

    async def _queues(
        self, channel: AbstractChannel, subscription: Subscription
    ) -> tuple[AbstractQueue, AbstractQueue]:
        dlq = await channel.declare_queue(self.dlq_name(subscription.group), durable=True)
        queue = await channel.declare_queue(
            self.queue_name(subscription.group),
            durable=True,
            arguments={
                "x-queue-type": "quorum",
                "x-single-active-consumer": True,
                "x-delivery-limit": CRASH_DELIVERY_LIMIT,
                # What the delivery limit dead-letters lands in the group's dead-letter queue.
                "x-dead-letter-exchange": "",
                "x-dead-letter-routing-key": self.dlq_name(subscription.group),
            },
        )
        exchange = await channel.get_exchange(f"{self._prefix}events")
        for event_type in sorted(subscription.event_types):
            await queue.bind(exchange, routing_key=event_type)
        return queue, dlq

    async def _setup(self, subscription: Subscription) -> None:
        connection = self._connected()
        channel = await connection.channel()
        queue, _ = await self._queues(channel, subscription)
        if not self._consume:
            await channel.close()
            return
        await channel.set_qos(prefetch_count=self._prefetch)
        self._consumers.append(
            asyncio.create_task(
                self._run_consumer(subscription, queue), name=f"amqp-{subscription.group}"
            )
        )

    # Publishing ------------------------------------------------------------------------------

    async def publish(self, event: Event) -> None:
        await self.publish_many([event])

    async def publish_many(self, events: Sequence[Event]) -> None:
        if not events:
            return
        await self.ready()
        exchange, publisher = self._exchange, self._channel
        if exchange is None or publisher is None:
            raise RuntimeError("the RabbitMQ event bus has not been started")
        # Published in order on one channel; the confirms are awaited together. Each message is
        # handed to the connection's writer without waiting for the socket to drain after it
        # (aio-pika's publish would): under a request backlog every such wait costs an event
        # loop turn, and a batch of 200 took seconds instead of milliseconds.
        channel = await publisher.get_underlay_channel()
        if not isinstance(channel, aiormq.Channel):  # the only implementation there is
            raise TypeError(f"unexpected AMQP channel {type(channel).__name__}")
        confirms = [
            channel.basic_publish(
                body=message.body,
                exchange=exchange.name,
                routing_key=event.type,
                properties=message.properties,
                mandatory=False,
                timeout=CONFIRM_TIMEOUT_SECONDS,
                wait=False,
            )
            for event, message in ((e, _message(e)) for e in events)
        ]
        # A broker's nack raises (aiormq's DeliveryError): the relay publishes the batch again.
        await asyncio.gather(*confirms)

    # Consuming -------------------------------------------------------------------------------

    async def _run_consumer(self, subscription: Subscription, queue: AbstractQueue) -> None:
        # In queue order (the queue's single active consumer is us): whatever has arrived, up to
        # the prefetch, goes to the group as one batch.
        arrived: asyncio.Queue[AbstractIncomingMessage] = asyncio.Queue()
        tag = await queue.consume(arrived.put)
        failures = 0
        try:
            while True:
                batch = [await arrived.get()]
                while len(batch) < self._prefetch and not arrived.empty():
                    batch.append(arrived.get_nowait())
                acked: set[int] = set()
                try:
                    await self._handle(subscription, batch, acked)
                    failures = 0
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    # Dead-lettering itself failed (the broker went away): hand the messages
                    # back and slow down; redeliveries count towards the queue's delivery limit.
                    failures += 1
                    log.error("amqp_consumer_failed", group=subscription.group, error=repr(exc))
                    for position, message in enumerate(batch):
                        if position not in acked:
                            with contextlib.suppress(Exception):
                                await message.nack(requeue=True)
                    await asyncio.sleep(self._delay(failures))
        finally:
            with contextlib.suppress(Exception):
                await queue.cancel(tag)

    async def _handle(
        self,
        subscription: Subscription,
        messages: Sequence[AbstractIncomingMessage],
        acked: set[int],
    ) -> None:
        group = subscription.group
        wanted: list[Event] = []
        bodies: dict[str, bytes] = {}
        for message in messages:
            try:
                event = Event.model_validate_json(message.body)
            except ValueError as exc:
                log.error("event_undecodable", group=group, error=repr(exc))
                await self._dead_letter(group, message.body, repr(exc), 0, message.type)
                continue
            if subscription.wants(event):
                wanted.append(event)
                bodies[str(event.id)] = message.body
        for event, error, attempts in await deliver_batch(subscription, wanted, delay=self._delay):
            log_dead_letter(group, event, error, attempts)
            await self._dead_letter(group, bodies[str(event.id)], error, attempts, event.type)
        # Only now: a crash before this line leaves the messages to be delivered again. One
        # acknowledgement covers the batch: the channel is this consumer's alone, and everything
        # it delivered before the last message is in the batch.
        await messages[-1].ack(multiple=True)
        acked.update(range(len(messages)))

    async def _dead_letter(
        self, group: str, body: bytes, error: str, attempts: int, event_type: str | None
    ) -> None:
        channel = self._channel
        if channel is None:
            raise RuntimeError("the RabbitMQ event bus has not been started")
        letter = aio_pika.Message(
            body,
            content_type="application/json",
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            type=event_type,
            headers={
                "x-error": error[:1000],
                "x-attempts": attempts,
                "x-failed-at": utcnow().isoformat(),
            },
        )
        await channel.default_exchange.publish(letter, routing_key=self.dlq_name(group))

    # Dead letters ----------------------------------------------------------------------------

    async def dead_letters(self, group: str | None = None) -> Sequence[DeadLetter]:
        groups = [group] if group is not None else sorted({s.group for s in self._subscriptions})
        letters: list[DeadLetter] = []
        for name in groups:
            channel = await self._connected().channel()
            try:
                dlq = await channel.declare_queue(self.dlq_name(name), durable=True)
                while (message := await dlq.get(no_ack=False, fail=False)) is not None:
                    letter = _dead_letter(name, message)
                    if letter is not None:
                        letters.append(letter)
            finally:
                # Closing without acknowledging puts every message back where it was.
                await channel.close()
        return letters

    async def replay_dead_letters(self, group: str) -> int:
        channel = await self._connected().channel(publisher_confirms=True)
        replayed = 0
        try:
            dlq = await channel.declare_queue(self.dlq_name(group), durable=True)
            while (message := await dlq.get(no_ack=False, fail=False)) is not None:
                replay = aio_pika.Message(
                    message.body,
                    content_type="application/json",
                    delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                    type=message.type,
                )
                # Straight to the group's own queue: the other groups handled it already.
                await channel.default_exchange.publish(replay, routing_key=self.queue_name(group))
                await message.ack()
                replayed += 1
        finally:
            await channel.close()
        return replayed

    async def purge_dead_letters(self, group: str) -> int:
        channel = await self._connected().channel()
        try:
            dlq = await channel.declare_queue(self.dlq_name(group), durable=True)
            result = await dlq.purge()
            return int(getattr(result, "message_count", 0) or 0)
        finally:
            await channel.close()

    def _connected(self) -> AbstractRobustConnection:
        if self._connection is None:
            raise RuntimeError("the RabbitMQ event bus has not been started")
        return self._connection


def _message(event: Event) -> aio_pika.Message:
    return aio_pika.Message(
        event.model_dump_json().encode(),
        content_type="application/json",
        delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
        message_id=str(event.id),
        type=event.type,
        headers={"key": event.key},
    )


def _dead_letter(group: str, message: AbstractIncomingMessage) -> DeadLetter | None:
    try:
        event = Event.model_validate_json(message.body)
    except ValueError:
        return None  # never an event; its consumer logged it
    headers = message.headers or {}
    failed_at = headers.get("x-failed-at")
    return DeadLetter(
        group=group,
        event=event,
        error=str(headers.get("x-error", "delivery limit reached (the consumer crashed)")),
        attempts=int(str(headers.get("x-attempts", headers.get("x-delivery-count", 0)))),
        failed_at=datetime.fromisoformat(str(failed_at)) if failed_at else utcnow(),
    )
