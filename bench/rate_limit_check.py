"""CPU cost of one rate-limit check on the hot path (platform/ratelimit.py).

One check is what a limited write pays before its handler runs: the shipped defaults for
comments (two windows per account, two per address: four moving-window hits). Measured on the
in-process store (the embedded shape) and, with ``--redis URL``, on Redis (the distributed
shape; CPU of this process only -- Redis's own work is on the server). Callers rotate over many
accounts and addresses so every check is admitted, as nearly all real ones are; a refused check
costs one more read (the wait until a slot frees).

    .venv/bin/python bench/rate_limit_check.py [--checks 20000] [--redis redis://127.0.0.1:6379/0]

Prints a table and writes ``bench/results/rate_limit_check.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from redis.asyncio import Redis

from bench._support import machine_info, print_table, write_results
from movieverse.platform.ratelimit import RateLimiter
from movieverse.platform.settings import PlatformSettings

CALLERS = 2000


async def measure(store: str, url: str | None, checks: int) -> dict[str, Any]:
    settings = PlatformSettings(redis_url=url, redis_key_prefix=f"mvbench:{uuid.uuid4().hex[:8]}:")
    limiter = RateLimiter.from_settings(settings)
    users = [str(uuid.uuid4()) for _ in range(CALLERS)]
    addresses = [f"10.{n // 65536}.{n // 256 % 256}.{n % 256}" for n in range(CALLERS)]
    try:
        for n in range(min(checks, 500)):  # warm-up: imports, scripts loaded, pool filled
            await limiter.check("comment", user=users[n % CALLERS], ip=addresses[n % CALLERS])
        await limiter.reset()
        cpu, wall = time.process_time(), time.perf_counter()
        for n in range(checks):
            await limiter.check("comment", user=users[n % CALLERS], ip=addresses[n % CALLERS])
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    finally:
        await limiter.reset()
        await limiter.close()
    result: dict[str, Any] = {
        "store": store,
        "checks": checks,
        "hits_per_check": 4,
        "cpu_us_per_check": round(cpu / checks * 1e6, 1),
        "wall_us_per_check": round(wall / checks * 1e6, 1),
    }
    if url is not None:
        result["cpu_us_per_plain_get"] = await plain_get_cpu_us(url, checks)
    return result


async def plain_get_cpu_us(url: str, count: int) -> float:
    """What one plain redis-py GET costs this process on this machine right now: the unit to
    read the Redis figure in (a shared machine's load moves both alike)."""
    client = Redis.from_url(url)
    try:
        for _ in range(200):
            await client.get("mvbench:nothing")
        cpu = time.process_time()
        for _ in range(count):
            await client.get("mvbench:nothing")
        return round((time.process_time() - cpu) / count * 1e6, 1)
    finally:
        await client.aclose()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checks", type=int, default=20_000)
    parser.add_argument("--redis", default=None, help="a Redis URL to measure too")
    args = parser.parse_args()
    results = [await measure("memory", None, args.checks)]
    if args.redis:
        results.append(await measure("redis", args.redis, args.checks))
    print_table(
        "One rate-limit check (comment: 2 windows per account + 2 per address)",
        ["store", "checks", "CPU µs/check", "wall µs/check", "CPU µs/plain GET"],
        [
            [
                r["store"],
                str(r["checks"]),
                str(r["cpu_us_per_check"]),
                str(r["wall_us_per_check"]),
                str(r.get("cpu_us_per_plain_get", "-")),
            ]
            for r in results
        ],
    )
    path = write_results("rate_limit_check", {"machine": machine_info(), "results": results})
    print(f"written to {path}")


if __name__ == "__main__":
    asyncio.run(main())
