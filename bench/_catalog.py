"""Helpers the catalog benchmarks share: the ``movieverse`` CLI (the real importers, then the
delivery of what they staged), the imported movies' ids, one service served alone, paths probed
once, wrk driven by a Lua script that spreads requests over many paths, and discover URLs.

Every server started here listens on 127.0.0.1 only and is stopped by the context manager that
started it (see ``bench._support.run_server``).
"""

from __future__ import annotations

import contextlib
import json
import random
import re
import shutil
import sqlite3
import subprocess
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx

from bench._support import (
    HOST,
    REPO_ROOT,
    ServerProcess,
    free_port,
    latency_summary_ms,
    movieverse_env,
    percentile,
    run_server,
    venv_executable,
)

WRK_THREADS = 2

# Prints every figure as one JSON line (wrk's --latency table has no p95).
WRK_DONE_LUA = r"""
function done(summary, latency, requests_)
  local e = summary.errors
  io.write(string.format(
    "WRK_JSON {\"requests\":%.0f,\"duration_us\":%.0f,\"bytes\":%.0f," ..
    "\"errors\":{\"connect\":%.0f,\"read\":%.0f,\"write\":%.0f,\"status\":%.0f," ..
    "\"timeout\":%.0f},\"latency_us\":{\"mean\":%.1f,\"max\":%.0f,\"p50\":%.0f," ..
    "\"p75\":%.0f,\"p90\":%.0f,\"p95\":%.0f,\"p99\":%.0f}}\n",
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency.mean, latency.max, latency:percentile(50), latency:percentile(75),
    latency:percentile(90), latency:percentile(95), latency:percentile(99)))
end
"""

# wrk runs one Lua state per thread. The requests are read from a file in init() (a large table
# literal would hit LuaJIT's constant limits) and pre-formatted once, so request() costs one
# table lookup; each thread starts at its own offset so the threads do not march in step.
# A line is "METHOD<TAB>PATH<TAB>AUTHORIZATION<TAB>BODY"; the last two may be empty, and a body
# is sent as JSON.
WRK_REQUESTS_LUA = (
    r"""
local requests_file = "__REQUESTS_FILE__"
local thread_count = 0

function setup(thread)
  thread:set("start_offset", thread_count * 7919)
  thread_count = thread_count + 1
end

local requests = {}
local counter = 0

function init(args)
  for line in io.lines(requests_file) do
    local method, path, auth, body = line:match("^([^\t]+)\t([^\t]+)\t([^\t]*)\t(.*)$")
    if method then
      local headers = {}
      if #auth > 0 then headers["Authorization"] = auth end
      if #body > 0 then headers["Content-Type"] = "application/json" else body = nil end
      requests[#requests + 1] = wrk.format(method, path, headers, body)
    end
  end
  counter = (tonumber(start_offset) or 0) % #requests
end

function request()
  counter = counter % #requests + 1
  return requests[counter]
end

"""
    + WRK_DONE_LUA
)


def run_cli(env: Mapping[str, str], *args: str, timeout: float = 600.0) -> float:
    """Run ``movieverse ARGS`` to completion; returns its wall seconds, raises with its output."""
    started = time.perf_counter()
    done = subprocess.run(  # noqa: S603 -- fixed argv built by the benchmark
        [venv_executable("movieverse"), *args],
        cwd=REPO_ROOT,
        env=dict(env),
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout,
    )
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"movieverse {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return elapsed


def import_real_catalog(
    var_dir: Path, data_dir: Path, extra_env: Mapping[str, str] | None = None
) -> dict[str, float]:
    """Migrate, then fill the catalog with the real importers (TMDB 5000, then MovieLens);
    ``extra_env`` points services elsewhere (a database server, Redis)."""
    env = movieverse_env(var_dir, extra_env)
    return {
        "migrate_seconds": run_cli(env, "migrate"),
        "tmdb_csv_seconds": run_cli(env, "import", "tmdb-csv", str(data_dir / "tmdb-5000")),
        "movielens_seconds": run_cli(env, "import", "movielens", str(data_dir / "ml-latest-small")),
    }


def settle_staged_events(var_dir: Path, extra_env: Mapping[str, str] | None = None) -> float:
    """Deliver what the imports staged in the outboxes before any server answers, as ``make run``
    does (``movieverse demo-data``, its seeding off); returns the wall seconds it took."""
    env = movieverse_env(var_dir, {**(extra_env or {}), "MOVIEVERSE_DEMO_DATA": "false"})
    return run_cli(env, "demo-data", timeout=1800.0)


def movie_ids(var_dir: Path, *, seed: int) -> list[int]:
    """Every movie GET /movies/{id} answers (not soft-deleted), in a seeded random order."""
    connection = sqlite3.connect(var_dir / "movies.db")
    try:
        rows = connection.execute(
            "select id from movies_movies where deleted_at is null order by id"
        ).fetchall()
    finally:
        connection.close()
    ids = [int(row[0]) for row in rows]
    random.Random(seed).shuffle(ids)
    return ids


def probe_paths(base_url: str, paths: Sequence[str]) -> dict[str, Any]:
    """Request each path once, sequentially: all must answer 200; sizes and match counts."""
    totals: list[int] = []
    sizes: list[int] = []
    seconds: list[float] = []
    with httpx.Client(base_url=base_url, timeout=30.0) as client:
        for path in paths:
            response = client.get(path)
            if response.status_code != 200:
                raise RuntimeError(f"GET {path}: HTTP {response.status_code}: {response.text}")
            sizes.append(len(response.content))
            seconds.append(response.elapsed.total_seconds())
            body = response.json()
            if isinstance(body, dict) and "total_results" in body:
                totals.append(int(body["total_results"]))
    summary: dict[str, Any] = {
        "paths": len(paths),
        "mean_body_bytes": sum(sizes) / len(sizes),
        "sequential_latency_ms": latency_summary_ms(seconds),
    }
    if totals:
        ordered = sorted(totals)
        summary["total_results"] = {
            "min": ordered[0],
            "p50": percentile(ordered, 0.5),
            "max": ordered[-1],
            "empty_share": sum(1 for t in totals if t == 0) / len(totals),
        }
    return summary


