"""The served app's start-up heap is frozen once start-up completes, and only then."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager

import httpx
import pytest
from starlette.applications import Starlette
from starlette.types import Message, Receive, Scope, Send

from movieverse.platform.heap import SERVED_GC_THRESHOLDS, FreezeHeapAfterStartup


@pytest.fixture
def thawed() -> Iterator[None]:
    """Gives the test process's objects back to the collector whatever the test froze, and its
    collection thresholds back."""
    thresholds = gc.get_threshold()
    gc.unfreeze()
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)


class StartupState:
    def __init__(self) -> None:
        self.frozen_during_startup: int | None = None
        self.long_lived: list[object] = []


def _app(state: StartupState) -> Starlette:
    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        # Something start-up builds and keeps, like a service's routes and models.
        state.long_lived.extend({"id": i} for i in range(1000))
        state.frozen_during_startup = gc.get_freeze_count()
        yield

    return Starlette(lifespan=lifespan)


async def _run_lifespan(app: FreezeHeapAfterStartup) -> list[str]:
    incoming: list[Message] = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]
    sent: list[str] = []

    async def receive() -> Message:
        return incoming.pop(0)

    async def send(message: Message) -> None:
        sent.append(message["type"])
        if message["type"] == "lifespan.startup.complete":
            sent.append(f"frozen={gc.get_freeze_count()}")

    await app({"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}, receive, send)
    return sent


async def test_what_start_up_built_is_frozen_when_it_completes(thawed: None) -> None:
    state = StartupState()
    sent = await _run_lifespan(FreezeHeapAfterStartup(_app(state)))

    assert sent[0] == "lifespan.startup.complete"
    assert state.frozen_during_startup == 0  # not before start-up finished
    frozen = int(sent[1].removeprefix("frozen="))
    assert frozen >= len(state.long_lived)  # start-up's objects, and the rest of the process
    assert sent[2:] == ["lifespan.shutdown.complete"]
    assert gc.get_threshold() == SERVED_GC_THRESHOLDS  # and collections are rarer
    # The collector no longer sees them: a full collection does not traverse frozen objects.
    tracked = {id(obj) for obj in gc.get_objects()}
    assert not any(id(obj) in tracked for obj in state.long_lived)


async def test_requests_pass_through_untouched(thawed: None) -> None:
    async def hello(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    transport = httpx.ASGITransport(app=FreezeHeapAfterStartup(hello))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        assert (await client.get("/")).status_code == 204
    assert gc.get_freeze_count() == 0
    assert gc.get_threshold() != SERVED_GC_THRESHOLDS
