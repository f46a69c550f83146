"""Concurrent cache misses of one key share one computation ("single flight").

A rating makes the user's cache key new; every request for that user until the new answer is
cached would otherwise ask the ai service for the same answer, each one making the event loop
slower for the next (in a load test with one user per connection: 500 misses for 70 ratings,
p99 660 ms). Joined callers wait for the first one's answer instead. The computation runs as a
task of its own, so a caller that goes away (a client hanging up) does not cancel it for the
others. In-process only: in the distributed shape each process computes a key at most once at a
time, which bounds the herd to the number of processes.

A caller that has something else to answer with (the user's previous page, see service.py) can
``start`` the computation without waiting for it. So that such callers do not hide a broken
computation behind old answers for ever, a key whose last computation failed is remembered for
``FAILURE_MEMORY_SECONDS``: ``failed_recently`` tells them to wait for the next one instead and
see its error.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

T = TypeVar("T")

FAILURE_MEMORY_SECONDS = 5.0
MAX_FAILURES_KEPT = 10_000


class SingleFlight(Generic[T]):
    def __init__(self) -> None:
        self._running: dict[str, asyncio.Task[T]] = {}
        self._failed_at: OrderedDict[str, float] = OrderedDict()
        self.joined = 0

    def start(self, key: str, compute: Callable[[], Awaitable[T]]) -> asyncio.Task[T]:
        """The computation of ``key``: the one already running, or ``compute()`` started now."""
        task = self._running.get(key)
        if task is not None:
            self.joined += 1
            return task
        task = asyncio.ensure_future(compute())
        self._running[key] = task
        task.add_done_callback(lambda _: self._forget(key, task))
        return task

    async def run(self, key: str, compute: Callable[[], Awaitable[T]]) -> T:
        return await asyncio.shield(self.start(key, compute))

    def failed_recently(self, key: str) -> bool:
        failed_at = self._failed_at.get(key)
        if failed_at is None:
            return False
        if time.monotonic() - failed_at < FAILURE_MEMORY_SECONDS:
            return True
        del self._failed_at[key]
        return False

    def _forget(self, key: str, task: asyncio.Task[T]) -> None:
        if self._running.get(key) is task:
            del self._running[key]
        if task.cancelled():
            return
        # Retrieved: a failure every caller already saw (or nobody waited for) is not
        # reported again as "never retrieved".
        if task.exception() is None:
            self._failed_at.pop(key, None)
            return
        self._failed_at[key] = time.monotonic()
        self._failed_at.move_to_end(key)
        if len(self._failed_at) > MAX_FAILURES_KEPT:
            self._failed_at.popitem(last=False)

    @property
    def running(self) -> int:
        return len(self._running)

    async def close(self) -> None:
        """Stop the computations nobody may be waiting for any more (at shutdown)."""
        tasks = list(self._running.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
