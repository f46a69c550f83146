"""Users' composition: consumers registered, app built."""

from __future__ import annotations

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
from movieverse.platform.catalog import Catalog
from movieverse.platform.erasure import ErasureLedger, erasure_ledger
from movieverse.platform.events.bus import Subscription
from movieverse.platform.events.envelope import Event
from movieverse.platform.http import service_client
from movieverse.platform.settings import PlatformSettings
from movieverse.services.users import service
from movieverse.services.users.api import router
from movieverse.services.users.cache import ProfileCache
from movieverse.services.users.events import AUTH_USER_REGISTERED, AccountRegistered
from movieverse.services.users.models import SERVICE, Base, Tombstone
from movieverse.services.users.settings import UsersSettings


async def on_account_registered(session: AsyncSession, event: Event) -> None:
    payload = AccountRegistered.model_validate(event.payload)
    await service.create_profile_for_account(
        session, user_id=payload.user_id, username=payload.username
    )


def _erasures(ctx: ServiceContext, stack: AsyncExitStack) -> ErasureLedger:
    """DELETE /users/me erases at once and leaves a tombstone; this sweeps once more later."""

    async def sweep(session: AsyncSession, user_id: UUID) -> None:
        await service.sweep_deleted_account(session, user_id=user_id, outbox=ctx.outbox)

    return erasure_ledger(
        ctx,
        stack,
        table=Tombstone.__table__,  # type: ignore[arg-type]
        erase=sweep,
        erased_column="deleted_at",
    )


def _movie_path(movie_id: int) -> str:
    """What this service reads of the movies API: a movie's page answers 200, or 404."""
    return f"/movies/{movie_id}"


async def setup(ctx: ServiceContext, stack: AsyncExitStack) -> None:
    own = ctx.settings
    assert isinstance(own, UsersSettings)
    ctx.state["profile_cache"] = ProfileCache(ctx.kv, ttl_seconds=own.profile_cache_seconds)
    catalog = Catalog(
        service_client("movies", local_apps=ctx.shared.local_apps), movie_path=_movie_path
    )
    stack.push_async_callback(catalog.close)
    ctx.state["catalog"] = catalog
    _erasures(ctx, stack)
    ctx.bus.subscribe(
        Subscription(
            group=f"{SERVICE}.create-profiles",
            event_types=frozenset({AUTH_USER_REGISTERED}),
            handler=ctx.inbox.handler("create-profiles", on_account_registered),
        )
    )


DEFINITION = ServiceDefinition(
    name=SERVICE,
    title="Users",
    description="Profiles, preferences, and watchlist / favourites / seen lists.",
    metadata=Base.metadata,
    settings_factory=UsersSettings,
    routers=[router],
    setup=setup,
)


def create_app(
    settings: PlatformSettings | None = None,
    *,
    shared: SharedRuntime | None = None,
    own: UsersSettings | None = None,
) -> FastAPI:
    return build_service_app(DEFINITION, settings, shared=shared, own=own)
