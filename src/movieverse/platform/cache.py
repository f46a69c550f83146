"""The key-value port (caches, counters, rate limits, short-lived tokens) and its adapters.

Adapters: :class:`MemoryKeyValueStore` (one process, the embedded shape) and
:class:`RedisKeyValueStore`. ``tests/contract/test_kv_contract.py`` holds both to one behaviour.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable
from typing import Generic, Protocol, TypeVar

from redis.asyncio import BlockingConnectionPool, Redis
from sqlalchemy.ext.asyncio import AsyncSession

from movieverse.platform.db import after_commit

K = TypeVar("K")


class KeyValueStore(Protocol):
    async def get(self, key: str) -> bytes | None: ...

    async def set(
        self,
        key: str,
        value: bytes,
        *,
        ttl_seconds: float | None = None,
        only_if_absent: bool = False,
    ) -> bool:
        """Store ``value``; with ``only_if_absent`` do so only if no live value exists.

        Returns whether the value was written.
        """
        ...

    async def delete(self, *keys: str) -> int:
        """Remove keys; returns how many existed."""
        ...

    async def increment(
        self, key: str, amount: int = 1, *, ttl_seconds: float | None = None
    ) -> int:
        """Add ``amount`` atomically; the TTL is set only when this call creates the key."""
        ...

    async def ttl(self, key: str) -> float | None:
        """Seconds until the key expires; None if it is missing or never expires."""
        ...

    async def ping(self) -> str:
        """The server's version, or raise if it cannot be reached."""
        ...

    async def close(self) -> None: ...


class MemoryKeyValueStore:
    """A dict with expiry. Safe for concurrent coroutines of one event loop.

    ``max_entries`` bounds a store used as a cache whose keys clients choose (list pages by
    their filters): past it, expired entries go first, then the oldest written. Never bound a
    store holding state that must not be evicted (login locks, counters)."""

    def __init__(
        self, *, clock: Callable[[], float] = time.monotonic, max_entries: int | None = None
    ) -> None:
        self._data: dict[str, tuple[bytes, float | None]] = {}
        self._lock = asyncio.Lock()
        self._writes_since_sweep = 0
        self._clock = clock  # a seam: tests read expiries without waiting on the wall clock
        self._max_entries = max_entries

    def _now(self) -> float:
        return self._clock()

    def _live(self, key: str) -> tuple[bytes, float | None] | None:
        entry = self._data.get(key)
        if entry is None:
            return None
        _, expires = entry
        if expires is not None and expires <= self._now():
            del self._data[key]
            return None
        return entry

    def _expiry(self, ttl_seconds: float | None) -> float | None:
        if ttl_seconds is None:
            return None
        if ttl_seconds <= 0:
            raise ValueError("ttl_seconds must be positive")
        return self._now() + ttl_seconds

    def _maybe_sweep(self) -> None:
        # Expired keys nobody reads again would otherwise live forever.
        self._writes_since_sweep += 1
        if self._writes_since_sweep < 1000:
            return
        self._writes_since_sweep = 0
        now = self._now()
        for key in [k for k, (_, exp) in self._data.items() if exp is not None and exp <= now]:
            del self._data[key]

    async def get(self, key: str) -> bytes | None:
        entry = self._live(key)
        return entry[0] if entry else None

    async def set(
        self,
        key: str,
        value: bytes,
        *,
        ttl_seconds: float | None = None,
        only_if_absent: bool = False,
    ) -> bool:
        expires = self._expiry(ttl_seconds)
        async with self._lock:
            if only_if_absent and self._live(key) is not None:
                return False
            self._make_room_for(key)
            self._data[key] = (bytes(value), expires)
            self._maybe_sweep()
            return True

    def _make_room_for(self, key: str) -> None:
        if self._max_entries is None or key in self._data or len(self._data) < self._max_entries:
            return
        self._writes_since_sweep = 1000
        self._maybe_sweep()  # expired entries first
        while len(self._data) >= self._max_entries:
            del self._data[next(iter(self._data))]  # then the oldest written (dicts keep order)

    async def delete(self, *keys: str) -> int:
        async with self._lock:
            removed = 0
            for key in keys:
                if self._live(key) is not None:
                    del self._data[key]
                    removed += 1
            return removed

    async def increment(
        self, key: str, amount: int = 1, *, ttl_seconds: float | None = None
    ) -> int:
        async with self._lock:
            entry = self._live(key)
            if entry is None:
                value, expires = 0, self._expiry(ttl_seconds)
            else:
                try:
                    value = int(entry[0])
                except ValueError as exc:
                    raise ValueError(f"{key} does not hold an integer") from exc
                expires = entry[1]
            value += amount
            self._data[key] = (str(value).encode(), expires)
            self._maybe_sweep()
            return value

    async def ttl(self, key: str) -> float | None:
        entry = self._live(key)
        if entry is None or entry[1] is None:
            return None
        return max(0.0, entry[1] - self._now())

    async def ping(self) -> str:
        return "in-process"

    async def close(self) -> None:
        self._data.clear()


