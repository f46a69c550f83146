"""The in-process rate limit store's clean-up (platform/ratelimit.InProcessStorage): limits'
hook is replaced, so a hit never sends work to a thread, and expired entries still go."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from limits import parse
from limits.aio.strategies import MovingWindowRateLimiter

from movieverse.platform.ratelimit import InProcessStorage, create_storage


async def test_the_embedded_shape_counts_in_the_in_process_store() -> None:
    storage, close = create_storage(None, prefix="unused")
    assert isinstance(storage, InProcessStorage)
    await close()


async def test_hits_clean_up_inline_and_still_refuse_past_the_quota(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def no_threads(*_: Any, **__: Any) -> None:
        raise AssertionError("the clean-up went to a worker thread")

    monkeypatch.setattr(asyncio, "to_thread", no_threads)
    storage = InProcessStorage()
    windows = MovingWindowRateLimiter(storage)
    item = parse("2/minute")
    assert [await windows.hit(item, "ann") for _ in range(3)] == [True, True, False]
    assert await windows.hit(item, "bob")
    # limits' own hook ran (the replacement was called, not the thread-sending original).
    assert storage._next_expiry > time.monotonic()


async def test_expired_entries_and_counters_are_dropped_and_live_ones_kept() -> None:
    storage = InProcessStorage()
    windows = MovingWindowRateLimiter(storage)
    await windows.hit(parse("5/second"), "short")
    await windows.hit(parse("5/hour"), "long")
    await storage.incr("counter", expiry=1)
    storage.expire(time.time() + 60)
    assert [key for key in storage.events if "short" in key] == []
    assert [len(v) for key, v in storage.events.items() if "long" in key] == [1]
    assert "counter" not in storage.storage
    storage.expire(time.time() + 7200)
    assert storage.events == {}
