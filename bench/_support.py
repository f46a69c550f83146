"""Shared helpers for the benchmarks: free ports, server subprocesses, users, percentiles, output.

Every server started here listens on 127.0.0.1 only and is stopped by the context manager that
started it, including when the benchmark fails half-way.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

HOST = "127.0.0.1"
BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
RESULTS_DIR = BENCH_DIR / "results"

# A password the auth policy accepts (>= 10 characters, does not contain the username).
BENCH_PASSWORD = "correct-horse-battery-staple-42"  # noqa: S105 -- a throwaway benchmark user
BENCH_USERNAME = "bench_user"
BENCH_EMAIL = "bench_user@example.com"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def venv_executable(name: str) -> str:
    """An executable of the interpreter's environment (``.venv/bin/NAME``), else from PATH."""
    candidate = Path(sys.executable).parent / name
    if candidate.exists():
        return str(candidate)
    found = shutil.which(name)
    if found is None:
        raise RuntimeError(f"{name!r} not found next to {sys.executable} nor on PATH")
    return found


def percentile(sorted_values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile of already sorted values (fraction in 0..1)."""
    if not sorted_values:
        return float("nan")
    rank = min(len(sorted_values), max(1, math.ceil(fraction * len(sorted_values))))
    return sorted_values[rank - 1]


def latency_summary_ms(seconds: Sequence[float]) -> dict[str, float]:
    values = sorted(s * 1000 for s in seconds)
    return {
        "p50_ms": percentile(values, 0.50),
        "p95_ms": percentile(values, 0.95),
        "p99_ms": percentile(values, 0.99),
        "max_ms": values[-1] if values else float("nan"),
        "mean_ms": sum(values) / len(values) if values else float("nan"),
    }


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU of a process so far, all its threads (``/proc/<pid>/stat``)."""
    # The command name (field 2) may hold spaces and parentheses: split after its last ")".
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_info() -> dict[str, Any]:
    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


@dataclass
class ServerProcess:
    """A server running as a subprocess, its output going to a log file."""

    name: str
    process: subprocess.Popen[bytes]
    base_url: str
    log_path: Path

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


def wait_until_healthy(
    server: ServerProcess, *, path: str = "/healthz", timeout: float = 60.0
) -> None:
    deadline = time.monotonic() + timeout
    last_error = "no attempt"
    with httpx.Client(base_url=server.base_url, timeout=2.0) as client:
        while time.monotonic() < deadline:
            if server.process.poll() is not None:
                raise RuntimeError(
                    f"{server.name} exited with {server.process.returncode} before it was "
                    f"healthy; log tail:\n{server.log_tail()}"
                )
            try:
                response = client.get(path)
            except httpx.TransportError as exc:
                last_error = repr(exc)
            else:
                if response.status_code == 200:
                    return
                last_error = f"HTTP {response.status_code}"
            time.sleep(0.1)
    raise RuntimeError(
        f"{server.name} not healthy after {timeout:.0f}s ({last_error}); log tail:\n"
        f"{server.log_tail()}"
    )


def stop_server(server: ServerProcess, *, timeout: float = 20.0) -> None:
    """SIGTERM (uvicorn's graceful shutdown), then SIGKILL if it does not exit in time."""
    process = server.process
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)


@contextlib.contextmanager
def run_server(
    name: str,
    command: Sequence[str],
    *,
    port: int,
    env: Mapping[str, str],
    log_dir: Path,
    health_path: str = "/healthz",
) -> Iterator[ServerProcess]:
    """Start ``command`` (which must listen on 127.0.0.1:port), wait for health, stop at exit."""
    log_path = log_dir / f"{name}.log"
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(  # noqa: S603 -- fixed argv built by the benchmark
            list(command),
            cwd=REPO_ROOT,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    server = ServerProcess(name, process, f"http://{HOST}:{port}", log_path)
    try:
        wait_until_healthy(server, path=health_path)
        yield server
    finally:
        stop_server(server)


def movieverse_env(var_dir: Path, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment for a throwaway development instance whose data lives in ``var_dir``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MOVIEVERSE_")}
    env.update(
        {
            "MOVIEVERSE_ENVIRONMENT": "development",
            "MOVIEVERSE_VAR_DIR": str(var_dir),
            # Brute-force protection only counts failures, but a benchmark must never trip it.
            "MOVIEVERSE_AUTH_LOGIN_IP_THRESHOLD": "1000000",
            "MOVIEVERSE_AUTH_LOGIN_ACCOUNT_THRESHOLD": "1000000",
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update(extra or {})
    return env


@contextlib.contextmanager
def movieverse_up(
    work_dir: Path, *, extra_env: Mapping[str, str] | None = None
) -> Iterator[ServerProcess]:
    """``movieverse migrate`` then ``movieverse up`` on a free port, with data under work_dir."""
    var_dir = work_dir / "var"
    var_dir.mkdir(parents=True, exist_ok=True)
    env = movieverse_env(var_dir, extra_env)
    cli = venv_executable("movieverse")
    migrate = subprocess.run(  # noqa: S603 -- fixed argv
        [cli, "migrate"], cwd=REPO_ROOT, env=env, capture_output=True, text=True, check=False
    )
    if migrate.returncode != 0:
        raise RuntimeError(f"movieverse migrate failed:\n{migrate.stdout}\n{migrate.stderr}")
    port = free_port()
    command = [cli, "up", "--host", HOST, "--port", str(port)]
    with run_server("movieverse", command, port=port, env=env, log_dir=work_dir) as server:
        yield server


@contextlib.contextmanager
def temporary_work_dir(prefix: str) -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix=prefix) as name:
        yield Path(name)


def register_user(client: httpx.Client) -> None:
    response = client.post(
        "/auth/register",
        json={"email": BENCH_EMAIL, "username": BENCH_USERNAME, "password": BENCH_PASSWORD},
    )
    if response.status_code != 201:
        raise RuntimeError(f"register: HTTP {response.status_code}: {response.text}")


def login_user(client: httpx.Client) -> str:
    """Sign the benchmark user in; returns the access token."""
    response = client.post(
        "/auth/login", json={"login": BENCH_USERNAME, "password": BENCH_PASSWORD}
    )
    if response.status_code != 200:
        raise RuntimeError(f"login: HTTP {response.status_code}: {response.text}")
    token: str = response.json()["access_token"]
    return token


def log_problems(server: ServerProcess) -> list[str]:
    """Error-level lines (and tracebacks) the server logged, for the report."""
    try:
        lines = server.log_path.read_text(errors="replace").splitlines()
    except OSError:
        return []
    markers = ('"level": "error"', '"level": "critical"', "Traceback", "ERROR", "CRITICAL")
    return [line[:300] for line in lines if any(m in line for m in markers)]


def print_table(title: str, headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    widths = [len(h) for h in headers]
    for row in rows:
        widths = [max(w, len(cell)) for w, cell in zip(widths, row, strict=True)]

    def line(cells: Sequence[str]) -> str:
        first, *rest = cells
        parts = [first.ljust(widths[0])] + [
            c.rjust(w) for c, w in zip(rest, widths[1:], strict=True)
        ]
        return "  ".join(parts)

    print(f"\n{title}")
    print(line(headers))
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print(line(row))


def write_results(name: str, data: Mapping[str, Any]) -> Path:
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{name}.json"
    path.write_text(json.dumps(data, indent=2, sort_keys=False) + "\n")
    return path
