"""A smoke test of the configured broker from the command line (``movieverse publish`` and
``movieverse consume``): raw messages on a named queue (RabbitMQ) or topic (Kafka), outside the
services' own event layout, to check that a deployment's broker is reachable and keeps messages.
"""

from __future__ import annotations

import asyncio
import time

import aio_pika
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from movieverse.platform.events.kafka import TOPIC_EXISTS, bootstrap_servers
from movieverse.platform.events.rabbitmq import CONNECT_TIMEOUT_SECONDS

# However the broker misbehaves (down, blocked on a resource alarm, half-open connection), a
# smoke test answers within this long -- over the consumer's own wait.
BROKER_DEADLINE_SECONDS = 30.0


class NoBroker(RuntimeError):
    """The bus is the in-process one: there is no broker to test."""


class BrokerUnresponsive(RuntimeError):
    """The broker did not answer in time."""


async def publish_raw(url: str, queue: str, message: str) -> None:
    try:
        async with asyncio.timeout(BROKER_DEADLINE_SECONDS):
            await _publish(url, queue, message)
    except TimeoutError as exc:
        raise BrokerUnresponsive(_silent(BROKER_DEADLINE_SECONDS)) from exc


async def consume_raw(url: str, queue: str, *, count: int, wait_seconds: float) -> list[str]:
    """Up to ``count`` messages, waiting at most ``wait_seconds``; each is acknowledged."""
    allowed = wait_seconds + BROKER_DEADLINE_SECONDS
    try:
        async with asyncio.timeout(allowed):
            return await _consume(url, queue, count=count, wait_seconds=wait_seconds)
    except TimeoutError as exc:
        raise BrokerUnresponsive(_silent(allowed)) from exc


def _silent(seconds: float) -> str:
    return f"the broker did not answer within {seconds:g} s"


async def _publish(url: str, queue: str, message: str) -> None:
    if url.startswith(("amqp://", "amqps://")):
        connection = await aio_pika.connect(url, timeout=CONNECT_TIMEOUT_SECONDS)
        async with connection:
            channel = await connection.channel(publisher_confirms=True)
            await channel.declare_queue(queue, durable=True)
            body = aio_pika.Message(
                message.encode(), delivery_mode=aio_pika.DeliveryMode.PERSISTENT
            )
            await channel.default_exchange.publish(body, routing_key=queue)
        return
    if url.startswith("kafka://"):
        servers = bootstrap_servers(url)
        await _ensure_topic(servers, queue)
        producer = AIOKafkaProducer(bootstrap_servers=servers, acks="all")
        await producer.start()
        try:
            await producer.send_and_wait(queue, message.encode())
        finally:
            await producer.stop()
        return
    raise NoBroker("the event bus is in process (memory://): set MOVIEVERSE_EVENT_BUS_URL")


async def _consume(url: str, queue: str, *, count: int, wait_seconds: float) -> list[str]:
    deadline = time.monotonic() + wait_seconds
    received: list[str] = []
    if url.startswith(("amqp://", "amqps://")):
        connection = await aio_pika.connect(url, timeout=CONNECT_TIMEOUT_SECONDS)
        async with connection:
            channel = await connection.channel()
            declared = await channel.declare_queue(queue, durable=True)
            while len(received) < count and time.monotonic() < deadline:
                message = await declared.get(no_ack=False, fail=False)
                if message is None:
                    await asyncio.sleep(0.1)
                    continue
                received.append(message.body.decode("utf-8", "replace"))
                await message.ack()
        return received
    if url.startswith("kafka://"):
        servers = bootstrap_servers(url)
        await _ensure_topic(servers, queue)
        consumer = AIOKafkaConsumer(
            queue,
            bootstrap_servers=servers,
            group_id="movieverse-cli",
            enable_auto_commit=False,
            auto_offset_reset="earliest",
        )
        await consumer.start()
        try:
            while len(received) < count and time.monotonic() < deadline:
                batch = await consumer.getmany(timeout_ms=200, max_records=count - len(received))
                for partition, records in batch.items():
                    received.extend(bytes(r.value).decode("utf-8", "replace") for r in records)
                    await consumer.commit({partition: records[-1].offset + 1})
        finally:
            await consumer.stop()
        return received
    raise NoBroker("the event bus is in process (memory://): set MOVIEVERSE_EVENT_BUS_URL")


async def _ensure_topic(servers: str, topic: str) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=servers)
    await admin.start()
    try:
        response = await admin.create_topics(
            [NewTopic(topic, num_partitions=1, replication_factor=1)]
        )
        for name, code, message in response.topic_errors:
            if code not in (0, TOPIC_EXISTS):
                raise RuntimeError(f"cannot create topic {name}: {code} {message}")
    finally:
        await admin.close()
