"""Concurrent cache misses of one key share one computation ("single flight").

A rating makes the user's cache key new; every request for that user until the new answer is
cached would otherwise ask the ai service for the same answer, each one making the event loop
slower for the next (in a load test with one user per connection: 500 misses for 70 ratings,
p99 660 ms). Joined callers wait for the first one's answer instead. The computation runs as a
task of its own, so a caller that goes away (a client hanging up) does not cancel it for the
others. In-process only: in the distributed shape each process computes a key at most once at a
time, which bounds the herd to the number of processes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class SingleFlight(Generic[T]):
    def __init__(self) -> None:
        self._running: dict[str, asyncio.Task[T]] = {}
        self.joined = 0

    async def run(self, key: str, compute: Callable[[], Awaitable[T]]) -> T:
        task = self._running.get(key)
        if task is None:
            task = asyncio.ensure_future(compute())
            self._running[key] = task
            task.add_done_callback(lambda _: self._forget(key, task))
        else:
            self.joined += 1
        return await asyncio.shield(task)

    def _forget(self, key: str, task: asyncio.Task[T]) -> None:
        if self._running.get(key) is task:
            del self._running[key]
        if not task.cancelled():
            task.exception()  # retrieved: a failure every caller already saw is not "unhandled"

    @property
    def running(self) -> int:
        return len(self._running)
