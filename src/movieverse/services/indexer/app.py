"""The indexer's composition: the writable search index, its consumers, the reindex runner."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AsyncExitStack

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from movieverse.platform.assembly import (
    ServiceContext,
    ServiceDefinition,
    SharedRuntime,
    add_readiness_probe,
    build_service_app,
)
from movieverse.platform.events.bus import Subscription
from movieverse.platform.events.envelope import Event
from movieverse.platform.search import open_search_index
from movieverse.platform.search.port import SearchIndex
from movieverse.platform.settings import PlatformSettings
from movieverse.services.indexer import service
from movieverse.services.indexer.api import router
from movieverse.services.indexer.events import MOVIE_EVENTS, PERSON_EVENTS, REVIEW_EVENTS
from movieverse.services.indexer.models import SERVICE, Base
from movieverse.services.indexer.settings import IndexerSettings
from movieverse.services.indexer.uncommitted import UncommittedIndexWrites


def _by_key(event: Event) -> str:
    return event.key


async def setup(ctx: ServiceContext, stack: AsyncExitStack) -> None:
    own = ctx.settings
    assert isinstance(own, IndexerSettings)
    index = await open_search_index(ctx.platform, writable=ctx.shared.consume)
    stack.push_async_callback(index.close)
    ctx.state["search_index"] = index
    add_readiness_probe(ctx, "search_index", index.ping)
    vectors = service.Vectors(enabled=ctx.platform.semantic_search)
    # The consumers' index writes not committed yet: a reindex waits for them before it reads.
    uncommitted = UncommittedIndexWrites()
    runner = service.JobRunner(ctx.db, index, vectors, uncommitted)
    ctx.state["jobs"] = runner
    stack.push_async_callback(runner.close)

    async def movies(session: AsyncSession, events: Sequence[Event]) -> None:
        await service.apply_movie_events(
            session, index=index, events=events, vectors=vectors, uncommitted=uncommitted
        )

    async def people(session: AsyncSession, events: Sequence[Event]) -> None:
        await service.apply_person_events(
            session, index=index, events=events, uncommitted=uncommitted
        )

    async def reviews(session: AsyncSession, events: Sequence[Event]) -> None:
        await service.apply_review_events(
            session, index=index, events=events, uncommitted=uncommitted
        )

    # Movie and person events carry the whole document, keyed by its id: in a batch only the
    # last of each counts. Review events are keyed by movie, and a hide must follow its write.
    ctx.bus.subscribe(
        Subscription(
            group=f"{SERVICE}.movies",
            event_types=MOVIE_EVENTS,
            handler=ctx.inbox.batch_handler("movies", movies, latest_wins=_by_key),
        )
    )
    ctx.bus.subscribe(
        Subscription(
            group=f"{SERVICE}.people",
            event_types=PERSON_EVENTS,
            handler=ctx.inbox.batch_handler("people", people, latest_wins=_by_key),
        )
    )
    ctx.bus.subscribe(
        Subscription(
            group=f"{SERVICE}.reviews",
            event_types=REVIEW_EVENTS,
            handler=ctx.inbox.batch_handler("reviews", reviews),
        )
    )
    if ctx.shared.consume:
        await _start_jobs(ctx, index, runner, own)


async def _start_jobs(
    ctx: ServiceContext, index: SearchIndex, runner: service.JobRunner, own: IndexerSettings
) -> None:
    """Resume a job a stopped process left; else rebuild indexes that are missing or outdated."""
    await runner.resume()
    stale = (await index.stats()).stale
    if runner.busy or not stale or not own.rebuild_stale_on_start:
        return
    async with ctx.db.unit_of_work() as session:
        job = await service.request_reindex(
            session, kinds=service.parse_kinds(stale), requested_by=None
        )
        job_id = job.id
    runner.start(job_id)


DEFINITION = ServiceDefinition(
    name=SERVICE,
    title="Indexer",
    description="Keeps the search indexes in step with movies, people and reviews; reindex jobs.",
    metadata=Base.metadata,
    settings_factory=IndexerSettings,
    routers=[router],
    setup=setup,
)


def create_app(
    settings: PlatformSettings | None = None,
    *,
    shared: SharedRuntime | None = None,
    own: IndexerSettings | None = None,
) -> FastAPI:
    return build_service_app(DEFINITION, settings, shared=shared, own=own)
