"""A stop that hangs says where: the tasks still waiting, with their stacks."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import structlog
from structlog.testing import capture_logs

from movieverse.gateway.shutdown import BoundedStop, ShutdownWatch


async def test_a_slow_stop_logs_each_waiting_task_once() -> None:
    async def waits_forever() -> None:
        await asyncio.Event().wait()

    stuck = asyncio.create_task(waits_forever(), name="stuck-stop")
    with capture_logs() as logs:
        async with ShutdownWatch(seconds=0.05) as watch:
            watch.begin()
            await asyncio.sleep(0.3)
    stuck.cancel()
    events = [entry["event"] for entry in logs]
    assert events.count("shutdown_slow") == 1
    waiting = [entry for entry in logs if entry["event"] == "shutdown_waiting"]
    named = [entry for entry in waiting if entry["task"] == "stuck-stop"]
    assert len(named) == 1
    assert "waits_forever" in named[0]["awaiting"]


async def test_the_report_renders_through_the_console_renderer() -> None:
    """What CI prints goes through structlog's console renderer, which refuses a list under a
    "stack" key (the first version of this report raised there instead of printing)."""

    async def waits_forever() -> None:
        await asyncio.Event().wait()

    stuck = asyncio.create_task(waits_forever(), name="stuck-rendered")
    with capture_logs() as logs:
        async with ShutdownWatch(seconds=0.05) as watch:
            watch.begin()
            await asyncio.sleep(0.3)
    stuck.cancel()
    render = structlog.dev.ConsoleRenderer(colors=False)
    printed = [render(None, "warning", dict(entry)) for entry in logs]
    assert any("stuck-rendered" in line and "waits_forever" in line for line in printed)


async def test_a_prompt_stop_logs_nothing() -> None:
    with capture_logs() as logs:
        async with ShutdownWatch(seconds=0.5) as watch:
            watch.begin()
    await asyncio.sleep(0.6)
    assert [e for e in logs if e["event"].startswith("shutdown_")] == []


async def test_a_service_whose_stop_hangs_is_left_behind_with_an_error() -> None:
    stopped: list[str] = []

    @contextlib.asynccontextmanager
    async def hangs_on_stop() -> AsyncIterator[None]:
        yield
        await asyncio.Event().wait()  # a stop that never ends by itself

    @contextlib.asynccontextmanager
    async def stops() -> AsyncIterator[None]:
        yield
        stopped.append("prompt")

    with capture_logs() as logs:
        async with contextlib.AsyncExitStack() as stack:
            await stack.enter_async_context(BoundedStop(stops(), "prompt"))
            await stack.enter_async_context(BoundedStop(hangs_on_stop(), "stuck", seconds=0.1))
    # The stuck one was given up on, and the one after it still stopped.
    assert stopped == ["prompt"]
    abandoned = [e for e in logs if e["event"] == "service_stop_abandoned"]
    assert [e["service"] for e in abandoned] == ["stuck"]
    assert abandoned[0]["cancelled"] is True
    assert "hangs_on_stop" in abandoned[0]["awaiting"]
