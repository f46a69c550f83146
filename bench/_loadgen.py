"""Fallback HTTP load generator for when ``wrk`` is not installed (slower than wrk).

Runs as its own process: ``CONNECTIONS`` workers on one ``httpx.AsyncClient`` send GET requests
back to back for a warm-up and then for ``DURATION`` seconds, and one JSON line goes to stdout::

    .venv/bin/python bench/_loadgen.py http://127.0.0.1:8000/ --connections 32 --duration 10
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import time
from typing import Any

import httpx


def _percentile(values: list[float], fraction: float) -> float:
    if not values:
        return float("nan")
    rank = min(len(values), max(1, math.ceil(fraction * len(values))))
    return values[rank - 1]


async def _phase(
    client: httpx.AsyncClient, url: str, *, connections: int, seconds: float
) -> dict[str, Any]:
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    errors = 0
    body_bytes = 0
    deadline = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal errors, body_bytes
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            try:
                response = await client.get(url)
            except httpx.HTTPError:
                errors += 1
                continue
            latencies.append(time.perf_counter() - started)
            body_bytes += len(response.content)
            key = str(response.status_code)
            statuses[key] = statuses.get(key, 0) + 1

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(connections)))
    elapsed = time.perf_counter() - started
    ordered = sorted(x * 1000 for x in latencies)
    non_2xx = sum(n for code, n in statuses.items() if not code.startswith(("2", "3")))
    return {
        "requests": len(latencies),
        "seconds": elapsed,
        "requests_per_second": len(latencies) / elapsed,
        "statuses": statuses,
        "non_2xx_3xx": non_2xx,
        "socket_errors": errors,
        "body_bytes": body_bytes,
        "latency_ms": {
            "p50": _percentile(ordered, 0.50),
            "p75": _percentile(ordered, 0.75),
            "p90": _percentile(ordered, 0.90),
            "p95": _percentile(ordered, 0.95),
            "p99": _percentile(ordered, 0.99),
            "max": ordered[-1] if ordered else float("nan"),
            "mean": sum(ordered) / len(ordered) if ordered else float("nan"),
        },
    }


async def run(
    url: str, *, connections: int, duration: float, warmup: float, headers: dict[str, str]
) -> dict[str, Any]:
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx.AsyncClient(headers=headers, limits=limits, timeout=5.0) as client:
        if warmup > 0:
            await _phase(client, url, connections=connections, seconds=warmup)
        return await _phase(client, url, connections=connections, seconds=duration)


def main() -> None:
    parser = argparse.ArgumentParser(description="Fallback HTTP load generator (httpx)")
    parser.add_argument("url")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--header", action="append", default=[], help="'Name: value'")
    args = parser.parse_args()
    if not args.url.startswith("http://127.0.0.1:"):
        parser.error("only http://127.0.0.1 targets are allowed")
    headers = dict(h.split(":", 1) for h in args.header)
    headers = {k.strip(): v.strip() for k, v in headers.items()}
    try:
        import uvloop
    except ImportError:
        runner: Any = asyncio.run
    else:
        runner = uvloop.run
    result = runner(
        run(
            args.url,
            connections=args.connections,
            duration=args.duration,
            warmup=args.warmup,
            headers=headers,
        )
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
