"""Who is listening on the live stream, and waking them when their notifications are made.

In one process a commit wakes the stream at once; notifications made in another process (a
worker) are found by the stream's own poll a few seconds later, at worst.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from collections.abc import Callable
from uuid import UUID


class StreamHub:
    def __init__(self) -> None:
        self._listeners: dict[UUID, set[asyncio.Event]] = defaultdict(set)
        # The clock (Unix time) streams measure their access token's expiry by: tests move it
        # instead of waiting for a token to run out.
        self.clock: Callable[[], float] = time.time

    def listen(self, user_id: UUID) -> asyncio.Event:
        event = asyncio.Event()
        self._listeners[user_id].add(event)
        return event

    def leave(self, user_id: UUID, event: asyncio.Event) -> None:
        listeners = self._listeners.get(user_id)
        if listeners is not None:
            listeners.discard(event)
            if not listeners:
                del self._listeners[user_id]

    def wake(self, user_ids: set[UUID]) -> None:
        for user_id in user_ids:
            for event in self._listeners.get(user_id, ()):
                event.set()
