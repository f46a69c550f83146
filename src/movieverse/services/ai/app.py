"""The ai service's composition: its consumers, the model holder, the training runner."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Coroutine, Hashable, Sequence
from contextlib import AsyncExitStack
from typing import Any

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from movieverse.ml.artifacts import ModelStore
from movieverse.platform.assembly import (
    ServiceContext,
    ServiceDefinition,
    SharedRuntime,
    add_readiness_warning,
    build_service_app,
)
from movieverse.platform.events.bus import Subscription
from movieverse.platform.events.envelope import Event
from movieverse.platform.settings import PlatformSettings
from movieverse.services.ai import service
from movieverse.services.ai.api import router
from movieverse.services.ai.events import (
    MOVIE_EVENTS,
    MOVIE_FIELDS,
    MOVIES_MOVIE_UPDATED,
    REVIEWS_RATING_CHANGED,
    REVIEWS_REVIEW_WRITTEN,
    USERS_USER_DELETED,
)
from movieverse.services.ai.jobs import TrainingRunner
from movieverse.services.ai.models import SERVICE, Base
from movieverse.services.ai.runtime import CatalogView, ModelHolder
from movieverse.services.ai.settings import AiSettings


def _by_key(event: Event) -> Hashable:
    return event.key


def _concerns_models(event: Event) -> bool:
    """False for a movie update that changed nothing the models read (a vote moved its count):
    passed over before any transaction, and before a batch keeps only each movie's latest
    event -- so a title change followed by a vote in the same batch is still applied."""
    changed = event.payload.get("changed")
    return (
        event.type != MOVIES_MOVIE_UPDATED
        or not isinstance(changed, list)
        or not MOVIE_FIELDS.isdisjoint(changed)
    )


def models_dir(ctx: ServiceContext) -> ModelStore:
    own = ctx.settings
    assert isinstance(own, AiSettings)
    return ModelStore(own.models_dir or ctx.platform.var_dir / "models")


def _background(stack: AsyncExitStack, work: Coroutine[Any, Any, None], name: str) -> None:
    task = asyncio.create_task(work, name=name)

    async def stop() -> None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    stack.push_async_callback(stop)


async def setup(ctx: ServiceContext, stack: AsyncExitStack) -> None:
    own = ctx.settings
    assert isinstance(own, AiSettings)
    store = models_dir(ctx)
    holder = ModelHolder(store)
    catalog = CatalogView(ctx.db)
    runner = TrainingRunner(
        ctx.db,
        store=store,
        holder=holder,
        outbox=ctx.outbox,
        min_interactions=own.min_interactions,
        keep_versions=own.keep_versions,
    )
    ctx.state.update(models=holder, catalog=catalog, training=runner)
    stack.push_async_callback(runner.close)
    add_readiness_warning(ctx, "model", holder.warning)
    await holder.refresh()

    async def ratings(session: AsyncSession, events: Sequence[Event]) -> None:
        await service.apply_rating_events(session, events=events)

    async def movies(session: AsyncSession, events: Sequence[Event]) -> None:
        await service.apply_movie_events(session, events=events, catalog=catalog)

    async def users(session: AsyncSession, events: Sequence[Event]) -> None:
        await service.forget_users(session, events=events)

    async def reviews(session: AsyncSession, events: Sequence[Event]) -> None:
        await service.score_review_events(session, events=events, outbox=ctx.outbox)

    consumers = {
        "ratings": (
            frozenset({REVIEWS_RATING_CHANGED}),
            ctx.inbox.batch_handler("ratings", ratings),
        ),
        "movies": (
            MOVIE_EVENTS,
            ctx.inbox.batch_handler("movies", movies, latest_wins=_by_key),
        ),
        "users": (frozenset({USERS_USER_DELETED}), ctx.inbox.batch_handler("users", users)),
        "reviews": (
            frozenset({REVIEWS_REVIEW_WRITTEN}),
            ctx.inbox.batch_handler("reviews", reviews),
        ),
    }
    filters = {"movies": _concerns_models}
    for name, (types, handler) in consumers.items():
        ctx.bus.subscribe(
            Subscription(
                group=f"{SERVICE}.{name}",
                event_types=types,
                handler=handler,
                accepts=filters.get(name),
            )
        )

    # Every process serving models follows the current one; only consuming processes train.
    _background(stack, holder.watch(own.reload_seconds), "ai-model-watch")
    if ctx.shared.consume:
        await runner.resume()
        if own.train_on_start and holder.current is None:

            async def first_model() -> None:
                await asyncio.sleep(own.train_on_start_delay_seconds)
                if holder.current is None:
                    await runner.train_if_due(kind=own.model_kind, trigger="start")

            _background(stack, first_model(), "ai-first-model")
        if own.train_every_seconds > 0:
            _background(
                stack,
                runner.schedule(every=own.train_every_seconds, kind=own.model_kind),
                "ai-train-schedule",
            )


DEFINITION = ServiceDefinition(
    name=SERVICE,
    title="AI",
    description="MovieVerse-AI: interactions, model training and versions, scoring, sentiment.",
    metadata=Base.metadata,
    settings_factory=AiSettings,
    routers=[router],
    setup=setup,
)


def create_app(
    settings: PlatformSettings | None = None,
    *,
    shared: SharedRuntime | None = None,
    own: AiSettings | None = None,
) -> FastAPI:
    return build_service_app(DEFINITION, settings, shared=shared, own=own)
