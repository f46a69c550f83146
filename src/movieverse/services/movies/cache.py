"""Read-through caches of the catalog's hottest reads: movie pages and list pages.

**Movie pages** (``GET /movies/{id}`` without appends, and the base of the page with them):
entries hold the response body itself, so a hit costs one key-value read and no database work.
Writes in this service drop the entry after their commit.

**List pages** (``/movies/popular``, ``/movies/top_rated``, ``/trending/movies/{window}``,
``/discover/movies``): a page is keyed by what was asked (route, filters, sort, page) and by the
catalog's *list generation*, a random token in the key-value store. Whatever changes a movie as
lists show it -- a movie written, ratings applied -- replaces the token after its commit, so
every cached list page (and list count, see :meth:`ListPageCache.counted`) is dropped at once,
on every process sharing the store (Redis in the distributed shape). A reader takes the token
*before* its query: a page read from data older than a commit is filed under the token that
commit replaced, and nobody reads it again. Under a stream of writes the token changes at each
consumer batch, so each distinct page is built at most once per batch. Trending pages also
carry a second token, renewed by trending activity (a movie put on a list, a rating, a review),
so that activity drops trending pages alone.

What others write straight to the database -- an import run from the command line -- shows once
entries expire: the TTL is the catalog's own ``Cache-Control`` max-age, which clients may
already cache for.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import hashlib
import uuid
from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession

from movieverse.platform.cache import BodyCache, KeyValueStore
from movieverse.platform.db import after_commit
from movieverse.services.movies.discover import DiscoverQuery

CATALOG = "movie-lists:generation"
TRENDING = "movie-lists:trending-generation"


class ListPageCache:
    """``kv`` holds the generation tokens; ``pages`` (``kv`` unless given) the page bodies and
    ``counts`` (``pages`` unless given) the lists' totals. The embedded shape gives pages and
    counts bounded stores of their own: a client choosing filters at will must not grow the
    process's memory without end, nor push the tokens out; and a count, the costly part of a
    page that was never built (one filter set has 12 sorts and 500 pages), must not be pushed
    out by the pages that use it."""

    def __init__(
        self,
        kv: KeyValueStore,
        *,
        ttl_seconds: float,
        pages: KeyValueStore | None = None,
        counts: KeyValueStore | None = None,
    ) -> None:
        self._kv = kv
        self._pages = pages or kv
        self._counts = counts or self._pages
        self._ttl = ttl_seconds
        self._counting: dict[str, asyncio.Future[int]] = {}

    async def _token(self, key: str) -> str:
        token = await self._kv.get(key)
        if token is None:  # first use, or the store lost it: a fresh token misses everything
            fresh = uuid.uuid4().hex.encode()
            created = await self._kv.set(key, fresh, only_if_absent=True)
            token = fresh if created else await self._kv.get(key) or fresh
        return token.decode()

    async def generation(self, *, trending: bool = False) -> str:
        """The current token(s); take them before reading what the page is built from."""
        catalog = await self._token(CATALOG)
        return f"{catalog}.{await self._token(TRENDING)}" if trending else catalog

    @staticmethod
    def _key(generation: str, request_key: str) -> str:
        digest = hashlib.sha256(request_key.encode()).hexdigest()[:32]
        return f"movie-lists:{generation}:{digest}"

    async def get(self, generation: str, request_key: str) -> bytes | None:
        return await self._pages.get(self._key(generation, request_key))

    async def put(self, generation: str, request_key: str, body: bytes) -> None:
        await self._pages.set(self._key(generation, request_key), body, ttl_seconds=self._ttl)

    async def counted(
        self, generation: str, query: DiscoverQuery, count: Callable[[], Awaitable[int]]
    ) -> int:
        """How many movies ``query``'s filters match, counted once per generation: every sort
        and page of the same filters shares it (a count is most of a list page's cost). Pages
        of one list asked for at once wait for the same count instead of each making one."""
        filters = dataclasses.replace(query, sort_field="popularity", sort_descending=True)
        key = self._key(generation, f"count:{filters!r}")
        cached = await self._counts.get(key)
        if cached is not None:
            return int(cached)
        counting = self._counting.get(key)
        if counting is None:
            counting = asyncio.ensure_future(self._count_and_keep(key, count))
            self._counting[key] = counting
            counting.add_done_callback(functools.partial(self._counted, key))
        # Shielded: a client that goes away does not cancel the count others wait for.
        return await asyncio.shield(counting)

    async def _count_and_keep(self, key: str, count: Callable[[], Awaitable[int]]) -> int:
        total = await count()
        await self._counts.set(key, str(total).encode(), ttl_seconds=self._ttl)
        return total

    def _counted(self, key: str, done: asyncio.Future[int]) -> None:
        self._counting.pop(key, None)
        if not done.cancelled():
            done.exception()  # retrieved: the waiters, if any are left, have raised it

    def renew_after_commit(self, session: AsyncSession, *, trending_only: bool = False) -> None:
        """Drop every list page (``trending_only``: the trending pages) once ``session``
        commits; never on rollback."""
        key = TRENDING if trending_only else CATALOG

        async def renew() -> None:
            await self._kv.set(key, uuid.uuid4().hex.encode())

        after_commit(session, renew)


class MovieCache(BodyCache[int]):
    """Movie pages by id. A movie that changes also changes the lists it is in, so dropping its
    page renews the list generation too."""

    def __init__(
        self, kv: KeyValueStore, *, ttl_seconds: float, lists: ListPageCache | None = None
    ) -> None:
        super().__init__(kv, namespace="movie", ttl_seconds=ttl_seconds)
        self.lists = lists or ListPageCache(kv, ttl_seconds=ttl_seconds)

    def forget_after_commit(self, session: AsyncSession, *keys: int) -> None:
        super().forget_after_commit(session, *keys)
        self.lists.renew_after_commit(session)
