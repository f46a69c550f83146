"""Auth's composition root: the password hasher, token issuer and stores, the login throttle;
its consumer."""

from __future__ import annotations

import secrets
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import timedelta

from movieverse.platform.assembly import ServiceContext
from movieverse.platform.cache import RedisKeyValueStore
from movieverse.platform.events.consumers import subscribe_consumers
from movieverse.platform.security import PasswordHasher
from movieverse.services.auth import service
from movieverse.services.auth.consumers import AuthHandlers, consumers
from movieverse.services.auth.repository import SqlRefreshTokenStore
from movieverse.services.auth.settings import AuthSettings
from movieverse.services.auth.throttle import LoginThrottle
from movieverse.services.auth.tokens import (
    AccessTokenIssuer,
    RedisRefreshTokenStore,
    RefreshTokenStore,
)


@dataclass(frozen=True)
class AuthRuntime:
    settings: AuthSettings
    components: service.AuthComponents


async def bootstrap(ctx: ServiceContext, own: AuthSettings, stack: AsyncExitStack) -> AuthRuntime:
    components = build_components(ctx, own)
    subscribe_consumers(ctx.name, ctx.bus, ctx.inbox, consumers(AuthHandlers(components)))
    return AuthRuntime(settings=own, components=components)


def build_components(ctx: ServiceContext, own: AuthSettings) -> service.AuthComponents:
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
