"""The recommendations service's composition: its consumers and its client of the ai service."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AsyncExitStack

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from movieverse.platform.events.bus import Subscription
from movieverse.platform.events.envelope import Event
from movieverse.platform.http import service_client
from movieverse.platform.service import (
    ServiceContext,
    ServiceDefinition,
    SharedRuntime,
    build_service_app,
)
from movieverse.platform.settings import PlatformSettings
from movieverse.services.recommendations import service
from movieverse.services.recommendations.api import movies_router, router
from movieverse.services.recommendations.events import (
    ACCOUNT_EVENTS,
    AI_MODEL_PUBLISHED,
    REVIEWS_RATING_CHANGED,
    USERS_LIST_CHANGED,
)
from movieverse.services.recommendations.models import SERVICE, Base
from movieverse.services.recommendations.settings import RecommendationsSettings


async def setup(ctx: ServiceContext, stack: AsyncExitStack) -> None:
    own = ctx.settings
    assert isinstance(own, RecommendationsSettings)
    ai = service_client("ai", local_apps=ctx.shared.local_apps)
    ctx.state["ai"] = ai
    if ai is not None:
        stack.push_async_callback(ai.close)

    async def accounts(session: AsyncSession, event: Event) -> None:
        await service.apply_account_event(session, event=event, kv=ctx.kv)

    async def lists(session: AsyncSession, event: Event) -> None:
        await service.apply_list_event(session, event=event, kv=ctx.kv)

    async def ratings(_session: AsyncSession, events: Sequence[Event]) -> None:
        await service.note_ratings(ctx.kv, events=events, ttl=own.cache_seconds)

    async def models(_session: AsyncSession, event: Event) -> None:
        await service.note_model(ctx.kv, event=event)

    consumers = {
        "accounts": (ACCOUNT_EVENTS, ctx.inbox.handler("accounts", accounts)),
        "lists": (frozenset({USERS_LIST_CHANGED}), ctx.inbox.handler("lists", lists)),
        "ratings": (
            frozenset({REVIEWS_RATING_CHANGED}),
            ctx.inbox.batch_handler("ratings", ratings),
        ),
        "models": (frozenset({AI_MODEL_PUBLISHED}), ctx.inbox.handler("models", models)),
    }
    for name, (types, handler) in consumers.items():
        ctx.bus.subscribe(
            Subscription(group=f"{SERVICE}.{name}", event_types=types, handler=handler)
        )


DEFINITION = ServiceDefinition(
    name=SERVICE,
    title="Recommendations",
    description="Personal recommendations, similar movies, with reasons; cached per user.",
    metadata=Base.metadata,
    settings_factory=RecommendationsSettings,
    routers=[router, movies_router],
    setup=setup,
)


def create_app(
    settings: PlatformSettings | None = None,
    *,
    shared: SharedRuntime | None = None,
    own: RecommendationsSettings | None = None,
) -> FastAPI:
    return build_service_app(DEFINITION, settings, shared=shared, own=own)
