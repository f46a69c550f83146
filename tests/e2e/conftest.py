"""A real `movieverse up` process on a free loopback port, for end-to-end tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    base_url: str
    log: Path


def start_server(folder: Path, *command: str, **env_overrides: str) -> Server:
    """Start ``movieverse up`` (or another command, e.g. ``serve users``) and wait for /healthz."""
    port = _free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith("MOVIEVERSE_")}
    env.update(MOVIEVERSE_VAR_DIR=str(folder / "var"), MOVIEVERSE_LOG_FORMAT="json")
    # As in the rest of the suite (tests/conftest.py): a server that finds ratings and no model
    # trains one after 15 s, which on the demo catalog is ~40 s of CPU inside a search test.
    env.update(MOVIEVERSE_AI_TRAIN_ON_START="false")
    env.update(env_overrides)
    executable = Path(sys.executable).with_name("movieverse")
    args = list(command) or ["up"]
    log = folder / f"{'-'.join(args)}.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(  # noqa: S603 -- our own entry point, fixed arguments
            [str(executable), *args, "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    server = Server(process, f"http://127.0.0.1:{port}", log)
    # A hang guard, not a speed check: a start takes ~5 s alone and far longer on a busy machine.
    deadline = time.monotonic() + 240
    while True:
        if process.poll() is not None:
            raise AssertionError(f"server exited early:\n{log.read_text()}")
        try:
            if httpx.get(f"{server.base_url}/healthz", timeout=1).status_code == 200:
                return server
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            stop_server(server)
            raise AssertionError(f"server did not start:\n{log.read_text()}")
        time.sleep(0.2)


def stop_server(server: Server) -> None:
    if server.process.poll() is None:
        server.process.send_signal(signal.SIGTERM)
        try:
            server.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    running = start_server(tmp_path)
    try:
        yield running
    finally:
        stop_server(running)
