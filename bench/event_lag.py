"""End-to-end event lag: from a committed rating (or like) to the effect another service shows.

Runs the in-process bus (``movieverse up`` on SQLite: the embedded shape, and the baseline), then
each broker -- RabbitMQ (the machine's, MOVIEVERSE_TEST_RABBITMQ_URL or
amqp://guest:guest@127.0.0.1:5672/) and Kafka (a Tansu broker started here, as the tests do, or
MOVIEVERSE_TEST_KAFKA_URL) -- in every combination of ``--shapes`` (all services in one
``movieverse up``, or movies, auth, reviews and notifications each a ``movieverse serve``) and
``--stores`` (SQLite files, or a fresh PostgreSQL database with Redis: the distributed shape;
MOVIEVERSE_TEST_POSTGRES_URL / _REDIS_URL or the local defaults). Each deployment gets an admin,
``--movies`` movies, ``--users`` signed-in users and one review by each of the first 20. Then an
open-loop generator sends ``--rate`` rating writes per second (random user, movie and value) and
``--like-rate`` likes per second (each a new user-review pair) for ``--duration`` seconds:
requests start on schedule whether or not earlier ones finished, so a slow server meets a
growing queue, as it would from real users. The rate actually served is printed beside the lag.

The lag of each event is measured from the services' own records, not by polling: the instant
reviews staged it in its outbox (inside the committed transaction of the write) to the instant
the consumer recorded it in its inbox (inside the transaction that applied it); the relay's part
(staged to confirmed by the broker) is printed too:

* rating → ``reviews.movie_ratings.changed`` → the movie's ``vote_average``/``vote_count``
  updated by movies (consumer ``ratings``);
* like → ``reviews.review.liked`` → the author's notification stored by notifications (consumer
  ``review-likes``), which the feed and the stream then show.

Every process stamps from the same host clock. The script waits until every event of the window
has been applied (a missing one is reported as lost), and prints p50/p95/p99/max per run against
the goal (p99 < 1 s at 200 ratings/s). Writes ``bench/results/event_lag.json``::

    .venv/bin/python bench/event_lag.py [--rate 200] [--like-rate 10] [--duration 20]
        [--adapters memory,rabbitmq,kafka] [--shapes "one process,per service"]
        [--stores SQLite,PostgreSQL]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import orjson
from sqlalchemy import MetaData, Select, select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.brokers import kafka_broker, sweep_rabbitmq  # the same Tansu launcher the tests use
from tests.support import admin_statement

from bench._catalog import run_cli, serve_service
from bench._ratings import CHEAP_HASHING, RatingWorld, Site, build_world, create_admin
from bench._support import (
    latency_summary_ms,
    log_problems,
    machine_info,
    movieverse_env,
    movieverse_up,
    print_table,
    temporary_work_dir,
    write_results,
)
from movieverse.platform.db import normalise_url
from movieverse.platform.events.inbox import inbox_table
from movieverse.platform.events.outbox import outbox_table

GOAL_P99_SECONDS = 1.0
ONE_PROCESS = "one process"
PER_SERVICE = "per service"
SQLITE = "SQLite"
POSTGRES = "PostgreSQL"
# The services the load touches, each its own process in the per-service shape (movies first:
# the others are told its URL).
SERVICES = ("movies", "auth", "reviews", "notifications")
AUTHORS = 20
EFFECTS = {
    # what is measured: (producer's event type, consuming service, consumer name)
    "rating → movie aggregate": ("reviews.movie_ratings.changed", "movies", "ratings"),
    "like → notification": ("reviews.review.liked", "notifications", "review-likes"),
}


async def _reviews(site: Site, world: RatingWorld) -> list[tuple[str, int]]:
    """One review per author; returns (review id, author index)."""
    made = []
    async with httpx.AsyncClient(timeout=30) as client:
        for index, author in enumerate(world.users[:AUTHORS]):
            movie = world.movie_ids[index % len(world.movie_ids)]
            response = await client.post(
                site.url(f"/movies/{movie}/reviews"),
                json={"title": f"Review {index}"},
                headers=author,
            )
            response.raise_for_status()
            made.append((str(response.json()["id"]), index))
    return made


async def _load(
    site: Site,
    world: RatingWorld,
    reviews: list[tuple[str, int]],
    *,
    rate: float,
    like_rate: float,
    seconds: float,
) -> dict[str, Any]:
    """Send requests on a fixed schedule; returns client-side latencies and status counts."""
    chosen = random.Random(7)
    schedule: list[tuple[float, str, str, dict[str, str], dict[str, Any] | None]] = []
    for i in range(int(rate * seconds)):
        user = chosen.choice(world.users)
        movie = chosen.choice(world.movie_ids)
        value = {"value": chosen.randint(1, 20) / 2}
        schedule.append((i / rate, "PUT", f"/movies/{movie}/rating", user, value))
    pairs = [
        (review_id, liker)
        for review_id, author in reviews
        for liker in range(len(world.users))
        if liker != author
    ]
    chosen.shuffle(pairs)
    for i, (review_id, liker) in enumerate(pairs[: int(like_rate * seconds)]):
        path = f"/reviews/{review_id}/like"
        schedule.append((i / like_rate, "PUT", path, world.users[liker], None))
    schedule.sort(key=lambda item: item[0])

    latencies: dict[str, list[float]] = {"rating": [], "like": []}
    statuses: dict[str, int] = {}
    late_starts: list[float] = []
    connector = aiohttp.TCPConnector(limit=256)
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as client:

        async def send(
            method: str, path: str, headers: dict[str, str], body: dict[str, Any] | None
        ) -> None:
            kind = "like" if path.endswith("/like") else "rating"
            started = time.perf_counter()
            try:
                url = site.url(path)
                async with client.request(method, url, headers=headers, json=body) as response:
                    await response.read()
                    key = str(response.status)
            except (aiohttp.ClientError, TimeoutError) as exc:
                key = type(exc).__name__
            latencies[kind].append(time.perf_counter() - started)
            statuses[key] = statuses.get(key, 0) + 1

        began, cpu_began = time.perf_counter(), time.process_time()
        tasks = []
        for offset, method, path, headers, body in schedule:
            wait = began + offset - time.perf_counter()
            if wait > 0:
                await asyncio.sleep(wait)
            else:
                late_starts.append(-wait)
            tasks.append(asyncio.create_task(send(method, path, headers, body)))
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - began
        generator_cpu = time.process_time() - cpu_began
    return {
        "requests": len(schedule),
        "seconds": elapsed,
        "statuses": statuses,
        "rating_latency": latency_summary_ms(latencies["rating"]),
        "like_latency": latency_summary_ms(latencies["like"]),
        # The generator itself falling behind its schedule would understate the load.
        "generator_late_starts_over_10ms": sum(1 for late in late_starts if late > 0.01),
        # The generator shares the two cores with the server: this is what it took of them.
        "generator_cpu_seconds": generator_cpu,
    }


@dataclass(frozen=True)
class Records:
    """Where the services keep their data: a SQLite file each under ``var_dir``, or one
    PostgreSQL database (``database_url``) -- read through the services' own table definitions."""

    var_dir: Path
    database_url: str | None

    def url(self, service: str) -> str:
        if self.database_url is not None:
            return normalise_url(self.database_url)
        return f"sqlite+aiosqlite:///{self.var_dir / f'{service}.db'}"

    def rows(self, service: str, statement: Select[Any]) -> list[Any]:
        async def fetch() -> list[Any]:
            engine = create_async_engine(self.url(service))
            try:
                async with engine.connect() as conn:
                    return list((await conn.execute(statement)).all())
            finally:
                await engine.dispose()

        return asyncio.run(fetch())


