"""The search service's composition root: the search index (read-only), the response cache and
the query embedder. Search consumes no events (the indexer writes the index it reads)."""

from __future__ import annotations

from contextlib import AsyncExitStack
from dataclasses import dataclass

from movieverse.platform.assembly import ServiceContext, add_readiness_probe
from movieverse.platform.search import open_search_index
from movieverse.platform.search.port import SearchIndex
from movieverse.services.search.cache import ResponseCache
from movieverse.services.search.service import QueryEmbedder
from movieverse.services.search.settings import SearchSettings


@dataclass(frozen=True)
class SearchRuntime:
    settings: SearchSettings
    index: SearchIndex
    cache: ResponseCache
    embedder: QueryEmbedder


async def bootstrap(
    ctx: ServiceContext, own: SearchSettings, stack: AsyncExitStack
) -> SearchRuntime:
    index = await open_search_index(ctx.platform, writable=False)
    stack.push_async_callback(index.close)
    add_readiness_probe(ctx, "search_index", index.ping)
    return SearchRuntime(
        settings=own,
        index=index,
        cache=ResponseCache(max_bytes=own.cache_mb * 1_000_000, ttl_seconds=own.cache_seconds),
        embedder=QueryEmbedder(enabled=ctx.platform.semantic_search),
    )
