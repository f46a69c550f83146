"""What revocation costs: per request on ``GET /users/me``, and how fast it travels.

1. ``GET /users/me`` through the all-in-one app in this process (an ASGI client, no sockets, so
   the figure is the app's own CPU), with the revocation check and without it, in alternating
   rounds; the list holds ``--entries`` revoked sessions and users, as a busy deployment's
   would. CPU is this process's (``time.process_time``), per request.
2. One check alone (two dict lookups), in ns.
3. How long a revocation takes to reach another process's list: through the SQLite file
   (polled) and, with ``--redis URL``, through Redis pub/sub -- two stores on the same data,
   as two processes have; wall time from ``revoke`` returning to the follower holding it.

    .venv/bin/python bench/revocation_cost.py [--requests 3000] [--rounds 6] [--redis URL]

Prints tables and writes ``bench/results/revocation_cost.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("MOVIEVERSE_AI_TRAIN_ON_START", "false")

import httpx

from bench._support import BENCH_PASSWORD, machine_info, print_table, write_results
from movieverse.gateway.app import create_gateway
from movieverse.platform.revocation import (
    LocalFileRevocationStore,
    RedisRevocationStore,
    Revocation,
    RevocationList,
    Revocations,
    RevocationStore,
    session_revocations,
)
from movieverse.platform.settings import PlatformSettings
from movieverse.services.auth.settings import AuthSettings


async def users_me_cpu(requests: int, rounds: int, entries: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="mvbench-revocation-") as folder:
        settings = PlatformSettings(
            environment="test",
            var_dir=Path(folder),
            semantic_search=False,
            rate_limits_enabled=False,
        )
        cheap = AuthSettings(argon2_time_cost=1, argon2_memory_kib=64)
        gateway = create_gateway(settings, service_overrides={"auth": cheap})
        async with gateway.edge.router.lifespan_context(gateway.edge):
            transport = httpx.ASGITransport(app=gateway)
            async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
                await client.post(
                    "/auth/register",
                    json={
                        "email": "r@example.org",
                        "username": "rev_bench",
                        "password": BENCH_PASSWORD,
                    },
                )
                tokens = (
                    await client.post(
                        "/auth/login", json={"login": "rev_bench", "password": BENCH_PASSWORD}
                    )
                ).json()
                headers = {"Authorization": f"Bearer {tokens['access_token']}"}
                ctx = gateway.services["users"].state.ctx
                revocations: Revocations = ctx.shared.revocations
                for n in range(entries):
                    until = time.time() + 3600
                    if n % 2:
                        revocations.list.apply(Revocation("session", uuid.uuid4().hex, until))
                    else:
                        revocations.list.apply(Revocation("user", str(uuid.uuid4()), until))
                verifier = ctx.verifier
                for _ in range(300):  # warm-up: caches, the profile body, imports
                    assert (await client.get("/users/me", headers=headers)).status_code == 200
                on: list[float] = []
                off: list[float] = []
                for _ in range(rounds):
                    for label, samples in (("on", on), ("off", off)):
                        verifier._revocations = revocations if label == "on" else None
                        cpu = time.process_time()
                        for _ in range(requests):
                            await client.get("/users/me", headers=headers)
                        samples.append((time.process_time() - cpu) / requests * 1e6)
                verifier._revocations = revocations
    return {
        "requests_per_round": requests,
        "rounds": rounds,
        "entries": entries,
        "cpu_us_with_check": round(statistics.median(on), 1),
        "cpu_us_without_check": round(statistics.median(off), 1),
        "ratio": round(statistics.median(on) / statistics.median(off), 3),
    }


def single_check_ns(entries: int) -> float:
    revoked = RevocationList()
    for _ in range(entries):
        revoked.apply(Revocation("session", uuid.uuid4().hex, time.time() + 3600))
    user = uuid.uuid4()
    count = 200_000
    started = time.perf_counter()
    for _ in range(count):
        revoked.refusal(user_id=user, session_id="a-live-session")
    return round((time.perf_counter() - started) / count * 1e9, 1)


async def propagation_ms(
    first: RevocationStore, second: RevocationStore, times: int
) -> list[float]:
    sender = Revocations(first)
    follower = Revocations(second)
    await sender.start(follow=False)
    await follower.start()
    lags = []
    try:
        await asyncio.sleep(0.3)  # let the follower subscribe
        for _ in range(times):
            revocation = session_revocations([uuid.uuid4().hex], ttl_seconds=60)[0]
            started = time.perf_counter()
            await sender.revoke([revocation])
            # Polling is the point here: the follower's list is what a request would consult.
            while not follower.list.knows(revocation):  # noqa: ASYNC110
                await asyncio.sleep(0.0005)
            lags.append((time.perf_counter() - started) * 1000)
    finally:
        await sender.stop()
        await follower.stop()
    return lags


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--entries", type=int, default=10_000)
    parser.add_argument("--redis", default=None)
    args = parser.parse_args()

    cost = await users_me_cpu(args.requests, args.rounds, args.entries)
    print_table(
        "GET /users/me, CPU per request in this process (median of rounds)",
        ["revoked entries", "with check µs", "without µs", "ratio"],
        [
            [
                str(cost["entries"]),
                str(cost["cpu_us_with_check"]),
                str(cost["cpu_us_without_check"]),
                str(cost["ratio"]),
            ]
        ],
    )
    check_ns = single_check_ns(args.entries)
    print(f"one check alone: {check_ns} ns")

    travel: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="mvbench-revocation-file-") as folder:
        path = Path(folder) / "revocations.db"
        travel["sqlite_file"] = await propagation_ms(
            LocalFileRevocationStore(path), LocalFileRevocationStore(path), 20
        )
    if args.redis:
        prefix = f"mvbench:{uuid.uuid4().hex[:8]}:"
        travel["redis"] = await propagation_ms(
            RedisRevocationStore.from_url(args.redis, prefix=prefix),
            RedisRevocationStore.from_url(args.redis, prefix=prefix),
            50,
        )
    rows = []
    for store, lags in travel.items():
        ordered = sorted(lags)
        rows.append(
            [
                store,
                str(len(lags)),
                f"{statistics.median(ordered):.2f}",
                f"{ordered[-1]:.2f}",
            ]
        )
    print_table(
        "A revocation reaching another process's list", ["store", "n", "median ms", "max ms"], rows
    )
    path = write_results(
        "revocation_cost",
        {
            "machine": machine_info(),
            "users_me": cost,
            "single_check_ns": check_ns,
            "propagation_ms": travel,
        },
    )
    print(f"written to {path}")


if __name__ == "__main__":
    asyncio.run(main())
