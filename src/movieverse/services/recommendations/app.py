"""The recommendations service's composition: its consumers and its client of the ai service."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from contextlib import AsyncExitStack
from uuid import UUID

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from movieverse.platform.assembly import (
    ServiceContext,
    ServiceDefinition,
    SharedRuntime,
    build_service_app,
)
from movieverse.platform.db import after_commit
from movieverse.platform.events.bus import Subscription
from movieverse.platform.events.envelope import Event
from movieverse.platform.http import ServiceClient, service_client
from movieverse.platform.service_tokens import ServiceCredential
from movieverse.platform.settings import PlatformSettings
from movieverse.services.recommendations import service
from movieverse.services.recommendations.api import movies_router, router
from movieverse.services.recommendations.events import (
    ACCOUNT_EVENTS,
    AI_MODEL_PUBLISHED,
    REVIEWS_RATING_CHANGED,
    USERS_LIST_CHANGED,
    USERS_PREFERENCES_CHANGED,
    ListChanged,
    PreferencesChanged,
)
from movieverse.services.recommendations.flights import SingleFlight
from movieverse.services.recommendations.models import SERVICE, Base
from movieverse.services.recommendations.refresh import FIRST_PAGE, Refresher
from movieverse.services.recommendations.service import PersonalPage
from movieverse.services.recommendations.settings import RecommendationsSettings

log = logging.getLogger(__name__)


def _refresher(
    ctx: ServiceContext,
    own: RecommendationsSettings,
    ai: ServiceClient | None,
    flights: SingleFlight[PersonalPage],
) -> Refresher | None:
    """None when nothing could be refreshed: no cache, no ai, or no credential to ask ai
    with (platform/service_tokens.py), which leaves each change's next request to miss."""
    credential = ServiceCredential(name=SERVICE, settings=ctx.platform)
    if not own.refresh_after_changes or own.cache_seconds <= 0 or ai is None:
        return None
    if not credential.available:
        log.warning(
            "recommendations are not refreshed after changes: set MOVIEVERSE_SERVICE_TOKEN_FILE"
            " (movieverse auth service-token recommendations) under %s tokens",
            ctx.platform.jwt_algorithm,
        )
        return None

    async def refresh_one(user_id: UUID) -> bool:
        bearer = credential.bearer()
        if bearer is None:
            return True
        page = await service.personal_page(
            db=ctx.db,
            kv=ctx.kv,
            ai=ai,
            authorization=bearer,
            user_id=user_id,
            query=FIRST_PAGE,
            must_exist=False,
            cache_seconds=own.cache_seconds,
            flights=flights,
        )
        return page.in_cache or not page.behind

    return Refresher(refresh=refresh_one)


async def setup(ctx: ServiceContext, stack: AsyncExitStack) -> None:
    own = ctx.settings
    assert isinstance(own, RecommendationsSettings)
    ai = service_client("ai", local_apps=ctx.shared.local_apps)
    ctx.state["ai"] = ai
    if ai is not None:
        stack.push_async_callback(ai.close)
    flights: SingleFlight[PersonalPage] = SingleFlight()
    ctx.state["flights"] = flights
    stack.push_async_callback(flights.close)
    refresher = _refresher(ctx, own, ai, flights)
    ctx.state["refresher"] = refresher
    if refresher is not None:
        stack.push_async_callback(refresher.close)

    def refresh_after_commit(session: AsyncSession, user_id: UUID) -> None:
        if refresher is None:
            return

        async def request() -> None:
            refresher.request([user_id])

        after_commit(session, request)

    async def accounts(session: AsyncSession, event: Event) -> None:
        await service.apply_account_event(session, event=event, kv=ctx.kv)
        if event.type == USERS_PREFERENCES_CHANGED:
            refresh_after_commit(session, PreferencesChanged.model_validate(event.payload).user_id)

    async def lists(session: AsyncSession, event: Event) -> None:
        await service.apply_list_event(session, event=event, kv=ctx.kv, ttl=own.cache_seconds)
        refresh_after_commit(session, ListChanged.model_validate(event.payload).user_id)

    async def ratings(_session: AsyncSession, events: Sequence[Event]) -> None:
        changed = await service.note_ratings(ctx.kv, events=events, ttl=own.cache_seconds)
        if refresher is not None:
            refresher.request(changed)

    async def models(_session: AsyncSession, event: Event) -> None:
        await service.note_model(ctx.kv, event=event)
        if refresher is not None:
            refresher.request_recent_visitors()

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
