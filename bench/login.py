"""Login cost at the configured argon2id parameters (AuthSettings defaults: t=2, m=19 MiB, p=1).

Measures, in one run:

1. hashes per second of ``movieverse.platform.security.PasswordHasher`` -- ``hash_sync`` from a
   thread pool and ``verify`` (the app's own path: a worker thread per call via anyio) -- with
   1 and with 2 threads working at once;
2. ``POST /auth/login`` over real HTTP against ``movieverse up`` (a subprocess on a free
   127.0.0.1 port, data in a temporary MOVIEVERSE_VAR_DIR): one registered user, a short
   warm-up, then a bounded number of logins at modest concurrency; p50/p95/p99 and logins/s.

Prints a table and writes ``bench/results/login.json``. Run it with ``make bench`` or::

    .venv/bin/python bench/login.py [--logins 200] [--concurrency 4]

The HTTP client runs in this process and shares the machine's cores with the server.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._support import (
    BENCH_PASSWORD,
    BENCH_USERNAME,
    ServerProcess,
    latency_summary_ms,
    log_problems,
    machine_info,
    movieverse_up,
    print_table,
    register_user,
    temporary_work_dir,
    write_results,
)
from movieverse.platform.security import PasswordHasher
from movieverse.services.auth.settings import AuthSettings

HASH_PHASE_SECONDS = 3.0
HASH_PHASE_MIN_OPS = 10
LOGIN_TIMEOUT_SECONDS = 30.0
LOGIN_PHASE_DEADLINE_SECONDS = 180.0


def _rate(ops: int, elapsed: float) -> dict[str, float]:
    return {
        "ops": ops,
        "seconds": elapsed,
        "per_second": ops / elapsed,
        "ms_per_op_wall": elapsed / ops * 1000,
    }


def bench_hash_sync(hasher: PasswordHasher, *, threads: int) -> dict[str, float]:
    """``hash_sync`` called back to back by ``threads`` threads for about HASH_PHASE_SECONDS."""

    def worker(deadline: float) -> int:
        done = 0
        while done < HASH_PHASE_MIN_OPS or time.perf_counter() < deadline:
            hasher.hash_sync(BENCH_PASSWORD)
            done += 1
        return done

    with ThreadPoolExecutor(max_workers=threads) as pool:
        started = time.perf_counter()
        deadline = started + HASH_PHASE_SECONDS
        counts = list(pool.map(worker, [deadline] * threads))
        elapsed = time.perf_counter() - started
    return _rate(sum(counts), elapsed)


async def _verify_loop(
    hasher: PasswordHasher, stored: str, *, concurrency: int
) -> dict[str, float]:
    async def worker(deadline: float) -> int:
        done = 0
        while done < HASH_PHASE_MIN_OPS or time.perf_counter() < deadline:
            if not await hasher.verify(stored, BENCH_PASSWORD):
                raise RuntimeError("verify rejected the right password")
            done += 1
        return done

    started = time.perf_counter()
    deadline = started + HASH_PHASE_SECONDS
    counts = await asyncio.gather(*(worker(deadline) for _ in range(concurrency)))
    return _rate(sum(counts), time.perf_counter() - started)


def bench_verify(hasher: PasswordHasher, stored: str, *, threads: int) -> dict[str, float]:
    """``await verify(...)`` from ``threads`` concurrent tasks (each call in a worker thread)."""
    return asyncio.run(_verify_loop(hasher, stored, concurrency=threads))


async def _login_load(
    base_url: str, *, logins: int, concurrency: int, warmup: int
) -> dict[str, Any]:
    body = {"login": BENCH_USERNAME, "password": BENCH_PASSWORD}
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(
        base_url=base_url, timeout=LOGIN_TIMEOUT_SECONDS, limits=limits
    ) as client:
        for _ in range(warmup):
            response = await client.post("/auth/login", json=body)
            response.raise_for_status()

        latencies: list[float] = []
        statuses: dict[str, int] = {}
        errors: list[str] = []
        remaining = logins

        async def worker() -> None:
            nonlocal remaining
            while remaining > 0:
                remaining -= 1
                started = time.perf_counter()
                try:
                    response = await client.post("/auth/login", json=body)
                except httpx.HTTPError as exc:
                    errors.append(repr(exc))
                    continue
                latencies.append(time.perf_counter() - started)
                key = str(response.status_code)
                statuses[key] = statuses.get(key, 0) + 1

        started = time.perf_counter()
        await asyncio.wait_for(
            asyncio.gather(*(worker() for _ in range(concurrency))),
            timeout=LOGIN_PHASE_DEADLINE_SECONDS,
        )
        elapsed = time.perf_counter() - started
    ok = statuses.get("200", 0)
    return {
        "requests": len(latencies) + len(errors),
        "ok": ok,
        "statuses": statuses,
        "transport_errors": errors[:10],
        "transport_error_count": len(errors),
        "seconds": elapsed,
        "logins_per_second": ok / elapsed,
        "latency": latency_summary_ms(latencies),
    }


def bench_http_login(
    server: ServerProcess, *, logins: int, concurrency: int, warmup: int
) -> dict[str, Any]:
    with httpx.Client(base_url=server.base_url, timeout=LOGIN_TIMEOUT_SECONDS) as client:
        register_user(client)
    return asyncio.run(
        _login_load(server.base_url, logins=logins, concurrency=concurrency, warmup=warmup)
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--logins", type=int, default=200, help="measured logins (default 200)")
    parser.add_argument("--concurrency", type=int, default=4, help="logins in flight (default 4)")
    parser.add_argument("--warmup", type=int, default=8, help="unmeasured logins first")
    args = parser.parse_args()
    if not 1 <= args.logins <= 5000 or not 1 <= args.concurrency <= 64:
        parser.error("--logins must be 1..5000 and --concurrency 1..64")

    # The service's own defaults (MOVIEVERSE_AUTH_ARGON2_* in the environment would override).
    auth = AuthSettings()
    params: dict[str, str | int] = {
        "type": "argon2id",
        "time_cost": auth.argon2_time_cost,
        "memory_kib": auth.argon2_memory_kib,
        "parallelism": auth.argon2_parallelism,
    }
    hasher = PasswordHasher(
        time_cost=auth.argon2_time_cost,
        memory_kib=auth.argon2_memory_kib,
        parallelism=auth.argon2_parallelism,
    )
    print(
        f"argon2id t={auth.argon2_time_cost} m={auth.argon2_memory_kib} KiB "
        f"({auth.argon2_memory_kib / 1024:g} MiB) p={auth.argon2_parallelism}; "
        f"{machine_info()['cpus']} CPUs"
    )
    stored = hasher.hash_sync(BENCH_PASSWORD)
    hashing: dict[str, dict[str, float]] = {}
    for threads in (1, 2):
        print(
            f"hashing: hash_sync and verify on {threads} thread(s), ~{HASH_PHASE_SECONDS:g}s each"
        )
        hashing[f"hash_sync_{threads}_thread"] = bench_hash_sync(hasher, threads=threads)
        hashing[f"verify_{threads}_thread"] = bench_verify(hasher, stored, threads=threads)

    print(f"HTTP: movieverse up, {args.logins} logins at concurrency {args.concurrency}")
    with (
        temporary_work_dir("movieverse-bench-login-") as work_dir,
        movieverse_up(work_dir) as server,
    ):
        http = bench_http_login(
            server, logins=args.logins, concurrency=args.concurrency, warmup=args.warmup
        )
        problems = log_problems(server)
    http["server_log_problems"] = problems[:20]
    http["server_log_problem_count"] = len(problems)

    print_table(
        "Password hashing (PasswordHasher, in this process)",
        ["operation", "threads", "ops", "ops/s", "ms/op (wall)"],
        [
            [
                name.rsplit("_", 2)[0],
                name.rsplit("_", 2)[1],
                f"{r['ops']:.0f}",
                f"{r['per_second']:.1f}",
                f"{r['ms_per_op_wall']:.1f}",
            ]
            for name, r in hashing.items()
        ],
    )
    lat = http["latency"]
    print_table(
        f"POST /auth/login over HTTP (movieverse up, concurrency {args.concurrency})",
        ["logins", "ok", "logins/s", "p50 ms", "p95 ms", "p99 ms", "max ms"],
        [
            [
                str(http["requests"]),
                str(http["ok"]),
                f"{http['logins_per_second']:.1f}",
                f"{lat['p50_ms']:.1f}",
                f"{lat['p95_ms']:.1f}",
                f"{lat['p99_ms']:.1f}",
                f"{lat['max_ms']:.1f}",
            ]
        ],
    )
    print(f"statuses: {http['statuses']}; transport errors: {http['transport_error_count']}")
    print(f"server log error lines: {len(problems)}")
    for line in problems[:5]:
        print(f"  {line}")
    print("note: client and server share the machine's cores.")

    path = write_results(
        "login",
        {
            "benchmark": "login",
            "machine": machine_info(),
            "argon2": params,
            "hashing": hashing,
            "http_login": {
                "server": "movieverse up (uvicorn, uvloop + httptools, 1 worker)",
                "logins": args.logins,
                "concurrency": args.concurrency,
                "warmup": args.warmup,
                **http,
            },
        },
    )
    print(f"wrote {path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path}")
    failed = http["ok"] != http["requests"]
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
