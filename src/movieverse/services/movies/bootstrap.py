"""Movies' composition root: its peer clients (people, related movies), the read projections,
the details and list-page caches, its consumers."""

from __future__ import annotations

from contextlib import AsyncExitStack
from dataclasses import dataclass

from movieverse.platform.assembly import ServiceContext, runtime_of
from movieverse.platform.cache import MemoryKeyValueStore
from movieverse.platform.events.consumers import subscribe_consumers
from movieverse.platform.http import service_client
from movieverse.services.movies import service
from movieverse.services.movies.cache import ListPageCache, MovieCache
from movieverse.services.movies.consumers import MoviesHandlers, consumers
from movieverse.services.movies.people import PeopleDirectory
from movieverse.services.movies.projections import CatalogReads
from movieverse.services.movies.related import RelatedMovies
from movieverse.services.movies.settings import MoviesSettings


@dataclass(frozen=True)
class MoviesRuntime:
    settings: MoviesSettings
    people: PeopleDirectory
    related: RelatedMovies
    reads: CatalogReads
    movies: MovieCache
    lists: ListPageCache


async def bootstrap(
    ctx: ServiceContext, own: MoviesSettings, stack: AsyncExitStack
) -> MoviesRuntime:
    people = PeopleDirectory(service_client("metadata", local_apps=ctx.shared.local_apps))
    stack.push_async_callback(people.close)
    related = RelatedMovies(service_client("recommendations", local_apps=ctx.shared.local_apps))
    stack.push_async_callback(related.close)
    # In-process, list pages and list counts get bounded stores of their own; Redis bounds
    # itself (maxmemory).
    in_process = isinstance(ctx.kv, MemoryKeyValueStore)
    pages = MemoryKeyValueStore(max_entries=own.list_cache_entries) if in_process else None
    counts = MemoryKeyValueStore(max_entries=own.list_count_entries) if in_process else None
    lists = ListPageCache(ctx.kv, ttl_seconds=own.details_cache_seconds, pages=pages, counts=counts)
    movies = MovieCache(ctx.kv, ttl_seconds=own.details_cache_seconds, lists=lists)
    handlers = MoviesHandlers(outbox=ctx.outbox, movies=movies, lists=lists)
    subscribe_consumers(ctx.name, ctx.bus, ctx.inbox, consumers(handlers))
    return MoviesRuntime(
        settings=own,
        people=people,
        related=related,
        reads=CatalogReads(ctx.db.reads),
        movies=movies,
        lists=lists,
    )


async def maintain(ctx: ServiceContext) -> None:
    async with ctx.db.unit_of_work() as session:
        await service.prune_activity(session)
        runtime_of(ctx, MoviesRuntime).lists.renew_after_commit(session, trending_only=True)
