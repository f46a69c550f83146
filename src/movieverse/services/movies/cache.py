"""A read-through cache of movie pages (``GET /movies/{id}`` without appends, and the base of the
page with them): the hottest catalog read.

Entries hold the response body itself, so a hit costs one key-value read and no database work.
Writes in this service drop the entry after their commit. What others write straight to the
database -- an import run from the command line -- shows once the entry expires: the TTL is the
catalog's own ``Cache-Control`` max-age, which clients may already cache for. In the distributed
shape the key-value store is Redis, shared by every movies process, so a write in one drops the
entry for all.
"""

from __future__ import annotations

from movieverse.platform.cache import BodyCache, KeyValueStore


class MovieCache(BodyCache[int]):
    def __init__(self, kv: KeyValueStore, *, ttl_seconds: float) -> None:
        super().__init__(kv, namespace="movie", ttl_seconds=ttl_seconds)