class RedisKeyValueStore:
    """Redis, with every key under ``prefix`` so deployments and tests can share a server."""

    def __init__(self, client: Redis, *, prefix: str = "movieverse:") -> None:
        self._redis = client
        self._prefix = prefix

    @classmethod
    def from_url(cls, url: str, *, prefix: str = "movieverse:") -> RedisKeyValueStore:
        # A blocking pool makes a burst wait briefly for a connection instead of failing with
        # "Too many connections".
        pool = BlockingConnectionPool.from_url(
            url, max_connections=64, timeout=5, socket_timeout=5, socket_connect_timeout=5
        )
        return cls(Redis(connection_pool=pool), prefix=prefix)

    @property
    def client(self) -> Redis:
        return self._redis

    def key(self, key: str) -> str:
        return self._prefix + key

    async def get(self, key: str) -> bytes | None:
        value: bytes | str | None = await self._redis.get(self.key(key))
        if value is None:
            return None
        return value.encode() if isinstance(value, str) else bytes(value)

    async def set(
        self,
        key: str,
        value: bytes,
        *,
        ttl_seconds: float | None = None,
        only_if_absent: bool = False,
    ) -> bool:
        if ttl_seconds is not None and ttl_seconds <= 0:
            raise ValueError("ttl_seconds must be positive")
        px = None if ttl_seconds is None else max(1, math.ceil(ttl_seconds * 1000))
        written = await self._redis.set(self.key(key), value, px=px, nx=only_if_absent)
        return bool(written)

    async def delete(self, *keys: str) -> int:
        if not keys:
            return 0
        return int(await self._redis.delete(*(self.key(k) for k in keys)))

    async def increment(
        self, key: str, amount: int = 1, *, ttl_seconds: float | None = None
    ) -> int:
        full = self.key(key)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.incrby(full, amount)
            if ttl_seconds is not None:
                # NX: only a key without expiry (i.e. just created) gets one (Redis >= 7).
                pipe.pexpire(full, max(1, math.ceil(ttl_seconds * 1000)), nx=True)
            results = await pipe.execute()
        return int(results[0])

    async def ttl(self, key: str) -> float | None:
        millis = int(await self._redis.pttl(self.key(key)))
        if millis < 0:  # -2 missing, -1 no expiry
            return None
        return millis / 1000

    async def ping(self) -> str:
        info = await self._redis.info("server")
        return f"Redis {info.get('redis_version', '?')}"

    async def close(self) -> None:
        await self._redis.aclose()


def create_key_value_store(url: str | None, *, prefix: str = "movieverse:") -> KeyValueStore:
    if url is None or url == "memory://":
        return MemoryKeyValueStore()
    if url.startswith(("redis://", "rediss://", "unix://")):
        return RedisKeyValueStore.from_url(url, prefix=prefix)
    raise ValueError(f"unsupported key-value store URL scheme: {url.split('://', 1)[0]}")


class BodyCache(Generic[K]):
    """Ready-made response bodies by entity key, each for at most ``ttl_seconds``.

    For read-through caches of hot pages (a user's own profile, a movie page): a hit is one
    key-value read and no serialisation. Writers call :meth:`forget_after_commit`; dropping the
    entry before the commit would let a concurrent reader cache the old row again, and the TTL
    bounds how long that rarer race -- a reader caching a row just replaced -- can last.
    """

    def __init__(self, kv: KeyValueStore, *, namespace: str, ttl_seconds: float) -> None:
        self._kv = kv
        self._namespace = namespace
        self._ttl = ttl_seconds

    def _key(self, key: K) -> str:
        return f"{self._namespace}:{key}"

    async def get(self, key: K) -> bytes | None:
        return await self._kv.get(self._key(key))

    async def put(self, key: K, body: bytes) -> bytes:
        await self._kv.set(self._key(key), body, ttl_seconds=self._ttl)
        return body

    async def forget(self, *keys: K) -> None:
        if keys:
            await self._kv.delete(*(self._key(k) for k in keys))

    def forget_after_commit(self, session: AsyncSession, *keys: K) -> None:
        """Drop the entries once ``session`` commits; several keys cost one round trip."""

        async def forget() -> None:
            await self.forget(*keys)

        after_commit(session, forget)
