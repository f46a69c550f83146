"""Outbox relay throughput per event-bus adapter: events/s from a committed outbox to the bus.

For each adapter -- in process (one consumer that does nothing), RabbitMQ (the machine's, from
MOVIEVERSE_TEST_RABBITMQ_URL or amqp://guest:guest@127.0.0.1:5672/) and Kafka (a Tansu broker
started here, as the tests do, or MOVIEVERSE_TEST_KAFKA_URL) -- a fresh embedded movies database
gets ``--events`` staged ``movies.movie.created`` events in its outbox (as committed changes
leave them), then the real OutboxRelay publishes them all (``flush``) with the batch size the
services use. The figure is staged events / seconds until the outbox is empty: reading the
outbox, publishing (a broker confirms every event), and marking each batch published.

Goal: >= 5,000 events/s to Kafka. Writes ``bench/results/relay_throughput.json``::

    .venv/bin/python bench/relay_throughput.py [--events 20000] [--batch 200]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sqlite3
import subprocess
import sys
import time
import uuid
from contextlib import ExitStack
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.brokers import kafka_broker, sweep_rabbitmq  # the same Tansu launcher the tests use

from bench._support import (
    machine_info,
    movieverse_env,
    print_table,
    temporary_work_dir,
    venv_executable,
    write_results,
)
from movieverse.contracts.movies import MovieCreated
from movieverse.platform.db import Database, utcnow
from movieverse.platform.events import Outbox, OutboxRelay, Subscription, new_event
from movieverse.platform.events.bus import EventBus
from movieverse.platform.events.kafka import KafkaEventBus
from movieverse.platform.events.memory import InMemoryEventBus
from movieverse.platform.events.rabbitmq import RabbitMqEventBus
from movieverse.platform.settings import PlatformSettings
from movieverse.services.movies.models import outbox as movies_outbox

GOAL_KAFKA = 5000.0


def _stage(database: Path, count: int) -> None:
    now = utcnow().isoformat(" ")
    rows = []
    for i in range(1, count + 1):
        payload = MovieCreated(
            movie_id=i, tmdb_id=None, imdb_id=None, title=f"Movie {i}", original_title=None,
            original_language=None, overview="A movie staged for the relay benchmark.",
            release_date=None, genres=["Drama"], popularity=1.0, vote_average=7.0,
            vote_count=10, adult=False,
        )  # fmt: skip
        event = new_event(payload, producer="movies", key=str(i))
        rows.append((str(event.id), event.topic, event.key, event.model_dump_json(), now))
    with sqlite3.connect(database) as conn:
        conn.executemany(
            "insert into movies_outbox (event_id, topic, event_key, body, created_at, attempts) "
            "values (?, ?, ?, ?, ?, 0)",
            rows,
        )


async def _relay_seconds(database: Path, bus: EventBus, batch: int) -> float:
    db = Database.connect(f"sqlite:///{database}", PlatformSettings(environment="test"))
    try:
        await bus.start()
        await bus.ready()
        relay = OutboxRelay(
            outbox=Outbox(movies_outbox, service="movies"), db=db, bus=bus, batch_size=batch
        )
        started = time.perf_counter()
        await relay.flush()
        return time.perf_counter() - started
    finally:
        await bus.stop()
        await db.dispose()


def _pending(database: Path) -> int:
    with sqlite3.connect(database) as conn:
        count: int = conn.execute(
            "select count(*) from movies_outbox where published_at is null"
        ).fetchone()[0]
        return count


async def _nothing(_: Any) -> None:
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=200)
    args = parser.parse_args()
    rabbit = os.environ.get("MOVIEVERSE_TEST_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672/")
    results: dict[str, dict[str, float]] = {}
    with temporary_work_dir("mv-relay-") as work, ExitStack() as stack:
        kafka = stack.enter_context(kafka_broker(work))
        prefix = f"mvbench.{uuid.uuid4().hex[:8]}."
        # The bench queue ends up holding every event: it goes when the run does.
        stack.callback(sweep_rabbitmq, rabbit, (prefix,))
        adapters: dict[str, EventBus] = {
            "in-process": InMemoryEventBus(),
            # Declared, not consumed: the figure is the relay's, not a consumer's sharing the CPU.
            "RabbitMQ": RabbitMqEventBus(url=rabbit, prefix=prefix, consume=False),
            "Kafka (Tansu)": KafkaEventBus(url=kafka, prefix=prefix, consume=False),
        }
        for name, bus in adapters.items():
            # One consumer group, so RabbitMQ has a queue to route to and memory a handler.
            bus.subscribe(Subscription("bench", frozenset({MovieCreated.event_type}), _nothing))
            var = work / name.split()[0].lower()
            migrate = [venv_executable("movieverse"), "migrate", "movies"]
            subprocess.run(migrate, env=movieverse_env(var), check=True, capture_output=True)  # noqa: S603
            database = var / "movies.db"
            _stage(database, args.events)
            seconds = asyncio.run(_relay_seconds(database, bus, args.batch))
            if _pending(database):
                raise RuntimeError(f"{name}: {_pending(database)} events left unpublished")
            results[name] = {"seconds": seconds, "events_per_second": args.events / seconds}
    print_table(
        f"Outbox relay throughput ({args.events:,} events, batches of {args.batch})",
        ["adapter", "seconds", "events/s"],
        [[n, f"{r['seconds']:.2f}", f"{r['events_per_second']:,.0f}"] for n, r in results.items()],
    )
    kafka_rate = results["Kafka (Tansu)"]["events_per_second"]
    print(f"\nKafka: {kafka_rate:,.0f} events/s (goal >= {GOAL_KAFKA:,.0f})")
    write_results(
        "relay_throughput",
        {"machine": machine_info(), "events": args.events, "batch": args.batch, **results},
    )


if __name__ == "__main__":
    main()
