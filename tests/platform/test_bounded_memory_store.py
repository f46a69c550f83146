"""A bounded in-process store (list pages): full, it drops expired entries, then the oldest."""

from __future__ import annotations

from movieverse.platform.cache import MemoryKeyValueStore


async def test_a_full_store_drops_the_oldest_written() -> None:
    store = MemoryKeyValueStore(max_entries=3)
    for key in ("a", "b", "c"):
        await store.set(key, key.encode(), ttl_seconds=60)
    await store.set("b", b"B", ttl_seconds=60)  # an existing key takes no more room
    assert [await store.get(k) for k in ("a", "b", "c")] == [b"a", b"B", b"c"]
    await store.set("d", b"d", ttl_seconds=60)
    assert [await store.get(k) for k in ("a", "b", "c", "d")] == [None, b"B", b"c", b"d"]


async def test_expired_entries_make_room_before_live_ones() -> None:
    now = [100.0]
    store = MemoryKeyValueStore(max_entries=3, clock=lambda: now[0])
    await store.set("old", b"1", ttl_seconds=60)
    await store.set("short", b"2", ttl_seconds=1)
    await store.set("new", b"3", ttl_seconds=60)
    now[0] += 5  # "short" has expired
    await store.set("newest", b"4", ttl_seconds=60)
    assert [await store.get(k) for k in ("old", "new", "newest")] == [b"1", b"3", b"4"]


async def test_an_unbounded_store_keeps_everything() -> None:
    store = MemoryKeyValueStore()
    for i in range(5000):
        await store.set(f"k{i}", b"x")
    assert await store.get("k0") == b"x"
