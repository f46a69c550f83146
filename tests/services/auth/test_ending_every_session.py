"""Logout-all and a password change end every session, but name in their revocation only the
sessions that can still hold a valid access token.

The revocation (``auth.session.revoked``, applied by every process) once named every session the
account ever had that was not logged out: 100,000 sign-ins made an event of 100,000 ids. A
session that issued nothing within an access token's lifetime has no valid access token left;
ending it in the token store is all it needs.

Old sessions are made with a token store on a clock set back two hours (the stores take a clock,
as MemoryKeyValueStore does), so nothing waits for time to pass.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import jwt
import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from movieverse.gateway.app import Gateway
from movieverse.platform.assembly import ServiceContext, runtime_of
from movieverse.platform.cache import RedisKeyValueStore
from movieverse.platform.db import utcnow
from movieverse.services.auth import service
from movieverse.services.auth.bootstrap import AuthRuntime
from movieverse.services.auth.models import outbox as auth_outbox
from movieverse.services.auth.repository import SqlRefreshTokenStore
from movieverse.services.auth.service import AuthComponents
from movieverse.services.auth.settings import AuthSettings
from movieverse.services.auth.tokens import (
    ConsumeResult,
    RedisRefreshTokenStore,
    RefreshTokenStore,
)
from tests.support import (
    PASSWORD,
    Account,
    Stack,
    eventually,
    running_gateway,
    server_url,
    signed_up,
    truncate_all,
)

pytestmark = pytest.mark.services("auth", "users")

NEW_PASSWORD = "a-brand-new-secret-99"
REFRESH_REFUSED = "The refresh token is invalid, expired or revoked"


class MovableClock:
    """Now, give or take an offset the test sets."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def __call__(self) -> datetime:
        return utcnow() + self.offset


@pytest.fixture(params=["embedded", "postgres", "servers"])
async def gateway(
    request: pytest.FixtureRequest, tmp_path: Path, postgres_database: str | None
) -> AsyncIterator[tuple[Gateway, httpx.AsyncClient]]:
    """SQLite with the SQL token store; PostgreSQL with the SQL token store (row locks, which
    SQLite does without); PostgreSQL with the Redis token store."""
    redis = None
    if request.param != "embedded":
        if postgres_database is None:
            pytest.skip("MOVIEVERSE_TEST_POSTGRES_URL is not set")
        await truncate_all(postgres_database)
    if request.param == "servers":
        redis = server_url("redis")
        if redis is None:
            pytest.skip("MOVIEVERSE_TEST_REDIS_URL is not set")
    url = None if request.param == "embedded" else postgres_database
    stack = Stack(request.param, database_url=url, redis_url=redis)
    async with running_gateway(stack.settings(tmp_path / "var")) as pair:
        yield pair


def _with_clock(gateway: Gateway, clock: MovableClock) -> tuple[ServiceContext, AuthComponents]:
    """The running auth service, its token store of the same kind as built in app.py but on
    ``clock``."""
    ctx = gateway.services["auth"].state.ctx
    auth: AuthComponents = ctx.runtime.components
    own: AuthSettings = ctx.runtime.settings
    tokens: RefreshTokenStore
    if isinstance(ctx.kv, RedisKeyValueStore):
        tokens = RedisRefreshTokenStore(
            ctx.kv.client,
            prefix=ctx.kv.key(""),
            max_ttl_seconds=own.refresh_token_ttl_seconds,
            clock=clock,
        )
    else:
        tokens = SqlRefreshTokenStore(clock=clock)
    auth = dataclasses.replace(auth, tokens=tokens)
    ctx.runtime = dataclasses.replace(runtime_of(ctx, AuthRuntime), components=auth)
    return ctx, auth


async def _start_session(
    ctx: ServiceContext, auth: AuthComponents, username: str, password: str = PASSWORD
) -> dict[str, Any]:
    """A login, through the service (the route runs these same steps)."""
    identifier = service.login_identifier(username)
    async with ctx.db.unit_of_work(write=False) as session:
        credentials = await service.credentials_for(session, identifier=identifier)
    verified = await service.verify_login(
        auth,
        identifier=identifier,
        credentials=credentials,
        password=password,
        client_ip="192.0.2.9",
    )
    async with ctx.db.unit_of_work() as session:
        pair = await service.start_session(session, auth, verified)
    return pair.model_dump()


def _sid(access_token: str) -> str:
    sid: str = jwt.decode(access_token, options={"verify_signature": False})["sid"]
    return sid


async def _revoked_events(ctx: ServiceContext) -> list[dict[str, Any]]:
    async with ctx.db.unit_of_work(write=False) as session:
        bodies = (
            (await session.execute(select(auth_outbox.c.body).order_by(auth_outbox.c.seq)))
            .scalars()
            .all()
        )
    events = [json.loads(body) for body in bodies]
    return [e["payload"] for e in events if e["type"] == "auth.session.revoked"]


async def _end_every_session(client: httpx.AsyncClient, account: Account, how: str) -> None:
    if how == "logout-all":
        response = await client.post("/auth/logout-all", headers=account.headers)
    else:
        response = await client.post(
            "/auth/password",
            headers=account.headers,
            json={"current_password": account.password, "new_password": NEW_PASSWORD},
        )
    assert response.status_code == 204, response.text


