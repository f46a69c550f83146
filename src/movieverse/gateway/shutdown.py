"""Shutdown that hangs says where: a process still stopping after a while logs what each of its
tasks is waiting on. A stop that never ends is otherwise silent -- an operator (or a CI run)
sees only a process that will not exit."""

from __future__ import annotations

import asyncio
import contextlib
from contextlib import AbstractAsyncContextManager
from typing import Any

import structlog

log = structlog.get_logger("movieverse.gateway")

SLOW_SHUTDOWN_SECONDS = 30.0


def _where(task: asyncio.Task[Any]) -> str:
    return _chain(task.get_coro())


def _chain(start: object) -> str:
    """The task's await chain, outermost call first, down to what it waits on (a future, a lock,
    another task). Task.get_stack shows only a coroutine's own frame, not the ones it awaits.
    A string: structlog's console renderer treats a "stack" key as preformatted text, so the chain
    goes under a name of its own."""
    steps: list[str] = []
    awaited: object = start
    while awaited is not None:
        frame = getattr(awaited, "cr_frame", None) or getattr(awaited, "ag_frame", None)
        frame = frame or getattr(awaited, "gi_frame", None)
        if frame is None:
            steps.append(repr(awaited)[:200])  # a future, a task: what the chain waits on
            break
        steps.append(f"{frame.f_code.co_filename}:{frame.f_lineno} {frame.f_code.co_name}")
        awaited = (
            getattr(awaited, "cr_await", None)
            or getattr(awaited, "ag_await", None)
            or getattr(awaited, "gi_yieldfrom", None)
        )
    return " -> ".join(steps)


async def _report_after(seconds: float) -> None:
    await asyncio.sleep(seconds)
    me = asyncio.current_task()
    tasks = [t for t in asyncio.all_tasks() if t is not me and not t.done()]
    log.warning("shutdown_slow", seconds=seconds, tasks=len(tasks))
    for task in tasks:
        log.warning("shutdown_waiting", task=task.get_name(), awaiting=_where(task))


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


# A service still stopping after this long is left behind (logged, with what it waits on), so
# that the process's other services still stop and the process exits: a graceful stop that never
# ends serves nobody (uvicorn's timeout_graceful_shutdown, Kubernetes' grace period).
SERVICE_STOP_SECONDS = 60.0


class BoundedStop:
    """``async with BoundedStop(cm, name):`` enters ``cm`` as usual; leaving it waits at most
    ``seconds`` for ``cm`` to stop, then cancels the stop and waits a little more, then gives up
    on it with an error log (``service_stop_abandoned``) instead of hanging the whole process."""

    def __init__(
        self,
        inner: AbstractAsyncContextManager[object],
        name: str,
        seconds: float = SERVICE_STOP_SECONDS,
    ) -> None:
        self._inner, self._name, self._seconds = inner, name, seconds

    async def __aenter__(self) -> None:
        await self._inner.__aenter__()

    async def __aexit__(self, *exc: Any) -> bool:
        stopping = asyncio.create_task(_leave(self._inner, exc), name=f"stop-{self._name}")
        done, _ = await asyncio.wait({stopping}, timeout=self._seconds)
        if not done:
            # An async generator's context manager hides its frames behind anext(): start from
            # the generator itself where there is one.
            gen = getattr(self._inner, "gen", None)
            where = _chain(gen) if gen is not None else _where(stopping)
            stopping.cancel()
            done, _ = await asyncio.wait({stopping}, timeout=10.0)
            log.error(
                "service_stop_abandoned",
                service=self._name,
                seconds=self._seconds,
                cancelled=bool(done),
                awaiting=where,
            )
            return False
        return bool(stopping.result())


async def _leave(inner: AbstractAsyncContextManager[object], exc: tuple[Any, ...]) -> bool | None:
    return await inner.__aexit__(*exc)
