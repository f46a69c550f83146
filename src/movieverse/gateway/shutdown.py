"""Shutdown that hangs says where: a process still stopping after a while logs what each of its
tasks is waiting on. A stop that never ends is otherwise silent -- an operator (or a CI run)
sees only a process that will not exit."""

from __future__ import annotations

import asyncio
import contextlib

import structlog

log = structlog.get_logger("movieverse.gateway")

SLOW_SHUTDOWN_SECONDS = 30.0


def _where(task: asyncio.Task[object]) -> list[str]:
    return [
        f"{frame.f_code.co_filename}:{frame.f_lineno} {frame.f_code.co_name}"
        for frame in task.get_stack(limit=12)
    ]


async def _report_after(seconds: float) -> None:
    await asyncio.sleep(seconds)
    me = asyncio.current_task()
    tasks = [t for t in asyncio.all_tasks() if t is not me and not t.done()]
    log.warning("shutdown_slow", seconds=seconds, tasks=len(tasks))
    for task in tasks:
        log.warning("shutdown_waiting", task=task.get_name(), stack=_where(task))


class ShutdownWatch:
    """``async with ShutdownWatch() as watch:`` around a lifespan; ``watch.begin()`` where its
    stop begins. Past ``seconds`` of stopping, every task's stack is logged once."""

    def __init__(self, seconds: float = SLOW_SHUTDOWN_SECONDS) -> None:
        self.seconds = seconds
        self._watchdog: asyncio.Task[None] | None = None

    def begin(self) -> None:
        self._watchdog = asyncio.create_task(_report_after(self.seconds), name="shutdown-watchdog")

    async def __aenter__(self) -> ShutdownWatch:
        return self

    async def __aexit__(self, *_: object) -> None:
        if self._watchdog is not None:
            self._watchdog.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watchdog
