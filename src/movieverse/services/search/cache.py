"""Search response bodies kept in the process, under the index generation they were built from.

A search or suggestion page depends on nothing but what was asked and what the index holds, so
a body is kept under both: the request's parameters and the index's generation token
(:meth:`~movieverse.platform.search.port.SearchIndex.generation`), taken *before* the search.
A write or rebuild the index shows changes the token, and the bodies kept under the old one are
never read again (they age out). A repeated query then costs one dictionary read, no search,
highlighting or serialising.

Bounded by bytes, least recently used first out, since clients choose the queries; and by age,
as a backstop. Kept in the process even where a shared key-value store exists: the tokens are
the process's own view of the index (an adapter that has none, OpenSearch, keeps nothing).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable

# What a kept entry costs beyond its body: the key tuple, the entry and the dict's slot.
ENTRY_OVERHEAD_BYTES = 400


class ResponseCache:
    """Bodies by key, at most ``max_bytes`` in all, none older than ``ttl_seconds``. One event
    loop uses it; nothing in it awaits."""

    def __init__(
        self,
        *,
        max_bytes: int,
        ttl_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._entries: dict[Hashable, tuple[bytes, float]] = {}
        self._bytes = 0
        self._max_bytes = max_bytes
        self._ttl = ttl_seconds
        self._clock = clock  # a seam: tests age entries without waiting
        self.hits = 0
        self.misses = 0

    @property
    def enabled(self) -> bool:
        return self._max_bytes > 0 and self._ttl > 0

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def size_bytes(self) -> int:
        return self._bytes

    def get(self, key: Hashable) -> bytes | None:
        entry = self._entries.pop(key, None)
        if entry is None:
            self.misses += 1
            return None
        body, expires = entry
        if expires <= self._clock():
            self._bytes -= len(body) + ENTRY_OVERHEAD_BYTES
            self.misses += 1
            return None
        self._entries[key] = entry  # to the end: the most recently used
        self.hits += 1
        return body

    def put(self, key: Hashable, body: bytes) -> None:
        cost = len(body) + ENTRY_OVERHEAD_BYTES
        if not self.enabled or cost > self._max_bytes:
            return
        old = self._entries.pop(key, None)
        if old is not None:
            self._bytes -= len(old[0]) + ENTRY_OVERHEAD_BYTES
        while self._entries and self._bytes + cost > self._max_bytes:
            oldest = next(iter(self._entries))
            self._bytes -= len(self._entries.pop(oldest)[0]) + ENTRY_OVERHEAD_BYTES
        self._entries[key] = (body, self._clock() + self._ttl)
        self._bytes += cost