@pytest.mark.parametrize("how", ["logout-all", "password"])
async def test_only_sessions_with_a_live_access_token_are_named(
    gateway: tuple[Gateway, httpx.AsyncClient], how: str
) -> None:
    app, client = gateway
    clock = MovableClock()
    ctx, auth = _with_clock(app, clock)
    ana = await signed_up(client, f"ana_{how.replace('-', '_')}_many")
    clock.offset = -(auth.issuer.ttl + timedelta(hours=2))
    old = [await _start_session(ctx, auth, ana.username) for _ in range(3)]
    clock.offset = timedelta(0)
    recent = await _start_session(ctx, auth, ana.username)

    await _end_every_session(client, ana, how)

    [event] = await _revoked_events(ctx)
    assert event["reason"] == ("logout-all" if how == "logout-all" else "password-changed")
    assert event["session_ids"] == sorted([_sid(ana.access), _sid(recent["access_token"])])
    # Nor are the old sessions on this process's list (applied at once, after the commit).
    refused_here = ctx.shared.revocations.list.refusal
    user_id = UUID(ana.user_id)
    assert refused_here(user_id=user_id, session_id=_sid(recent["access_token"])) is not None
    for pair in old:
        assert refused_here(user_id=user_id, session_id=_sid(pair["access_token"])) is None
    # Every session ended in the token store, the old ones too: none refreshes again.
    for pair in [*old, recent]:
        again = await client.post("/auth/refresh", json={"refresh_token": pair["refresh_token"]})
        assert again.status_code == 401, again.text
        assert again.json()["detail"] == REFRESH_REFUSED


class HoldingTokenStore:
    """A token store that, once armed, holds the next token it issues until the test lets it
    go on: a refresh held between spending its token and issuing the new one."""

    def __init__(self, inner: RefreshTokenStore) -> None:
        self._inner = inner
        self.armed = False
        self.holding = asyncio.Event()
        self.go_on = asyncio.Event()

    async def start_family(
        self, session: AsyncSession, *, account_id: UUID, family_id: str
    ) -> None:
        await self._inner.start_family(session, account_id=account_id, family_id=family_id)

    async def issue(
        self,
        session: AsyncSession,
        *,
        account_id: UUID,
        family_id: str,
        token: str,
        expires_at: datetime,
    ) -> None:
        if self.armed:
            self.armed = False
            self.holding.set()
            await self.go_on.wait()
        await self._inner.issue(
            session, account_id=account_id, family_id=family_id, token=token, expires_at=expires_at
        )

    async def consume(self, session: AsyncSession, token: str) -> ConsumeResult:
        return await self._inner.consume(session, token)

    async def revoke_family(self, session: AsyncSession, family_id: str, *, reason: str) -> None:
        await self._inner.revoke_family(session, family_id, reason=reason)

    async def revoke_account(self, session: AsyncSession, account_id: UUID, *, reason: str) -> None:
        await self._inner.revoke_account(session, account_id, reason=reason)

    async def family_of(self, session: AsyncSession, token: str) -> str | None:
        return await self._inner.family_of(session, token)

    async def families_issued_since(
        self, session: AsyncSession, account_id: UUID, *, since: datetime
    ) -> list[str]:
        return await self._inner.families_issued_since(session, account_id, since=since)


async def _lock_waits(ctx: ServiceContext) -> int:
    async with ctx.db.unit_of_work(write=False) as session:
        found = await session.execute(
            text(
                "select count(*) from pg_stat_activity"
                " where datname = current_database() and wait_event_type = 'Lock'"
            )
        )
        return int(found.scalar_one())


async def test_a_refresh_under_way_when_every_session_ends_is_named(
    gateway: tuple[Gateway, httpx.AsyncClient],
) -> None:
    """A session that issued nothing lately is not named -- unless it refreshes while logout-all
    runs. Held between spending its token and issuing the new one, the refresh is either
    refused or named, whichever way the two overlap."""
    app, client = gateway
    clock = MovableClock()
    ctx, auth = _with_clock(app, clock)
    store = HoldingTokenStore(auth.tokens)
    auth = dataclasses.replace(auth, tokens=store)
    ctx.runtime = dataclasses.replace(runtime_of(ctx, AuthRuntime), components=auth)
    ana = await signed_up(client, "ana_refresh_overlap")
    clock.offset = -(auth.issuer.ttl + timedelta(hours=2))
    old = await _start_session(ctx, auth, ana.username)
    clock.offset = timedelta(0)

    store.armed = True
    refreshing = asyncio.create_task(
        client.post("/auth/refresh", json={"refresh_token": old["refresh_token"]})
    )
    await asyncio.wait_for(store.holding.wait(), timeout=60)  # guards a hang only
    ending = asyncio.create_task(_end_every_session(client, ana, "logout-all"))
    if ctx.db.dialect == "postgresql":
        # The SQL store keeps the session's row locked until the refresh commits, so logout-all
        # waits for it; the Redis store lets logout-all finish at once. (On SQLite logout-all
        # waits for the write lock, which the refresh holds: nothing to wait for here.)
        async def waiting_or_done() -> bool:
            return ending.done() or await _lock_waits(ctx) > 0

        await eventually(waiting_or_done)
    store.go_on.set()
    refreshed = await asyncio.wait_for(refreshing, timeout=60)
    await asyncio.wait_for(ending, timeout=60)

    # The refresh spent its token before the session ended, so it got a new pair...
    assert refreshed.status_code == 200, refreshed.text
    access = refreshed.json()["access_token"]
    # ...whose session the revocation names, so its access token is refused.
    [event] = await _revoked_events(ctx)
    assert _sid(access) in event["session_ids"]
    refused = await client.get("/auth/me", headers={"Authorization": f"Bearer {access}"})
    assert refused.status_code == 401, refused.text
    assert refused.json()["detail"] == "This session has ended; sign in again"