@contextlib.contextmanager
def serve_service(
    name: str,
    var_dir: Path,
    *,
    log_dir: Path,
    extra_env: Mapping[str, str] | None = None,
) -> Iterator[ServerProcess]:
    """``movieverse serve NAME`` on a free 127.0.0.1 port with its data in ``var_dir``."""
    port = free_port()
    command = [venv_executable("movieverse"), "serve", name, "--host", HOST, "--port", str(port)]
    env = movieverse_env(var_dir, extra_env)
    with run_server(f"serve-{name}", command, port=port, env=env, log_dir=log_dir) as server:
        yield server


def discover_path(params: Mapping[str, str | int | float]) -> str:
    """``/discover/movies?...`` with the parameters in the given order (``.`` and ``|`` kept)."""
    return "/discover/movies?" + urlencode({k: str(v) for k, v in params.items()}, safe=".|,")


def require_catalog_data(data: Path) -> None:
    """The TMDB 5000 and MovieLens latest-small folders, or a refusal to run (not a silent
    pass: a benchmark that measured nothing must not look like one that did)."""
    missing = [name for name in ("tmdb-5000", "ml-latest-small") if not (data / name).is_dir()]
    if missing:
        raise SystemExit(f"{data} lacks {' and '.join(f'{m}/' for m in missing)}: nothing measured")


def require_wrk() -> str:
    wrk = shutil.which("wrk")
    if wrk is None:
        raise SystemExit("wrk is not installed (Debian: apt-get install wrk): nothing measured")
    return wrk


def _wrk_once(
    wrk: str, url: str, *, seconds: float, connections: int, script: Path
) -> tuple[str, dict[str, Any]]:
    command = [
        wrk,
        f"-t{WRK_THREADS}",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        "--timeout",
        "5s",
        "--latency",
        "-s",
        str(script),
        url,
    ]
    done = subprocess.run(  # noqa: S603 -- fixed argv, 127.0.0.1 target
        command, capture_output=True, text=True, check=False, timeout=seconds + 60
    )
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr or done.stdout}")
    report: dict[str, Any] | None = None
    for line in done.stdout.splitlines():
        if line.startswith("WRK_JSON "):
            report = json.loads(line.removeprefix("WRK_JSON "))
    if report is None:
        raise RuntimeError(f"no report in wrk output:\n{done.stdout}\n{done.stderr}")
    return done.stdout, report


@dataclass(frozen=True)
class WrkRequest:
    method: str
    path: str
    authorization: str = ""
    body: str = ""  # JSON

    def line(self) -> str:
        fields = (self.method, self.path, self.authorization, self.body)
        if not self.path.startswith("/") or any(c in f for f in fields for c in "\t\n"):
            raise ValueError(f"a path starts with / and no field holds a tab or newline: {self}")
        return "\t".join(fields)


def wrk_rotating(
    wrk: str,
    base_url: str,
    paths: Sequence[str],
    *,
    duration: float,
    warmup: float,
    connections: int,
    work_dir: Path,
    label: str,
) -> dict[str, Any]:
    """Load ``base_url`` with GETs that cycle through ``paths``: a warm-up, then the measure."""
    requests = [WrkRequest("GET", path) for path in paths]
    return wrk_requests(
        wrk, base_url, requests, duration=duration, warmup=warmup, connections=connections,
        work_dir=work_dir, label=label,
    )  # fmt: skip


def wrk_requests(
    wrk: str,
    base_url: str,
    requests: Sequence[WrkRequest],
    *,
    duration: float,
    warmup: float,
    connections: int,
    work_dir: Path,
    label: str,
) -> dict[str, Any]:
    """Load ``base_url`` with ``requests``, cycling through them: a warm-up, then the measure."""
    if not base_url.startswith(f"http://{HOST}:"):
        raise ValueError(f"only http://{HOST} targets are allowed, not {base_url}")
    if not requests:
        raise ValueError("no requests to send")
    requests_file = work_dir / f"{label}.requests"
    requests_file.write_text("\n".join(r.line() for r in requests) + "\n")
    script = work_dir / f"{label}.lua"
    script.write_text(WRK_REQUESTS_LUA.replace("__REQUESTS_FILE__", str(requests_file)))
    if warmup > 0:
        _wrk_once(wrk, base_url, seconds=warmup, connections=connections, script=script)
    text, report = _wrk_once(
        wrk, base_url, seconds=duration, connections=connections, script=script
    )
    match = re.search(r"^Requests/sec:\s+([\d.]+)", text, re.MULTILINE)
    if match is None:
        raise RuntimeError(f"no Requests/sec in wrk output:\n{text}")
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
    errors = report["errors"]
    return {
        "distinct_paths": len({r.path for r in requests}),
        "requests": int(report["requests"]),
        "seconds": report["duration_us"] / 1e6,
        "requests_per_second": float(match.group(1)),
        "non_2xx_3xx": int(non_2xx.group(1)) if non_2xx else 0,
        "socket_errors": errors["connect"] + errors["read"] + errors["write"] + errors["timeout"],
        "socket_error_detail": {k: errors[k] for k in ("connect", "read", "write", "timeout")},
        "latency_ms": {k: v / 1000 for k, v in report["latency_us"].items()},
        "response_bytes_per_request": report["bytes"] / max(1, report["requests"]),
        "wrk_output": text.splitlines(),
    }
