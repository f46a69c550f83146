"""A stop that hangs says where: the tasks still waiting, with their stacks."""

from __future__ import annotations

import asyncio

from structlog.testing import capture_logs

from movieverse.gateway.shutdown import ShutdownWatch


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
    assert any("waits_forever" in line for line in named[0]["stack"])


async def test_a_prompt_stop_logs_nothing() -> None:
    with capture_logs() as logs:
        async with ShutdownWatch(seconds=0.5) as watch:
            watch.begin()
    await asyncio.sleep(0.6)
    assert [e for e in logs if e["event"].startswith("shutdown_")] == []
