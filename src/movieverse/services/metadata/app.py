"""Metadata's composition: the document store made, the genre vocabulary seeded, app built."""

from __future__ import annotations

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
from movieverse.platform.docs import create_document_store
from movieverse.platform.events.bus import Subscription
from movieverse.platform.events.envelope import Event
from movieverse.platform.settings import PlatformSettings
from movieverse.services.metadata import service
from movieverse.services.metadata.api import genres_router, metadata_router, people_router
from movieverse.services.metadata.events import (
    AI_REVIEW_SENTIMENT_SCORED,
    MOVIES_MOVIE_DELETED,
    REVIEW_ANALYSIS_EVENTS,
    REVIEWS_REVIEW_REMOVED,
    MovieDeleted,
    ReviewRemoved,
    ReviewRestored,
    ReviewSentimentScored,
)
from movieverse.services.metadata.models import SERVICE, Base, documents
from movieverse.services.metadata.settings import MetadataSettings


async def setup(ctx: ServiceContext, stack: AsyncExitStack) -> None:
    own = ctx.settings
    assert isinstance(own, MetadataSettings)
    store = create_document_store(
        own.documents_url, service=SERVICE, table=documents, database=ctx.db
    )
    stack.push_async_callback(store.close)
    ctx.state["documents"] = store
    add_readiness_probe(ctx, "documents", store.ping)
    # Look before writing: a start with the vocabulary in place then takes no write lock.
    async with ctx.db.unit_of_work(write=False) as session:
        stale = await service.genres_to_seed(session, store=store)
    if stale:
        async with ctx.db.unit_of_work() as session:
            await service.seed_genres(session, store=store, genres=stale)

    async def on_movie_deleted(session: AsyncSession, event: Event) -> None:
        deleted = MovieDeleted.model_validate(event.payload)
        await service.forget_movie(
            session, store=store, outbox=ctx.outbox, movie_id=deleted.movie_id
        )

    ctx.bus.subscribe(
        Subscription(
            group=f"{SERVICE}.deleted-movies",
            event_types=frozenset({MOVIES_MOVIE_DELETED}),
            handler=ctx.inbox.handler("deleted-movies", on_movie_deleted),
        )
    )

    async def on_review_analysis_event(session: AsyncSession, event: Event) -> None:
        if event.type == AI_REVIEW_SENTIMENT_SCORED:
            score = ReviewSentimentScored.model_validate(event.payload)
            await service.record_review_sentiment(session, store=store, score=score)
        elif event.type == REVIEWS_REVIEW_REMOVED:
            removed = ReviewRemoved.model_validate(event.payload)
            await service.set_review_visibility(
                session, store=store, review_id=removed.review_id,
                movie_id=removed.movie_id, visible=False,
            )  # fmt: skip
        else:
            restored = ReviewRestored.model_validate(event.payload)
            await service.set_review_visibility(
                session, store=store, review_id=restored.review_id,
                movie_id=restored.movie_id, visible=True,
            )  # fmt: skip

    # One group for scores and visibility: in the embedded shape its deliveries take turns, and
    # the inbox makes each event count once.
    ctx.bus.subscribe(
        Subscription(
            group=f"{SERVICE}.review-analyses",
            event_types=REVIEW_ANALYSIS_EVENTS,
            handler=ctx.inbox.handler("review-analyses", on_review_analysis_event),
        )
    )


DEFINITION = ServiceDefinition(
    name=SERVICE,
    title="Metadata",
    description="Genres, people, credits, keywords, movie analyses and review sentiment.",
    metadata=Base.metadata,
    settings_factory=MetadataSettings,
    routers=[genres_router, people_router, metadata_router],
    setup=setup,
)


def create_app(
    settings: PlatformSettings | None = None,
    *,
    shared: SharedRuntime | None = None,
    own: MetadataSettings | None = None,
) -> FastAPI:
    return build_service_app(DEFINITION, settings, shared=shared, own=own)