def _staged(
    records: Records, event_type: str, since: datetime
) -> dict[str, tuple[datetime, datetime | None]]:
    """Event id → (committed, published by the relay) of the window's events of this type."""
    table = outbox_table(MetaData(), "reviews")
    query = select(table.c.event_id, table.c.body, table.c.created_at, table.c.published_at).where(
        table.c.created_at >= since
    )
    rows = records.rows("reviews", query)
    return {
        str(i): (at, published)
        for i, body, at, published in rows
        if orjson.loads(body)["type"] == event_type
    }


def _handled(records: Records, service: str, consumer: str, ids: set[str]) -> dict[str, datetime]:
    table = inbox_table(MetaData(), service)
    query = select(table.c.event_id, table.c.handled_at).where(table.c.consumer == consumer)
    rows = records.rows(service, query)
    return {str(event_id): at for event_id, at in rows if str(event_id) in ids}


def _lags(records: Records, since: datetime, *, drain_seconds: float) -> dict[str, Any]:
    """Wait until every event of the window was applied (or the drain time is up), then measure."""
    deadline = time.monotonic() + drain_seconds
    results: dict[str, Any] = {}
    for label, (event_type, service, consumer) in EFFECTS.items():
        while True:
            staged = _staged(records, event_type, since)
            handled = _handled(records, service, consumer, set(staged))
            if len(handled) == len(staged) or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        lags = [(handled[e] - staged[e][0]).total_seconds() for e in handled]
        # The relay's part of it: from the commit to the broker's confirm.
        relayed = [(p - c).total_seconds() for c, p in staged.values() if p is not None]
        results[label] = {
            "events": len(staged),
            "lost": len(staged) - len(handled),
            **latency_summary_ms(lags),
            "relay_p50_ms": latency_summary_ms(relayed)["p50_ms"] if relayed else None,
            "relay_p99_ms": latency_summary_ms(relayed)["p99_ms"] if relayed else None,
        }
    return results


