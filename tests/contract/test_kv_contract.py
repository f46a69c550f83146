"""One behaviour for every key-value adapter: in-process always, Redis when its URL is set."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest

from movieverse.platform.cache import KeyValueStore, MemoryKeyValueStore, RedisKeyValueStore
from tests.support import require_server


@pytest.fixture(params=["memory", "redis"])
async def kv(request: pytest.FixtureRequest) -> AsyncIterator[KeyValueStore]:
    store: KeyValueStore
    if request.param == "memory":
        store = MemoryKeyValueStore()
    else:
        url = require_server("redis")
        # A unique prefix isolates this test's keys on a shared server.
        store = RedisKeyValueStore.from_url(url, prefix=f"mvtest:{uuid.uuid4().hex}:")
    yield store
    await store.close()


async def test_get_set_delete(kv: KeyValueStore) -> None:
    assert await kv.get("missing") is None
    assert await kv.set("k", b"\x00binary\xff") is True
    assert await kv.get("k") == b"\x00binary\xff"
    assert await kv.set("k", b"v2") is True
    assert await kv.get("k") == b"v2"
    assert await kv.delete("k", "never-there") == 1
    assert await kv.get("k") is None
    assert await kv.delete() == 0


async def test_set_only_if_absent(kv: KeyValueStore) -> None:
    assert await kv.set("lock", b"a", only_if_absent=True) is True
    assert await kv.set("lock", b"b", only_if_absent=True) is False
    assert await kv.get("lock") == b"a"


async def test_values_expire(kv: KeyValueStore) -> None:
    await kv.set("short", b"x", ttl_seconds=0.2)
    remaining = await kv.ttl("short")
    assert remaining is not None
    assert 0 < remaining <= 0.2
    await asyncio.sleep(0.35)
    assert await kv.get("short") is None
    assert await kv.ttl("short") is None
    # An expired key no longer blocks only_if_absent.
    assert await kv.set("short", b"y", only_if_absent=True) is True


async def test_ttl_of_persistent_and_missing_keys(kv: KeyValueStore) -> None:
    await kv.set("forever", b"1")
    assert await kv.ttl("forever") is None
    assert await kv.ttl("nothing") is None


async def test_increment_sets_ttl_only_on_creation(kv: KeyValueStore) -> None:
    assert await kv.increment("n", ttl_seconds=0.5) == 1
    first_ttl = await kv.ttl("n")
    await asyncio.sleep(0.15)
    assert await kv.increment("n", 4, ttl_seconds=10) == 5
    later_ttl = await kv.ttl("n")
    assert first_ttl is not None
    assert later_ttl is not None
    assert later_ttl < first_ttl  # not pushed out by the second increment
    await asyncio.sleep(0.5)
    assert await kv.increment("n") == 1  # expired, so counting starts over


async def test_increment_is_atomic_under_concurrency(kv: KeyValueStore) -> None:
    await asyncio.gather(*(kv.increment("hits") for _ in range(200)))
    assert await kv.get("hits") == b"200"


async def test_increment_refuses_a_non_integer(kv: KeyValueStore) -> None:
    await kv.set("text", b"abc")
    with pytest.raises(Exception):  # noqa: B017,PT011 -- adapters raise their own error types
        await kv.increment("text")


async def test_invalid_ttl_is_refused(kv: KeyValueStore) -> None:
    with pytest.raises(ValueError, match="positive"):
        await kv.set("k", b"v", ttl_seconds=0)


async def test_ping_names_the_server(kv: KeyValueStore) -> None:
    version = await kv.ping()
    assert version == "in-process" or version.startswith("Redis ")
