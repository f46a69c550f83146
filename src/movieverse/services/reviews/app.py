"""Reviews' composition: the catalog client, consumers registered, app built."""

from __future__ import annotations

from contextlib import AsyncExitStack

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from movieverse.platform.assembly import (
    ServiceContext,
    ServiceDefinition,
    SharedRuntime,
    build_service_app,
)
from movieverse.platform.catalog import Catalog
from movieverse.platform.erasure import erasure_ledger
from movieverse.platform.events.bus import Subscription
from movieverse.platform.events.envelope import Event
from movieverse.platform.http import service_client
from movieverse.platform.settings import PlatformSettings
from movieverse.services.reviews import service
from movieverse.services.reviews.api import movies_router, reviews_router, users_router
from movieverse.services.reviews.events import (
    MOVIES_MOVIE_DELETED,
    USERS_USER_DELETED,
    MovieDeleted,
    UserDeleted,
)
from movieverse.services.reviews.models import SERVICE, Base, erased_users
from movieverse.services.reviews.settings import ReviewsSettings


def _movie_path(movie_id: int) -> str:
    """What this service reads of the movies API: a movie's page answers 200, or 404."""
    return f"/movies/{movie_id}"


async def setup(ctx: ServiceContext, stack: AsyncExitStack) -> None:
    catalog = Catalog(
        service_client("movies", local_apps=ctx.shared.local_apps), movie_path=_movie_path
    )
    stack.push_async_callback(catalog.close)
    ctx.state["catalog"] = catalog

    # Erases a deleted user's data on the event, and once more after the grace period.
    erasures = erasure_ledger(
        ctx,
        stack,
        table=erased_users,
        erase=lambda session, user: service.erase_user(session, outbox=ctx.outbox, user_id=user),
    )

    async def on_user_deleted(session: AsyncSession, event: Event) -> None:
        await erasures.erase(session, UserDeleted.model_validate(event.payload).user_id)

    async def on_movie_deleted(session: AsyncSession, event: Event) -> None:
        # Lists of a deleted movie answer 404 at once, not after the catalog answer expires.
        catalog.forget(MovieDeleted.model_validate(event.payload).movie_id)

    ctx.bus.subscribe(
        Subscription(
            group=f"{SERVICE}.erase-deleted-users",
            event_types=frozenset({USERS_USER_DELETED}),
            handler=ctx.inbox.handler("erase-deleted-users", on_user_deleted),
        )
    )
    ctx.bus.subscribe(
        Subscription(
            group=f"{SERVICE}.deleted-movies",
            event_types=frozenset({MOVIES_MOVIE_DELETED}),
            handler=ctx.inbox.handler("deleted-movies", on_movie_deleted),
        )
    )


DEFINITION = ServiceDefinition(
    name=SERVICE,
    title="Reviews",
    description="Ratings, reviews, likes, comments, and their moderation.",
    metadata=Base.metadata,
    settings_factory=ReviewsSettings,
    routers=[movies_router, users_router, reviews_router],
    setup=setup,
)


def create_app(
    settings: PlatformSettings | None = None,
    *,
    shared: SharedRuntime | None = None,
    own: ReviewsSettings | None = None,
) -> FastAPI:
    return build_service_app(DEFINITION, settings, shared=shared, own=own)
