"""Rating writes in the embedded shape: ``PUT /movies/{id}/rating`` requests/s and latency.

A fresh ``movieverse up`` (SQLite, in-process bus; data in a temporary folder) gets an admin,
``--movies`` movies made through the API and ``--users`` registered, signed-in users. wrk then
sends, at 32 connections for ``--duration`` seconds after a warm-up, a seeded random mix of
rating writes: a random user rates a random movie with a random value (0.5-10 in 0.5 steps), so
most writes insert a rating and the rest replace one -- each one a transaction that also updates
the movie's totals and stages two events in the outbox, which the relay publishes meanwhile and
movies consumes (the aggregate follows in the same process, sharing the cores).

The baseline, measured in the same run the same way, is a bare Starlette JSON endpoint on the
same uvicorn options (``bench/_baseline_app.py``): the ratio says what a durable write costs
against the HTTP ceiling of this machine. Afterwards the script checks that every movie's
``vote_count`` reached the number of ratings reviews holds for it (no write lost on the way).
Needs wrk (``apt-get install wrk``). Writes ``bench/results/rating_writes.json``::

    .venv/bin/python bench/rating_writes.py [--duration 15] [--movies 200] [--users 300]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._catalog import WrkRequest, require_wrk, wrk_requests, wrk_rotating
from bench._ratings import CHEAP_HASHING, Site, build_world, create_admin, totals_agree
from bench._support import (
    BENCH_DIR,
    free_port,
    log_problems,
    machine_info,
    movieverse_env,
    movieverse_up,
    print_table,
    run_server,
    temporary_work_dir,
    venv_executable,
    write_results,
)

CONNECTIONS = 32
DISTINCT_REQUESTS = 50_000


def _rating_requests(movie_ids: list[int], users: list[dict[str, str]]) -> list[WrkRequest]:
    chosen = random.Random(4)
    return [
        WrkRequest(
            "PUT",
            f"/movies/{chosen.choice(movie_ids)}/rating",
            chosen.choice(users)["Authorization"],
            f'{{"value": {chosen.randint(1, 20) / 2}}}',
        )
        for _ in range(DISTINCT_REQUESTS)
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=15.0)
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--movies", type=int, default=200)
    parser.add_argument("--users", type=int, default=300)
    args = parser.parse_args()
    wrk = require_wrk()
    with temporary_work_dir("mv-rating-writes-") as work:
        env = movieverse_env(work / "var", CHEAP_HASHING)
        with movieverse_up(work, extra_env=CHEAP_HASHING) as server:
            create_admin(env)
            site = Site({"*": server.base_url})
            world = asyncio.run(build_world(site, movies=args.movies, users=args.users))
            ratings = wrk_requests(
                wrk, server.base_url, _rating_requests(world.movie_ids, world.users),
                duration=args.duration, warmup=args.warmup, connections=CONNECTIONS,
                work_dir=work, label="ratings",
            )  # fmt: skip
            agreement = totals_agree(work / "var", world.movie_ids, seconds=60)
            problems = log_problems(server)
        port = free_port()
        baseline_command = [venv_executable("python"), str(BENCH_DIR / "_baseline_app.py")]
        with run_server(
            "starlette", [*baseline_command, "--port", str(port)], port=port,
            env=movieverse_env(work / "var"), log_dir=work,
        ) as baseline_server:  # fmt: skip
            baseline = wrk_rotating(
                wrk, baseline_server.base_url, ["/"], duration=args.duration,
                warmup=args.warmup, connections=CONNECTIONS, work_dir=work, label="baseline",
            )  # fmt: skip
    ratio = ratings["requests_per_second"] / baseline["requests_per_second"]
    rows = []
    for name, figures in (("PUT /movies/{id}/rating", ratings), ("bare Starlette GET /", baseline)):
        latency = figures["latency_ms"]
        rows.append(
            [
                name, f"{figures['requests_per_second']:,.0f}", f"{latency['p50']:.1f}",
                f"{latency['p99']:.1f}", str(figures["non_2xx_3xx"] + figures["socket_errors"]),
            ]
        )  # fmt: skip
    print_table(
        f"Rating writes, embedded shape ({CONNECTIONS} connections, {args.duration:.0f} s)",
        ["endpoint", "req/s", "p50 ms", "p99 ms", "errors"],
        rows,
    )
    print(f"\nratio to the bare endpoint: {ratio:.3f}")
    print(
        f"{agreement['ratings_stored']:,} ratings stored; movies behind on vote_count: "
        f"{agreement['movies_behind']} (agreed {agreement['seconds_to_agree']:.1f} s after load)"
    )
    if problems:
        print(f"server logged {len(problems)} error lines, first: {problems[0]}")
    write_results(
        "rating_writes",
        {
            "machine": machine_info(),
            "connections": CONNECTIONS,
            "movies": args.movies,
            "users": args.users,
            "ratings": {k: v for k, v in ratings.items() if k != "wrk_output"},
            "baseline": {k: v for k, v in baseline.items() if k != "wrk_output"},
            "ratio": ratio,
            "aggregates": agreement,
            "server_error_lines": problems[:20],
        },
    )
    if agreement["movies_behind"] or ratings["non_2xx_3xx"]:
        raise SystemExit("lost or refused writes: see above")


if __name__ == "__main__":
    main()
