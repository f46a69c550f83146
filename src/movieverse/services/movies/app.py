"""Movies' composition."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from contextlib import AsyncExitStack

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from movieverse.platform.assembly import (
    ServiceContext,
    ServiceDefinition,
    SharedRuntime,
    build_service_app,
)
from movieverse.platform.cache import MemoryKeyValueStore
from movieverse.platform.events.bus import Subscription
from movieverse.platform.events.envelope import Event
from movieverse.platform.events.outbox import Outbox
from movieverse.platform.http import service_client
from movieverse.platform.settings import PlatformSettings
from movieverse.services.movies import service
from movieverse.services.movies.api import (
    discover_router,
    find_router,
    movies_router,
    trending_router,
)
from movieverse.services.movies.cache import ListPageCache, MovieCache
from movieverse.services.movies.events import (
    METADATA_CREDITS_CHANGED,
    METADATA_KEYWORD_CHANGED,
    REVIEWS_MOVIE_RATINGS_CHANGED,
    REVIEWS_RATING_CHANGED,
    REVIEWS_REVIEW_WRITTEN,
    USERS_LIST_CHANGED,
    CreditsChanged,
    KeywordChanged,
    ListChanged,
    MovieRatingsChanged,
    ReviewActivity,
)
from movieverse.services.movies.models import SERVICE, Base
from movieverse.services.movies.people import PeopleDirectory
from movieverse.services.movies.projections import CatalogReads
from movieverse.services.movies.related import RelatedMovies
from movieverse.services.movies.settings import MoviesSettings


async def on_list_changed(session: AsyncSession, event: Event, *, lists: ListPageCache) -> None:
    change = ListChanged.model_validate(event.payload)
    await service.record_list_activity(
        session,
        movie_id=change.movie_id,
        list_name=change.list,
        action=change.action,
        occurred_at=event.occurred_at,
    )
    lists.renew_after_commit(session, trending_only=True)


async def on_credits_changed(session: AsyncSession, event: Event, *, lists: ListPageCache) -> None:
    change = CreditsChanged.model_validate(event.payload)
    await service.index_people(
        session,
        movie_id=change.movie_id,
        people={(p.person_id, p.role) for p in change.people if p.role in {"cast", "crew"}},
    )
    lists.renew_after_commit(session)  # discover's cast, crew and people filters


async def on_keyword_changed(session: AsyncSession, event: Event) -> None:
    change = KeywordChanged.model_validate(event.payload)
    await service.name_keyword(session, keyword_id=change.keyword_id, name=change.name)


def _interest(event: Event) -> service.ReviewInterest | None:
    activity = ReviewActivity.model_validate(event.payload)
    if event.type == REVIEWS_RATING_CHANGED and activity.value is not None:
        kind = "rating"
    elif event.type == REVIEWS_REVIEW_WRITTEN and activity.created:
        kind = "review"
    else:
        return None  # a removed rating or an edited review is no new interest
    return service.ReviewInterest(activity.movie_id, kind, event.occurred_at)


async def on_review_activity(
    session: AsyncSession, events: Sequence[Event], *, lists: ListPageCache
) -> None:
    interest = [i for i in map(_interest, events) if i is not None]
    await service.record_review_activity(session, interest)
    if interest:
        lists.renew_after_commit(session, trending_only=True)


async def on_movie_ratings(
    session: AsyncSession, events: Sequence[Event], *, outbox: Outbox, cache: MovieCache
) -> None:
    totals = [MovieRatingsChanged.model_validate(e.payload) for e in events]
    await service.apply_ratings(
        session,
        outbox=outbox,
        cache=cache,
        totals=[service.RatingTotals(t.movie_id, t.count, t.average, t.version) for t in totals],
    )


async def setup(ctx: ServiceContext, stack: AsyncExitStack) -> None:
    people = PeopleDirectory(service_client("metadata", local_apps=ctx.shared.local_apps))
    stack.push_async_callback(people.close)
    ctx.state["people"] = people
    related = RelatedMovies(service_client("recommendations", local_apps=ctx.shared.local_apps))
    stack.push_async_callback(related.close)
    ctx.state["related"] = related
    own = ctx.settings
    assert isinstance(own, MoviesSettings)
    # In-process, list pages and list counts get bounded stores of their own; Redis bounds
    # itself (maxmemory).
    in_process = isinstance(ctx.kv, MemoryKeyValueStore)
    pages = MemoryKeyValueStore(max_entries=own.list_cache_entries) if in_process else None
    counts = MemoryKeyValueStore(max_entries=own.list_count_entries) if in_process else None
    lists = ListPageCache(ctx.kv, ttl_seconds=own.details_cache_seconds, pages=pages, counts=counts)
    ctx.state["list_cache"] = lists
    ctx.state["catalog_reads"] = CatalogReads(ctx.db.reads)
    ctx.state["movie_cache"] = MovieCache(
        ctx.kv, ttl_seconds=own.details_cache_seconds, lists=lists
    )
    ctx.bus.subscribe(
        Subscription(
            group=f"{SERVICE}.people-index",
            event_types=frozenset({METADATA_CREDITS_CHANGED}),
            handler=ctx.inbox.handler(
                "people-index", functools.partial(on_credits_changed, lists=lists)
            ),
        )
    )
    cache: MovieCache = ctx.state["movie_cache"]

    ctx.bus.subscribe(
        Subscription(
            group=f"{SERVICE}.ratings",
            event_types=frozenset({REVIEWS_MOVIE_RATINGS_CHANGED}),
            # Each event carries the movie's whole totals: in a batch, the newest per movie wins.
            handler=ctx.inbox.batch_handler(
                "ratings",
                functools.partial(on_movie_ratings, outbox=ctx.outbox, cache=cache),
                latest_wins=lambda e: e.payload.get("movie_id"),
            ),
        )
    )
    ctx.bus.subscribe(
        Subscription(
            group=f"{SERVICE}.trending-reviews",
            event_types=frozenset({REVIEWS_RATING_CHANGED, REVIEWS_REVIEW_WRITTEN}),
            handler=ctx.inbox.batch_handler(
                "trending-reviews", functools.partial(on_review_activity, lists=lists)
            ),
        )
    )
    ctx.bus.subscribe(
        Subscription(
            group=f"{SERVICE}.keyword-vocabulary",
            event_types=frozenset({METADATA_KEYWORD_CHANGED}),
            handler=ctx.inbox.handler("keyword-vocabulary", on_keyword_changed),
        )
    )
    ctx.bus.subscribe(
        Subscription(
            group=f"{SERVICE}.trending-activity",
            event_types=frozenset({USERS_LIST_CHANGED}),
            handler=ctx.inbox.handler(
                "trending-activity", functools.partial(on_list_changed, lists=lists)
            ),
        )
    )


async def maintain(ctx: ServiceContext) -> None:
    async with ctx.db.unit_of_work() as session:
        await service.prune_activity(session)
        lists: ListPageCache = ctx.state["list_cache"]
        lists.renew_after_commit(session, trending_only=True)


DEFINITION = ServiceDefinition(
    name=SERVICE,
    title="Movies",
    description="The catalog's movies: details, discover, popular and top rated, lookups.",
    metadata=Base.metadata,
    settings_factory=MoviesSettings,
    routers=[movies_router, discover_router, find_router, trending_router],
    setup=setup,
    maintenance=maintain,
)


def create_app(
    settings: PlatformSettings | None = None,
    *,
    shared: SharedRuntime | None = None,
    own: MoviesSettings | None = None,
) -> FastAPI:
    return build_service_app(DEFINITION, settings, shared=shared, own=own)
