"""Turns at an embedded database's single write lock, for the writers of one process.

SQLite lets one transaction write at a time. Left to the file lock, every waiting writer polls
with sleeps of up to 100 ms (SQLite's busy handler), so 32 concurrent requests turn 5 ms
transactions into waits of seconds. Queued here instead, each writer is woken the moment the
previous one is done. Two queues: the event plumbing (the outbox relay marking a batch
published, a consumer applying one) goes before waiting requests -- it is a handful of short
transactions per second, and letting it wait behind a backlog of requests is how an overloaded
server stops its events from flowing. Other processes (a CLI import) still meet at the file
lock, under busy_timeout.
"""

from __future__ import annotations

import asyncio
from collections import deque


class WriterTurns:
    def __init__(self) -> None:
        self._held = False
        self._urgent: deque[asyncio.Future[None]] = deque()
        self._normal: deque[asyncio.Future[None]] = deque()

    async def acquire(self, *, urgent: bool = False) -> None:
        if not self._held and not self._urgent and not self._normal:
            self._held = True
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        (self._urgent if urgent else self._normal).append(waiter)
        try:
            await waiter
        except BaseException:
            if waiter.done() and not waiter.cancelled():
                self.release()  # the turn came just as we gave up: pass it on
            else:
                waiter.cancel()  # release() skips it
            raise

    def release(self) -> None:
        for queue in (self._urgent, self._normal):
            while queue:
                waiter = queue.popleft()
                if not waiter.done():
                    waiter.set_result(None)  # the turn passes on; _held stays True
                    return
        self._held = False
