"""The Kafka adapter of the event bus (aiokafka; any Kafka-protocol broker: Kafka, Redpanda, Tansu).

Layout, under a configurable prefix (default ``movieverse.``):
- a topic per aggregate -- ``movieverse.reviews.rating`` for ``reviews.rating.changed`` -- keyed by
  the event's key, so order holds per entity (one key, one partition);
- each subscription is a consumer group ``movieverse.<group>`` reading its types' topics and its
  own retry topic ``movieverse.retry.<group>`` (where replayed dead letters go, so a replay reaches
  that group only);
- dead letters go to ``movieverse.dlq.<group>``; the offsets of a viewer group
  ``movieverse.dlq-viewer.<group>`` mark how far they were replayed or purged.

Offsets are committed only after the records before them were handled or dead-lettered: a crash
in between delivers them again, and the inbox absorbs the repeat. Within a partition records are
handled in order: what one poll brought, from every partition, goes to a batch handler in one
transaction, and one at a time if that fails. Topics are created on first use (``partitions`` each).

A handler that raises is retried, then dead-lettered after ``max_attempts``. One that kills its
process every time is counted across restarts by the :class:`~.crashes.CrashLog` and
dead-lettered after ``max_attempts`` crashes, so it never blocks its partition for ever.

Not done here, deliberately: the idempotent producer (Tansu, the broker the tests use, refuses
it).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.structs import ConsumerRecord

from movieverse.contracts.envelope import Event
from movieverse.platform.db import utcnow
from movieverse.platform.events.bus import DeadLetter, Subscription, backoff_delays
from movieverse.platform.events.crashes import CrashLog
from movieverse.platform.events.delivery import deliver_batch, log, log_dead_letter

TOPIC_EXISTS = 36  # Kafka's TOPIC_ALREADY_EXISTS error code
POLL_MS = 200
# Reading dead letters stops at the partition's high watermark as fetches report it (Tansu's
# answer to an end-offset query is not reliable), or after this long without one.
DRAIN_POLL_MS = 200
DRAIN_IDLE_MS = 3000


def bootstrap_servers(url: str) -> str:
    """``kafka://host:port[,host:port]`` -> ``host:port[,host:port]``."""
    _, _, servers = url.partition("://")
    return servers.rstrip("/")


