"""GET /users/me against its floor: a bare FastAPI route with one bearer-token dependency,
served the same way and measured in the same run (issue 18, "Fast paths": the identity path).

Two servers, one after the other, each a subprocess on a free 127.0.0.1 port and served by the
function ``movieverse up`` serves with (``movieverse.cli.servers.serve_app``: uvicorn,
uvloop + httptools, one worker, no access log):

1. the real all-in-one app (``movieverse up``, data in a temporary MOVIEVERSE_VAR_DIR), loaded
   with ``GET /users/me`` and the access token of a freshly registered user;
2. the floor, ``bench/_baseline_fastapi_bearer_app.py``: FastAPI's ``HTTPBearer`` plus a
   dependency verifying the JWT with PyJWT on every request, answering a small JSON object. It
   reads the same MOVIEVERSE_* environment and development secret, and is loaded with the very
   token phase 1 signed in with (still valid: it lives 15 minutes).

Each is loaded at 32 connections by ``wrk -t2 -c32`` (or, when wrk is not installed, by the
slower ``bench/_loadgen.py`` httpx generator in its own process): once the server has been idle
for a second, a warm-up run (not measured), then a measured run of about 10 s. The server's CPU
is read from ``/proc/<pid>/stat`` (user + system, all its threads) just before and just after
the measured run and divided by the requests completed in it; that holds steadier than req/s on
a shared machine (the load generator runs on the same 2 cores). Prints req/s, latency
percentiles, CPU ms per request, and the ratio users_me_rps / floor_rps (the goal is >= 0.6)
beside the CPU ratio. Writes ``bench/results/users_me.json`` (bench/results/ is not tracked)::

    .venv/bin/python bench/users_me.py [--duration 10] [--warmup 2] [--generator auto|wrk|python]
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._catalog import WRK_DONE_LUA
from bench._support import (
    BENCH_DIR,
    ServerProcess,
    free_port,
    log_problems,
    login_user,
    machine_info,
    movieverse_env,
    movieverse_up,
    print_table,
    process_cpu_seconds,
    register_user,
    run_server,
    temporary_work_dir,
    write_results,
)
from bench.cpu_per_request import wait_until_quiet

CONNECTIONS = 32
WRK_THREADS = 2
PROFILE_WAIT_SECONDS = 15.0
TARGET_RATIO = 0.6


def _wrk(
    wrk: str, url: str, *, seconds: float, headers: Sequence[str], script: Path
) -> tuple[str, dict[str, Any]]:
    command = [
        wrk,
        f"-t{WRK_THREADS}",
        f"-c{CONNECTIONS}",
        f"-d{max(1, round(seconds))}s",
        "--timeout",
        "5s",
        "--latency",
        "-s",
        str(script),
    ]
    for header in headers:
        command += ["-H", header]
    command.append(url)
    done = subprocess.run(  # noqa: S603 -- fixed argv, 127.0.0.1 target
        command, capture_output=True, text=True, check=False, timeout=seconds + 30
    )
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr or done.stdout}")
    report: dict[str, Any] | None = None
    for line in done.stdout.splitlines():
        if line.startswith("WRK_JSON "):
            report = json.loads(line.removeprefix("WRK_JSON "))
    if report is None:
        raise RuntimeError(f"no report in wrk output:\n{done.stdout}")
    return done.stdout, report


def load_with_wrk(
    wrk: str, url: str, *, duration: float, headers: Sequence[str], work_dir: Path
) -> dict[str, Any]:
    script = work_dir / "report.lua"
    script.write_text(WRK_DONE_LUA)
    text, report = _wrk(wrk, url, seconds=duration, headers=headers, script=script)
    match = re.search(r"^Requests/sec:\s+([\d.]+)", text, re.MULTILINE)
    if match is None:
        raise RuntimeError(f"no Requests/sec in wrk output:\n{text}")
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
    errors = report["errors"]
    latency = {k: v / 1000 for k, v in report["latency_us"].items()}
    return {
        "requests": report["requests"],
        "seconds": report["duration_us"] / 1e6,
        "requests_per_second": float(match.group(1)),
        "non_2xx_3xx": int(non_2xx.group(1)) if non_2xx else 0,
        "socket_errors": errors["connect"] + errors["read"] + errors["write"] + errors["timeout"],
        "socket_error_detail": {k: errors[k] for k in ("connect", "read", "write", "timeout")},
        "latency_ms": latency,
        "wrk_output": text.splitlines(),
    }


def load_with_python(url: str, *, duration: float, headers: Sequence[str]) -> dict[str, Any]:
    command = [
        sys.executable,
        str(BENCH_DIR / "_loadgen.py"),
        url,
        "--connections",
        str(CONNECTIONS),
        "--duration",
        str(duration),
        "--warmup",
        "0",
    ]
    for header in headers:
        command += ["--header", header]
    done = subprocess.run(  # noqa: S603 -- fixed argv, 127.0.0.1 target
        command, capture_output=True, text=True, check=False, timeout=duration + 60
    )
    if done.returncode != 0:
        raise RuntimeError(f"load generator failed ({done.returncode}): {done.stderr}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def load(
    generator: str, url: str, *, duration: float, headers: Sequence[str], work_dir: Path
) -> dict[str, Any]:
    if generator == "python":
        return load_with_python(url, duration=duration, headers=headers)
    return load_with_wrk(generator, url, duration=duration, headers=headers, work_dir=work_dir)


def measure(
    server: ServerProcess,
    url: str,
    *,
    generator: str,
    duration: float,
    warmup: float,
    headers: Sequence[str],
    work_dir: Path,
) -> dict[str, Any]:
    """Wait for quiet, warm up, then load ``url`` with the server's CPU read around the
    measured run only (the warm-up is a run of its own, so none of its requests counts)."""
    pid = server.process.pid
    result: dict[str, Any] = {"idle_share_of_a_core": wait_until_quiet(pid)}
    if warmup > 0:
        load(generator, url, duration=warmup, headers=headers, work_dir=work_dir)
    cpu_before = process_cpu_seconds(pid)
    result |= load(generator, url, duration=duration, headers=headers, work_dir=work_dir)
    cpu_seconds = process_cpu_seconds(pid) - cpu_before
    result["server_cpu_seconds"] = cpu_seconds
    result["cpu_ms_per_request"] = cpu_seconds * 1000 / max(1, result["requests"])
    result["server_cores_used"] = cpu_seconds / result["seconds"]
    return result


def probe(url: str, headers: Mapping[str, str]) -> dict[str, Any]:
    """One request before the load: it must answer 200; its body size goes in the report."""
    response = httpx.get(url, headers=dict(headers), timeout=10.0)
    if response.status_code != 200:
        raise RuntimeError(f"GET {url}: HTTP {response.status_code}: {response.text}")
    return {"status": response.status_code, "body_bytes": len(response.content)}


def wait_for_profile(base_url: str, token: str) -> bool:
    """Wait until the registration event has created the profile (the steady-state read)."""
    deadline = time.monotonic() + PROFILE_WAIT_SECONDS
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base_url, headers=headers, timeout=10.0) as client:
        while time.monotonic() < deadline:
            response = client.get("/users/me")
            if response.status_code == 200 and response.json().get("created_at"):
                return True
            time.sleep(0.2)
    return False


def pick_generator(choice: str) -> str:
    """The wrk executable, or "python" for the fallback generator."""
    wrk = shutil.which("wrk")
    if choice == "wrk" and wrk is None:
        raise SystemExit("wrk is not installed (Debian: apt-get install wrk)")
    if choice == "python" or wrk is None:
        return "python"
    return wrk


def bench_users_me(
    generator: str, *, duration: float, warmup: float, work_dir: Path
) -> tuple[dict[str, Any], str]:
    """GET /users/me on movieverse up; returns the figures and the access token it used."""
    with movieverse_up(work_dir) as server:
        token = _user_token(server)
        profile_ready = wait_for_profile(server.base_url, token)
        url = f"{server.base_url}/users/me"
        auth = {"Authorization": f"Bearer {token}"}
        result: dict[str, Any] = {
            "url": url,
            "profile_ready": profile_ready,
            "probe": probe(url, auth),
        }
        result |= measure(
            server,
            url,
            generator=generator,
            duration=duration,
            warmup=warmup,
            headers=[f"{k}: {v}" for k, v in auth.items()],
            work_dir=work_dir,
        )
        problems = log_problems(server)
        result["server_log_problems"] = problems[:20]
        result["server_log_problem_count"] = len(problems)
    return result, token


def bench_floor(
    generator: str, *, duration: float, warmup: float, work_dir: Path, token: str
) -> dict[str, Any]:
    """The bare FastAPI bearer route, verifying ``token`` with the same environment and secret."""
    port = free_port()
    command = [
        sys.executable,
        str(BENCH_DIR / "_baseline_fastapi_bearer_app.py"),
        "--port",
        str(port),
    ]
    env = movieverse_env(work_dir / "var")
    with run_server("fastapi-bearer", command, port=port, env=env, log_dir=work_dir) as server:
        url = f"{server.base_url}/users/me"
        auth = {"Authorization": f"Bearer {token}"}
        result: dict[str, Any] = {"url": url, "probe": probe(url, auth)}
        result |= measure(
            server,
            url,
            generator=generator,
            duration=duration,
            warmup=warmup,
            headers=[f"{k}: {v}" for k, v in auth.items()],
            work_dir=work_dir,
        )
        result["server_log_problems"] = log_problems(server)[:20]
    return result


def _user_token(server: ServerProcess) -> str:
    with httpx.Client(base_url=server.base_url, timeout=30.0) as client:
        register_user(client)
        return login_user(client)


def _row(name: str, r: Mapping[str, Any]) -> list[str]:
    lat = r["latency_ms"]
    return [
        name,
        f"{r['requests_per_second']:,.0f}",
        f"{r['requests']:,}",
        f"{lat['p50']:.2f}",
        f"{lat['p90']:.2f}",
        f"{lat['p99']:.2f}",
        f"{lat['max']:.1f}",
        f"{r['cpu_ms_per_request']:.3f}",
        f"{r['server_cores_used']:.2f}",
        str(r["non_2xx_3xx"]),
        str(r["socket_errors"]),
        str(r["probe"]["body_bytes"]),
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=10.0, help="measured seconds (1-60)")
    parser.add_argument("--warmup", type=float, default=2.0, help="unmeasured seconds first")
    parser.add_argument("--generator", choices=["auto", "wrk", "python"], default="auto")
    args = parser.parse_args()
    if not 1 <= args.duration <= 60 or not 0 <= args.warmup <= 30:
        parser.error("--duration must be 1..60 and --warmup 0..30")
    generator = pick_generator(args.generator)
    generator_label = (
        f"wrk -t{WRK_THREADS} -c{CONNECTIONS} --latency ({generator})"
        if generator != "python"
        else f"python httpx AsyncClient, {CONNECTIONS} workers (bench/_loadgen.py; wrk not used)"
    )
    info = machine_info()
    print(f"load generator: {generator_label}")
    print(
        f"{info['cpus']} CPUs shared by the load generator and the server under test; "
        f"{args.warmup:g}s warm-up + {args.duration:g}s measured per server"
    )

    with temporary_work_dir("movieverse-bench-users-me-") as work_dir:
        print("phase 1: GET /users/me on movieverse up", flush=True)
        users_me, token = bench_users_me(
            generator, duration=args.duration, warmup=args.warmup, work_dir=work_dir
        )
        print("phase 2: the floor, bare FastAPI + one bearer-JWT dependency", flush=True)
        floor = bench_floor(
            generator, duration=args.duration, warmup=args.warmup, work_dir=work_dir, token=token
        )

    ratio = users_me["requests_per_second"] / floor["requests_per_second"]
    cpu_ratio = users_me["cpu_ms_per_request"] / floor["cpu_ms_per_request"]
    print_table(
        f"GET at {CONNECTIONS} connections, {args.duration:g}s each "
        f"(latency in ms; generator: {'wrk' if generator != 'python' else 'python'})",
        [
            "target",
            "req/s",
            "requests",
            "p50",
            "p90",
            "p99",
            "max",
            "CPU ms/req",
            "cores",
            "non-2xx",
            "sock err",
            "body B",
        ],
        [
            _row("floor: FastAPI + bearer JWT", floor),
            _row("movieverse GET /users/me", users_me),
        ],
    )
    verdict = "meets" if ratio >= TARGET_RATIO else "below"
    print(f"\nratio users_me_rps / floor_rps = {ratio:.3f} ({verdict} the {TARGET_RATIO} goal)")
    print(f"CPU per request, users_me / floor = {cpu_ratio:.2f}x")
    if not users_me["profile_ready"]:
        print("warning: the profile was not created before the load (registration event late)")
    if users_me["server_log_problem_count"]:
        print(f"server log error lines: {users_me['server_log_problem_count']}")
        for line in users_me["server_log_problems"][:5]:
            print(f"  {line}")
    print("note: the load generator runs on the same 2 cores as the server under test.")
    if generator == "python":
        print(
            "caveat: the httpx generator saturates at a few hundred requests/s, far below what "
            "either server can do; install wrk for figures and a ratio that mean something."
        )

    path = write_results(
        "users_me",
        {
            "benchmark": "users_me",
            "machine": info,
            "generator": generator_label,
            "connections": CONNECTIONS,
            "duration_seconds": args.duration,
            "warmup_seconds": args.warmup,
            "server_options": "movieverse.cli.servers.serve_app: uvicorn, uvloop + httptools, "
            "1 worker",
            "floor": floor,
            "users_me": users_me,
            "ratio_users_me_to_floor": ratio,
            "cpu_ratio_users_me_to_floor": cpu_ratio,
            "target_ratio": TARGET_RATIO,
        },
    )
    print(f"wrote {path}")
    failed = users_me["non_2xx_3xx"] or floor["non_2xx_3xx"]
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