@contextlib.contextmanager
def _deployment(work: Path, extra: dict[str, str], shape: str) -> Iterator[tuple[Site, list[Any]]]:
    """``movieverse up`` (one process), or each service the load touches as its own process
    (``movieverse serve NAME``), talking over the broker and, for the catalog, HTTP."""
    if shape == ONE_PROCESS:
        with movieverse_up(work, extra_env=extra) as server:
            yield Site({"*": server.base_url}), [server]
        return
    var_dir = work / "var"
    run_cli(movieverse_env(var_dir, extra), "migrate")
    with ExitStack() as stack:
        servers: dict[str, Any] = {}
        for name in SERVICES:
            env = dict(extra)
            if "movies" in servers:
                env["MOVIEVERSE_MOVIES_URL"] = servers["movies"].base_url
            servers[name] = stack.enter_context(
                serve_service(name, var_dir, log_dir=work, extra_env=env)
            )
        yield Site({n: s.base_url for n, s in servers.items()}), list(servers.values())


@contextlib.contextmanager
def _store(store: str, var_dir: Path) -> Iterator[tuple[Records, dict[str, str]]]:
    """SQLite files (the embedded shape), or a fresh PostgreSQL database with Redis beside it
    (the distributed shape), dropped afterwards."""
    if store == SQLITE:
        yield Records(var_dir, None), {}
        return
    admin = os.environ.get("MOVIEVERSE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1/test")
    name = f"mvlag_{uuid.uuid4().hex[:10]}"
    asyncio.run(admin_statement(admin, f'CREATE DATABASE "{name}"'))
    url = make_url(normalise_url(admin)).set(database=name)
    try:
        env = {
            "MOVIEVERSE_DATABASE_URL": url.render_as_string(hide_password=False),
            "MOVIEVERSE_REDIS_URL": os.environ.get(
                "MOVIEVERSE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0"
            ),
            "MOVIEVERSE_REDIS_KEY_PREFIX": f"{name}:",
        }
        yield Records(var_dir, env["MOVIEVERSE_DATABASE_URL"]), env
    finally:
        asyncio.run(admin_statement(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _run(
    work: Path, bus_url: str | None, shape: str, store: str, args: argparse.Namespace
) -> dict[str, Any]:
    extra = dict(CHEAP_HASHING)
    if bus_url is not None:
        extra["MOVIEVERSE_EVENT_BUS_URL"] = bus_url
        extra["MOVIEVERSE_EVENT_PREFIX"] = f"mvlag.{uuid.uuid4().hex[:8]}."
    var_dir = work / "var"
    with (
        _store(store, var_dir) as (records, store_env),
        _deployment(work, extra | store_env, shape) as (site, servers),
    ):
        extra |= store_env
        create_admin(movieverse_env(var_dir, extra))
        world = asyncio.run(build_world(site, movies=args.movies, users=args.users))
        reviews = asyncio.run(_reviews(site, world))
        time.sleep(2)  # let set-up events settle: the window holds only the load's events
        since = datetime.now(UTC)
        load = asyncio.run(
            _load(
                site, world, reviews, rate=args.rate, like_rate=args.like_rate,
                seconds=args.duration,
            )
        )  # fmt: skip
        lags = _lags(records, since, drain_seconds=120)
        problems = [line for server in servers for line in log_problems(server)]
    return {
        "shape": shape,
        "store": store,
        "load": load,
        "lags": lags,
        "server_error_lines": problems[:20],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=200.0, help="rating writes per second")
    parser.add_argument("--like-rate", type=float, default=10.0, help="likes per second")
    parser.add_argument("--duration", type=float, default=20.0)
    parser.add_argument("--movies", type=int, default=200)
    parser.add_argument("--users", type=int, default=300)
    parser.add_argument("--adapters", default="memory,rabbitmq,kafka")
    parser.add_argument(
        "--shapes",
        default=f"{ONE_PROCESS},{PER_SERVICE}",
        help="for the brokers: every service in one process, and/or one process per service",
    )
    parser.add_argument(
        "--stores",
        default=f"{SQLITE},{POSTGRES}",
        help="for the brokers: SQLite files (embedded), and/or PostgreSQL + Redis (distributed)",
    )
    args = parser.parse_args()
    rabbit = os.environ.get("MOVIEVERSE_TEST_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672/")
    results: dict[str, dict[str, Any]] = {}
    with temporary_work_dir("mv-event-lag-") as work, ExitStack() as stack:
        wanted = args.adapters.split(",")
        shapes = args.shapes.split(",")
        stores = args.stores.split(",")
        runs: list[tuple[str, str | None, str, str]] = []
        if "memory" in wanted:
            # It does not cross processes, and is the embedded shape's: SQLite.
            runs.append(("in-process", None, ONE_PROCESS, SQLITE))
        brokers: list[tuple[str, str]] = []
        if "rabbitmq" in wanted:
            brokers.append(("RabbitMQ", rabbit))
            stack.callback(sweep_rabbitmq, rabbit, ("mvlag.",))
        if "kafka" in wanted:
            brokers.append(("Kafka (Tansu)", stack.enter_context(kafka_broker(work))))
        runs += [
            (name, url, shape, store)
            for name, url in brokers
            for store in stores
            for shape in shapes
        ]
        for index, (name, url, shape, store) in enumerate(runs):
            folder = work / f"run{index}"
            folder.mkdir()
            results[f"{name}, {shape}, {store}"] = _run(folder, url, shape, store, args)
    rows = []
    for name, result in results.items():
        for label, lag in result["lags"].items():
            rows.append(
                [
                    name, label, f"{lag['events']:,}", str(lag["lost"]), f"{lag['p50_ms']:.0f}",
                    f"{lag['p95_ms']:.0f}", f"{lag['p99_ms']:.0f}", f"{lag['max_ms']:.0f}",
                    f"{lag['relay_p50_ms'] or 0:.0f} / {lag['relay_p99_ms'] or 0:.0f}",
                ]
            )  # fmt: skip
    print_table(
        f"End-to-end event lag at {args.rate:.0f} ratings/s + {args.like_rate:.0f} likes/s "
        f"for {args.duration:.0f} s (ms, commit to applied)",
        ["adapter", "effect", "events", "lost", "p50", "p95", "p99", "max", "relay p50/p99"],
        rows,
    )
    print()
    baseline_name = f"in-process, {ONE_PROCESS}, {SQLITE}"
    baseline = results.get(baseline_name)
    for name, result in results.items():
        load = result["load"]
        rating_p99 = result["lags"]["rating → movie aggregate"]["p99_ms"]
        verdict = "meets" if rating_p99 < GOAL_P99_SECONDS * 1000 else "MISSES"
        ratio = ""
        if baseline is not None and name != baseline_name:
            base = baseline["lags"]["rating → movie aggregate"]["p99_ms"]
            ratio = f", {rating_p99 / base:.2f}x the in-process p99"
        print(
            f"{name}: rating p99 lag {rating_p99:.0f} ms {verdict} the goal (< 1000 ms){ratio}; "
            f"{load['requests']:,} requests offered in {args.duration:.0f} s, all answered "
            f"after {load['seconds']:.1f} s ({load['requests'] / load['seconds']:.0f}/s served), "
            f"statuses {load['statuses']}, write p99 {load['rating_latency']['p99_ms']:.0f} ms"
        )
    write_results(
        "event_lag",
        {
            "machine": machine_info(),
            "rate": args.rate,
            "like_rate": args.like_rate,
            "duration": args.duration,
            **results,
        },
    )


if __name__ == "__main__":
    main()