class KafkaEventBus:
    def __init__(
        self,
        *,
        url: str,
        prefix: str = "movieverse.",
        partitions: int = 3,
        retry_base_seconds: float = 0.2,
        retry_max_seconds: float = 5.0,
        session_timeout_ms: int = 10_000,
        consume: bool = True,
        crash_log: CrashLog | None = None,
    ) -> None:
        self._servers = bootstrap_servers(url)
        # How soon a consumer that vanished is noticed and its partitions handed on (a restart
        # of the same process waits for it too).
        self._session_timeout_ms = session_timeout_ms
        self._prefix = prefix
        self._partitions = partitions
        self._delay = backoff_delays(retry_base_seconds, retry_max_seconds)
        self._consume = consume
        # Without one, a record that kills its consumer is fetched again after every restart.
        self._crash_log = crash_log
        self._subscriptions: list[Subscription] = []
        self._consumers: list[asyncio.Task[None]] = []
        self._topics: set[str] = set()
        self._topic_lock = asyncio.Lock()
        self._producer: AIOKafkaProducer | None = None
        self._admin: AIOKafkaAdminClient | None = None

    # Names -----------------------------------------------------------------------------------

    def topic(self, aggregate: str) -> str:
        return f"{self._prefix}{aggregate}"

    def retry_topic(self, group: str) -> str:
        return f"{self._prefix}retry.{group}"

    def dlq_topic(self, group: str) -> str:
        return f"{self._prefix}dlq.{group}"

    def _group_id(self, group: str) -> str:
        return f"{self._prefix}{group}"

    # Life cycle ------------------------------------------------------------------------------

    async def start(self) -> None:
        self._admin = AIOKafkaAdminClient(bootstrap_servers=self._servers)
        await self._admin.start()
        # acks="all": accepted means written to every in-sync replica, so the relay may forget.
        self._producer = AIOKafkaProducer(
            bootstrap_servers=self._servers, acks="all", linger_ms=2, enable_idempotence=False
        )
        await self._producer.start()
        for subscription in self._subscriptions:
            self._begin(subscription)

    async def stop(self) -> None:
        for task in self._consumers:
            task.cancel()
        for task in self._consumers:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._consumers.clear()
        if self._producer is not None:
            await self._producer.stop()
            self._producer = None
        if self._admin is not None:
            await self._admin.close()
            self._admin = None

    def subscribe(self, subscription: Subscription) -> None:
        self._subscriptions.append(subscription)
        if self._producer is not None:
            self._begin(subscription)

    async def ready(self) -> None:
        """The subscriptions' topics exist (Kafka keeps events in them whether or not a group
        has begun to read, so nothing else needs declaring)."""
        topics = {self.topic(t) for s in self._subscriptions for t in s.topics}
        topics |= {self.retry_topic(s.group) for s in self._subscriptions}
        await self._ensure_topics(topics)

    def _begin(self, subscription: Subscription) -> None:
        if self._consume:
            task = asyncio.create_task(
                self._run_consumer(subscription), name=f"kafka-{subscription.group}"
            )
            self._consumers.append(task)

    async def ping(self) -> str:
        cluster = await self._admin_client().describe_cluster()
        return (
            f"Kafka protocol, cluster {cluster['cluster_id']}, {len(cluster['brokers'])} broker(s)"
        )

    # Publishing ------------------------------------------------------------------------------

    async def publish(self, event: Event) -> None:
        await self.publish_many([event])

    async def publish_many(self, events: Sequence[Event]) -> None:
        if not events:
            return
        producer = self._producer_client()
        await self._ensure_topics({self.topic(e.topic) for e in events})
        # Sent in order without waiting on each: per partition the producer keeps that order.
        pending = [
            await producer.send(
                self.topic(e.topic),
                value=e.model_dump_json().encode(),
                key=e.key.encode(),
                headers=[("type", e.type.encode())],
            )
            for e in events
        ]
        await asyncio.gather(*pending)

    async def _ensure_topics(self, topics: set[str], partitions: int | None = None) -> None:
        missing = topics - self._topics
        if not missing:
            return
        async with self._topic_lock:
            missing = topics - self._topics
            if not missing:
                return
            count = partitions or self._partitions
            response = await self._admin_client().create_topics(
                [NewTopic(t, num_partitions=count, replication_factor=1) for t in sorted(missing)]
            )
            for name, code, message in response.topic_errors:
                if code not in (0, TOPIC_EXISTS):
                    raise RuntimeError(f"cannot create Kafka topic {name}: {code} {message}")
            self._topics |= missing

    # Consuming -------------------------------------------------------------------------------

    async def _run_consumer(self, subscription: Subscription) -> None:
        """Consume until stopped; a lost broker connection is retried with back-off, not fatal."""
        failures = 0
        while True:
            try:
                await self._consume_once(subscription)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                failures += 1
                log.error(
                    "kafka_consumer_failed",
                    group=subscription.group,
                    error=repr(exc),
                    retry=failures,
                )
                await asyncio.sleep(self._delay(failures))

    async def _consume_once(self, subscription: Subscription) -> None:
        topics = {self.topic(t) for t in subscription.topics} | {
            self.retry_topic(subscription.group)
        }
        await self._ensure_topics(topics)
        consumer = AIOKafkaConsumer(
            *sorted(topics),
            bootstrap_servers=self._servers,
            group_id=self._group_id(subscription.group),
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            session_timeout_ms=self._session_timeout_ms,
            heartbeat_interval_ms=max(100, self._session_timeout_ms // 10),
        )
        # Partitions whose first records since this consumer started are done (see crashes.py).
        settled: set[TopicPartition] = set()
        try:
            await consumer.start()
            while True:
                batch = await consumer.getmany(timeout_ms=POLL_MS, max_records=200)
                flowing: dict[TopicPartition, list[ConsumerRecord[Any, Any]]] = {}
                for partition, records in batch.items():
                    if partition in settled or self._crash_log is None:
                        flowing[partition] = records
                    else:
                        await self._handle_first(
                            subscription, consumer, partition, records, self._crash_log
                        )
                        settled.add(partition)
                if flowing:
                    # Every partition's records in one batch (each partition's in its order):
                    # one transaction and one commit per poll, not one per partition.
                    await self._handle_records(
                        subscription, [r for records in flowing.values() for r in records]
                    )
                    # Committed only once every record before the offset was dealt with.
                    await consumer.commit({p: rs[-1].offset + 1 for p, rs in flowing.items()})
        finally:
            await consumer.stop()

    async def _handle_first(
        self,
        subscription: Subscription,
        consumer: AIOKafkaConsumer,
        partition: TopicPartition,
        records: Sequence[ConsumerRecord[Any, Any]],
        crashes: CrashLog,
    ) -> None:
        """A partition's first records since the consumer started, noted in the crash log first.
        If the last run died in the middle of them, they go one at a time, each noted, and the
        one that has killed its consumer ``max_attempts`` times is dead-lettered unhandled."""
        group, topic, number = subscription.group, partition.topic, partition.partition
        attempt = await crashes.attempt(group, topic, number, records[0].offset)
        if attempt == 1:
            await self._handle_records(subscription, records)
            await consumer.commit({partition: records[-1].offset + 1})
        else:
            log.warning("kafka_crash_recovery", group=group, topic=topic, partition=number)
            for index, record in enumerate(records):
                if index > 0:
                    attempt = await crashes.attempt(group, topic, number, record.offset)
                if attempt > subscription.max_attempts:
                    await self._dead_letter_crasher(subscription, record, crashes=attempt - 1)
                else:
                    await self._handle_records(subscription, [record])
                await consumer.commit({partition: record.offset + 1})
        await crashes.done(group, topic, number)

    async def _dead_letter_crasher(
        self, subscription: Subscription, record: ConsumerRecord[Any, Any], *, crashes: int
    ) -> None:
        error = f"its consumer died {crashes} times while handling it"
        try:
            event = Event.model_validate_json(record.value)
        except ValueError:
            await self._dead_letter_raw(subscription.group, record, error)
            return
        log_dead_letter(subscription.group, event, error, crashes)
        await self._send_dead_letter(
            subscription.group,
            key=record.key,
            letter={"event": event.model_dump(mode="json"), "error": error, "attempts": crashes},
        )

    async def _handle_records(
        self, subscription: Subscription, records: Sequence[ConsumerRecord[Any, Any]]
    ) -> None:
        """One partition's records, in order: the events the group wants go to it as a batch."""
        wanted: list[tuple[Event, bytes | None]] = []
        for record in records:
            try:
                event = Event.model_validate_json(record.value)
            except ValueError as exc:
                # Not an event at all: nothing can handle it, so it goes aside at once.
                await self._dead_letter_raw(subscription.group, record, repr(exc))
                continue
            if subscription.wants(event):
                wanted.append((event, record.key))
        keys = {str(event.id): key for event, key in wanted}
        failures = await deliver_batch(
            subscription, [event for event, _ in wanted], delay=self._delay
        )
        for event, error, attempts in failures:
            log_dead_letter(subscription.group, event, error, attempts)
            await self._send_dead_letter(
                subscription.group,
                key=keys[str(event.id)],
                letter={
                    "event": event.model_dump(mode="json"),
                    "error": error,
                    "attempts": attempts,
                },
            )

    async def _dead_letter_raw(
        self, group: str, record: ConsumerRecord[Any, Any], error: str
    ) -> None:
        log.error("event_undecodable", group=group, topic=record.topic, offset=record.offset)
        raw = bytes(record.value or b"").decode("utf-8", "replace")
        await self._send_dead_letter(
            group, key=record.key, letter={"raw": raw, "error": error, "attempts": 0}
        )

    async def _send_dead_letter(
        self, group: str, *, key: bytes | None, letter: dict[str, Any]
    ) -> None:
        topic = self.dlq_topic(group)
        await self._ensure_topics({topic}, partitions=1)
        body = orjson.dumps({**letter, "group": group, "failed_at": utcnow().isoformat()})
        await self._producer_client().send_and_wait(topic, value=body, key=key)

    # Dead letters ----------------------------------------------------------------------------

    async def dead_letters(self, group: str | None = None) -> Sequence[DeadLetter]:
        groups = [group] if group is not None else sorted({s.group for s in self._subscriptions})
        letters: list[DeadLetter] = []
        for name in groups:
            letters.extend(letter for letter, _ in await self._drain(name, commit=False))
        return letters

    async def replay_dead_letters(self, group: str) -> int:
        drained = await self._drain(group, commit=True, forward=True)
        return len(drained)

    async def purge_dead_letters(self, group: str) -> int:
        return len(await self._drain(group, commit=True))

    async def _drain(
        self, group: str, *, commit: bool, forward: bool = False
    ) -> list[tuple[DeadLetter, bytes | None]]:
        """Read the group's dead letters past the viewer's offset; with ``commit`` move the offset
        past them (forwarding each to the group's retry topic first when ``forward``)."""
        topic = self.dlq_topic(group)
        await self._ensure_topics({topic}, partitions=1)
        viewer = AIOKafkaConsumer(
            bootstrap_servers=self._servers,
            group_id=f"{self._prefix}dlq-viewer.{group}",
            enable_auto_commit=False,
            auto_offset_reset="earliest",
        )
        await viewer.start()
        try:
            partition = TopicPartition(topic, 0)
            viewer.assign([partition])
            found: list[tuple[DeadLetter, bytes | None]] = []
            last: int | None = None
            idle = 0
            while idle < DRAIN_IDLE_MS:
                batch = await viewer.getmany(partition, timeout_ms=DRAIN_POLL_MS)
                records = batch.get(partition, [])
                highwater = viewer.highwater(partition)
                caught_up = highwater is not None and await viewer.position(partition) >= highwater
                idle = 0 if records else idle + DRAIN_POLL_MS
                for record in records:
                    last = record.offset
                    letter = _dead_letter(group, record.value)
                    if letter is not None:
                        found.append((letter, record.key))
                if caught_up:
                    break
            if forward:
                await self._ensure_topics({self.retry_topic(group)})
                for letter, key in found:
                    await self._producer_client().send_and_wait(
                        self.retry_topic(group),
                        value=letter.event.model_dump_json().encode(),
                        key=key,
                    )
            if commit and last is not None:
                await viewer.commit({partition: last + 1})
            return found
        finally:
            await viewer.stop()

    def _producer_client(self) -> AIOKafkaProducer:
        if self._producer is None:
            raise RuntimeError("the Kafka event bus has not been started")
        return self._producer

    def _admin_client(self) -> AIOKafkaAdminClient:
        if self._admin is None:
            raise RuntimeError("the Kafka event bus has not been started")
        return self._admin


def _dead_letter(group: str, value: bytes | None) -> DeadLetter | None:
    """A dead-letter record as a DeadLetter; None for one whose payload was never an event (it
    is skipped by replay and listed only in the consumer's error log)."""
    body = orjson.loads(value or b"{}")
    if "event" not in body:
        return None
    return DeadLetter(
        group=group,
        event=Event.model_validate(body["event"]),
        error=str(body.get("error", "")),
        attempts=int(body.get("attempts", 0)),
        failed_at=datetime.fromisoformat(body["failed_at"]),
    )
