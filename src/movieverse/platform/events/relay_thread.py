"""The outbox relay on an event loop of its own, for a service on a database server and a broker.

Under a request backlog the service's event loop runs hundreds of ready callbacks per turn. A
relay that shares it waits a whole turn for each of its steps, and a broker client takes a step
per message (aiormq hands each publish to its writer through a queue of ten frames), so a pass of
200 events took seconds: at 200 ratings/s on RabbitMQ and PostgreSQL the relay's own share of
the lag was 2.9-4.6 s at the median (bench/event_lag.py). In a thread of its own the relay has a
loop that is busy with nothing else, with its own connections to the database (the plumbing
pool) and to the broker (a publisher; it consumes nothing). The threads share the GIL, but a
ready relay step now waits for at most one callback of the busy loop, not a turn of them all.

Elsewhere the relay stays on the service's loop, which it has to share: SQLite writers take turns
through that loop's writer turns, and the in-process bus delivers on it.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable

import structlog

from movieverse.platform.db import Database
from movieverse.platform.events.factory import create_event_bus
from movieverse.platform.events.outbox import Outbox, OutboxRelay
from movieverse.platform.settings import PlatformSettings

log = structlog.get_logger("movieverse.events.relay")

# The relay's pass holds at most two connections: its leadership lock, then a read or a mark.
RELAY_CONNECTIONS = 2


class RelayThread:
    """Runs an :class:`OutboxRelay` for ``outbox`` on a thread and loop of its own."""

    def __init__(self, *, outbox: Outbox, url: str, platform: PlatformSettings) -> None:
        self._outbox = outbox
        self._url = url
        self._platform = platform
        self._thread = threading.Thread(
            target=self._main, name=f"outbox-relay-{outbox.service}", daemon=True
        )
        self._started = threading.Event()
        self._failure: BaseException | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._relay: OutboxRelay | None = None
        self._gate: asyncio.Event | None = None
        self._stopping: asyncio.Event | None = None

    async def start(self) -> None:
        self._thread.start()
        await asyncio.to_thread(self._started.wait)
        if self._failure is not None:
            raise RuntimeError("the outbox relay thread did not start") from self._failure

    def wake(self) -> None:
        """Called on the service's loop after a commit that wrote to the outbox."""
        relay = self._relay
        if relay is not None:
            self._soon(relay.wake)

    def open_gate(self) -> None:
        """Every in-process consumer has subscribed: publishing may begin."""
        gate = self._gate
        if gate is not None:
            self._soon(gate.set)

    async def stop(self) -> None:
        """Publish what is pending (the relay's graceful stop), then end the thread."""
        stopping = self._stopping
        if stopping is not None:
            self._soon(stopping.set)
        await asyncio.to_thread(self._thread.join)

    def _soon(self, callback: Callable[[], object]) -> None:
        loop = self._loop
        if loop is None:
            return
        with contextlib.suppress(RuntimeError):  # the loop has closed: the relay has stopped
            loop.call_soon_threadsafe(callback)

    def _main(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as exc:  # a thread's failure must reach whoever waits on it
            self._failure = exc
            log.error("outbox_relay_thread_failed", service=self._outbox.service, error=repr(exc))
        finally:
            self._started.set()

    async def _serve(self) -> None:
        own = self._platform.model_copy(
            update={
                "db_plumbing_pool_size": RELAY_CONNECTIONS,
                "db_plumbing_max_overflow": 0,
            }
        )
        db = Database.connect(self._url, own)
        bus = create_event_bus(self._platform, consume=False)
        try:
            await bus.start()
            self._loop = asyncio.get_running_loop()
            self._gate, self._stopping = asyncio.Event(), asyncio.Event()
            relay = OutboxRelay(
                outbox=self._outbox,
                db=db,
                bus=bus,
                poll_seconds=self._platform.outbox_poll_seconds,
                batch_size=self._platform.outbox_batch_size,
                linger_seconds=self._platform.outbox_linger_seconds,
                gate=self._gate,
            )
            self._relay = relay
            relay.start()
            self._started.set()
            await self._stopping.wait()
            await relay.stop()
        finally:
            self._relay = None
            await bus.stop()
            await db.dispose()
