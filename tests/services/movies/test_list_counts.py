"""A list's total is counted once per list generation (cache.ListPageCache.counted), shared by
its sorts and pages and by requests that ask for it at the same moment."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest

from movieverse.platform.cache import MemoryKeyValueStore
from movieverse.services.movies.cache import CATALOG, ListPageCache
from movieverse.services.movies.discover import DiscoverQuery, IdExpression, SortField

DRAMAS = DiscoverQuery(with_genres=IdExpression(((18,),)))


async def test_pages_asking_at_once_share_one_count() -> None:
    kv = MemoryKeyValueStore()
    lists = ListPageCache(kv, ttl_seconds=60)
    generation = await lists.generation()
    calls = 0
    release = asyncio.Event()

    async def count() -> int:
        nonlocal calls
        calls += 1
        await release.wait()
        return 42

    sorts: tuple[SortField, ...] = ("title", "vote_count", "popularity")
    waiting = [
        asyncio.create_task(
            lists.counted(generation, dataclasses.replace(DRAMAS, sort_field=s), count)
        )
        for s in sorts
    ]
    await asyncio.sleep(0)
    release.set()
    assert await asyncio.gather(*waiting) == [42, 42, 42]
    assert calls == 1
    # Kept for the generation; a new generation counts again.
    assert await lists.counted(generation, DRAMAS, count) == 42
    assert calls == 1
    await kv.set(CATALOG, b"renewed")  # as a write's renewal replaces the token
    assert await lists.counted(await lists.generation(), DRAMAS, count) == 42
    assert calls == 2


async def test_a_failed_count_reaches_every_waiter_and_the_next_one_counts_again() -> None:
    lists = ListPageCache(MemoryKeyValueStore(), ttl_seconds=60)
    generation = await lists.generation()

    async def broken() -> int:
        await asyncio.sleep(0)
        raise RuntimeError("database is gone")

    results = await asyncio.gather(
        lists.counted(generation, DRAMAS, broken),
        lists.counted(generation, DRAMAS, broken),
        return_exceptions=True,
    )
    assert [type(r) for r in results] == [RuntimeError, RuntimeError]

    async def fine() -> int:
        return 7

    assert await lists.counted(generation, DRAMAS, fine) == 7


async def test_a_waiter_that_goes_away_does_not_cancel_the_count() -> None:
    lists = ListPageCache(MemoryKeyValueStore(), ttl_seconds=60)
    generation = await lists.generation()
    release = asyncio.Event()

    async def count() -> int:
        await release.wait()
        return 5

    first = asyncio.create_task(lists.counted(generation, DRAMAS, count))
    second = asyncio.create_task(lists.counted(generation, DRAMAS, count))
    await asyncio.sleep(0)
    first.cancel()
    release.set()
    assert await second == 5
    with pytest.raises(asyncio.CancelledError):
        await first


async def test_counts_outlive_the_pages_that_push_each_other_out() -> None:
    """As the embedded shape builds it: a page store of one entry, counts in a store of their
    own. Pages of other lists replace each other; the dramas' count stays, so a page of them
    never built before does not count again."""
    kv = MemoryKeyValueStore()
    lists = ListPageCache(
        kv,
        ttl_seconds=60,
        pages=MemoryKeyValueStore(max_entries=1),
        counts=MemoryKeyValueStore(max_entries=10),
    )
    generation = await lists.generation()
    calls = 0

    async def count() -> int:
        nonlocal calls
        calls += 1
        return 42

    assert await lists.counted(generation, DRAMAS, count) == 42
    await lists.put(generation, "dramas page 1", b"[...]")
    await lists.put(generation, "comedies page 1", b"[...]")  # pushes the dramas' page out
    assert await lists.get(generation, "dramas page 1") is None
    title_sorted = dataclasses.replace(DRAMAS, sort_field="title")
    assert await lists.counted(generation, title_sorted, count) == 42
    assert calls == 1
