"""The recommendations service's composition root: its client of the ai service, the single
flights of page computations, the refresher, and its consumers."""

from __future__ import annotations

import logging
from contextlib import AsyncExitStack
from dataclasses import dataclass
from uuid import UUID

from movieverse.platform.assembly import ServiceContext
from movieverse.platform.events.consumers import subscribe_consumers
from movieverse.platform.http import ServiceClient, service_client
from movieverse.platform.service_tokens import ServiceCredential
from movieverse.services.recommendations import service
from movieverse.services.recommendations.consumers import RecommendationsHandlers, consumers
from movieverse.services.recommendations.flights import SingleFlight
from movieverse.services.recommendations.models import SERVICE
from movieverse.services.recommendations.refresh import FIRST_PAGE, Refresher
from movieverse.services.recommendations.service import PersonalPage
from movieverse.services.recommendations.settings import RecommendationsSettings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RecommendationsRuntime:
    settings: RecommendationsSettings
    ai: ServiceClient | None
    flights: SingleFlight[PersonalPage]
    refresher: Refresher | None


async def bootstrap(
    ctx: ServiceContext, own: RecommendationsSettings, stack: AsyncExitStack
) -> RecommendationsRuntime:
    ai = service_client("ai", local_apps=ctx.shared.local_apps)
    if ai is not None:
        stack.push_async_callback(ai.close)
    flights: SingleFlight[PersonalPage] = SingleFlight()
    stack.push_async_callback(flights.close)
    refresher = _refresher(ctx, own, ai, flights)
    if refresher is not None:
        stack.push_async_callback(refresher.close)
    handlers = RecommendationsHandlers(
        kv=ctx.kv, cache_seconds=own.cache_seconds, refresher=refresher
    )
    subscribe_consumers(ctx.name, ctx.bus, ctx.inbox, consumers(handlers))
    return RecommendationsRuntime(settings=own, ai=ai, flights=flights, refresher=refresher)


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
