"""The search service's composition: the search index, opened read-only, and the app."""

from __future__ import annotations

from contextlib import AsyncExitStack

from fastapi import FastAPI

from movieverse.platform.assembly import (
    ServiceContext,
    ServiceDefinition,
    SharedRuntime,
    add_readiness_probe,
    build_service_app,
)
from movieverse.platform.search import open_search_index
from movieverse.platform.settings import PlatformSettings
from movieverse.services.search.api import router
from movieverse.services.search.cache import ResponseCache
from movieverse.services.search.models import SERVICE, Base
from movieverse.services.search.service import QueryEmbedder
from movieverse.services.search.settings import SearchSettings


async def setup(ctx: ServiceContext, stack: AsyncExitStack) -> None:
    index = await open_search_index(ctx.platform, writable=False)
    stack.push_async_callback(index.close)
    ctx.state["search_index"] = index
    own = ctx.settings
    assert isinstance(own, SearchSettings)
    ctx.state["response_cache"] = ResponseCache(
        max_bytes=own.cache_mb * 1_000_000, ttl_seconds=own.cache_seconds
    )
    ctx.state["query_embedder"] = QueryEmbedder(enabled=ctx.platform.semantic_search)
    add_readiness_probe(ctx, "search_index", index.ping)


DEFINITION = ServiceDefinition(
    name=SERVICE,
    title="Search",
    description="Typo-tolerant, faceted search and autocomplete over movies, people and reviews.",
    metadata=Base.metadata,
    settings_factory=SearchSettings,
    routers=[router],
    setup=setup,
)


def create_app(
    settings: PlatformSettings | None = None,
    *,
    shared: SharedRuntime | None = None,
    own: SearchSettings | None = None,
) -> FastAPI:
    return build_service_app(DEFINITION, settings, shared=shared, own=own)
