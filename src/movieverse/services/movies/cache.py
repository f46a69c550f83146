"""A read-through cache of movie pages (``GET /movies/{id}`` without appends, and the base of the
page with them): the hottest catalog read.

Entries hold the response body itself, so a hit costs one key-value read and no database work.
Writes in this service drop the entry after their commit (``platform.db.after_commit``). What
others write straight to the database -- an import run from the command line -- shows once the
entry expires: the TTL is the catalog's own ``Cache-Control`` max-age, which clients may already
cache for. In the distributed shape the key-value store is Redis, shared by every movies process,
so a write in one drops the entry for all.
"""

from __future__ import annotations

from movieverse.platform.cache import KeyValueStore


class MovieCache:
    def __init__(self, kv: KeyValueStore, *, ttl_seconds: float) -> None:
        self._kv = kv
        self._ttl = ttl_seconds

    @staticmethod
    def _key(movie_id: int) -> str:
        return f"movie:{movie_id}"

    async def get(self, movie_id: int) -> bytes | None:
        return await self._kv.get(self._key(movie_id))

    async def put(self, movie_id: int, body: bytes) -> None:
        await self._kv.set(self._key(movie_id), body, ttl_seconds=self._ttl)

    async def forget(self, movie_id: int) -> None:
        await self._kv.delete(self._key(movie_id))
