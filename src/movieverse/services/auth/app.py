"""Auth's composition: resources made in the lifespan, consumers registered, app built."""

from __future__ import annotations

import secrets
from contextlib import AsyncExitStack
from datetime import timedelta

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from movieverse.platform.assembly import (
    ServiceContext,
    ServiceDefinition,
    SharedRuntime,
    build_service_app,
)
from movieverse.platform.cache import RedisKeyValueStore
from movieverse.platform.events.bus import Subscription
from movieverse.platform.events.envelope import Event
from movieverse.platform.security import PasswordHasher
from movieverse.platform.settings import PlatformSettings
from movieverse.services.auth import service
from movieverse.services.auth.api import router
from movieverse.services.auth.events import USERS_USER_DELETED, UserDeletedPayload
from movieverse.services.auth.models import SERVICE, Base
from movieverse.services.auth.settings import AuthSettings
from movieverse.services.auth.throttle import LoginThrottle
from movieverse.services.auth.tokens import (
    AccessTokenIssuer,
    RedisRefreshTokenStore,
    RefreshTokenStore,
    SqlRefreshTokenStore,
)


def build_components(ctx: ServiceContext) -> service.AuthComponents:
    own = ctx.settings
    assert isinstance(own, AuthSettings)
    hasher = PasswordHasher(
        time_cost=own.argon2_time_cost,
        memory_kib=own.argon2_memory_kib,
        parallelism=own.argon2_parallelism,
    )
    tokens: RefreshTokenStore
    if isinstance(ctx.kv, RedisKeyValueStore):
        # The distributed shape keeps refresh tokens in Redis, expiring with them.
        tokens = RedisRefreshTokenStore(
            ctx.kv.client,
            prefix=ctx.kv.key(""),
            max_ttl_seconds=own.refresh_token_ttl_seconds,
        )
    else:
        tokens = SqlRefreshTokenStore()
    return service.AuthComponents(
        hasher=hasher,
        issuer=AccessTokenIssuer.from_settings(ctx.platform, own),
        tokens=tokens,
        throttle=LoginThrottle(
            ctx.kv,
            account_threshold=own.login_account_threshold,
            ip_threshold=own.login_ip_threshold,
            window_seconds=own.login_window_seconds,
            first_delay_seconds=own.login_first_delay_seconds,
            max_delay_seconds=own.login_max_delay_seconds,
        ),
        outbox=ctx.outbox,
        refresh_ttl=timedelta(seconds=own.refresh_token_ttl_seconds),
        revocations=ctx.shared.revocations,
        username_quarantine=timedelta(days=own.username_quarantine_days),
        decoy_hash=hasher.hash_sync(secrets.token_urlsafe(16)),
    )


async def setup(ctx: ServiceContext, stack: AsyncExitStack) -> None:
    components = build_components(ctx)
    ctx.state["auth"] = components

    async def on_user_deleted(session: AsyncSession, event: Event) -> None:
        payload = UserDeletedPayload.model_validate(event.payload)
        await service.erase_account(session, components, user_id=payload.user_id)

    ctx.bus.subscribe(
        Subscription(
            group=f"{SERVICE}.erase-deleted-users",
            event_types=frozenset({USERS_USER_DELETED}),
            handler=ctx.inbox.handler("erase-deleted-users", on_user_deleted),
        )
    )


DEFINITION = ServiceDefinition(
    name=SERVICE,
    title="Auth",
    description="Accounts, sign-in, sessions and tokens.",
    metadata=Base.metadata,
    settings_factory=AuthSettings,
    routers=[router],
    setup=setup,
)


def create_app(
    settings: PlatformSettings | None = None,
    *,
    shared: SharedRuntime | None = None,
    own: AuthSettings | None = None,
) -> FastAPI:
    return build_service_app(DEFINITION, settings, shared=shared, own=own)
