"""One behaviour for every refresh-token store: SQL (SQLite, and PostgreSQL when configured)
and Redis (when configured)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from movieverse.platform.cache import RedisKeyValueStore
from movieverse.platform.db import Database, utcnow
from movieverse.platform.migrations import upgrade_async
from movieverse.platform.settings import PlatformSettings
from movieverse.services.auth.repository import SqlRefreshTokenStore
from movieverse.services.auth.tokens import (
    Consumed,
    RedisRefreshTokenStore,
    RefreshTokenStore,
    new_family_id,
    new_refresh_token,
)
from tests.support import require_server, truncate_all


@pytest.fixture(params=["sqlite", "postgres", "redis"])
async def harness(
    request: pytest.FixtureRequest, tmp_path: Path, postgres_database: str | None
) -> AsyncIterator[tuple[RefreshTokenStore, Database]]:
    settings = PlatformSettings(environment="test")
    redis: RedisKeyValueStore | None = None
    store: RefreshTokenStore
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'auth.db'}"
        await upgrade_async("auth", url)
        store = SqlRefreshTokenStore()
    elif request.param == "postgres":
        require_server("postgres")
        assert postgres_database is not None
        url = postgres_database
        await truncate_all(url)
        store = SqlRefreshTokenStore()
    else:
        redis_url = require_server("redis")
        url = f"sqlite:///{tmp_path / 'auth.db'}"
        await upgrade_async("auth", url)
        redis = RedisKeyValueStore.from_url(redis_url, prefix=f"mvtest:{uuid.uuid4().hex}:")
        store = RedisRefreshTokenStore(redis.client, prefix=redis.key(""), max_ttl_seconds=3600)
    db = Database.connect(url, settings)
    yield store, db
    await db.dispose()
    if redis is not None:
        await redis.close()


async def _login(
    store: RefreshTokenStore,
    session: AsyncSession,
    account: uuid.UUID,
    *,
    lifetime: timedelta = timedelta(hours=1),
) -> tuple[str, str]:
    family = new_family_id()
    token = new_refresh_token()
    await store.start_family(session, account_id=account, family_id=family)
    await store.issue(
        session,
        account_id=account,
        family_id=family,
        token=token,
        expires_at=utcnow() + lifetime,
    )
    return family, token


Harness = tuple[RefreshTokenStore, Database]


async def test_a_token_is_spent_once(harness: Harness) -> None:
    store, db = harness
    account = uuid.uuid4()
    async with db.unit_of_work() as session:
        family, token = await _login(store, session, account)
    async with db.unit_of_work() as session:
        first = await store.consume(session, token)
    assert first.outcome is Consumed.OK
    assert first.account_id == account
    assert first.family_id == family
    async with db.unit_of_work() as session:
        second = await store.consume(session, token)
    assert second.outcome is Consumed.REUSED


async def test_reuse_revokes_the_family_and_its_newer_tokens(harness: Harness) -> None:
    store, db = harness
    account = uuid.uuid4()
    async with db.unit_of_work() as session:
        family, old = await _login(store, session, account)
        assert (await store.consume(session, old)).outcome is Consumed.OK
        newer = new_refresh_token()
        await store.issue(
            session,
            account_id=account,
            family_id=family,
            token=newer,
            expires_at=utcnow() + timedelta(hours=1),
        )
    async with db.unit_of_work() as session:
        assert (await store.consume(session, old)).outcome is Consumed.REUSED
    async with db.unit_of_work() as session:
        assert (await store.consume(session, newer)).outcome is Consumed.REVOKED


async def test_unknown_token_is_invalid(harness: Harness) -> None:
    store, db = harness
    async with db.unit_of_work() as session:
        result = await store.consume(session, "never-issued")
    assert result.outcome is Consumed.INVALID
    assert result.account_id is None


async def test_expired_token_is_not_accepted(harness: Harness) -> None:
    store, db = harness
    account = uuid.uuid4()
    async with db.unit_of_work() as session:
        _, token = await _login(store, session, account, lifetime=timedelta(seconds=1))
    await asyncio.sleep(1.2)
    async with db.unit_of_work() as session:
        result = await store.consume(session, token)
    # SQL remembers the token and says it expired; Redis has dropped it. Neither accepts it.
    assert result.outcome in {Consumed.EXPIRED, Consumed.INVALID}


async def test_revoke_family_and_account(harness: Harness) -> None:
    store, db = harness
    account, other = uuid.uuid4(), uuid.uuid4()
    async with db.unit_of_work() as session:
        family_a, token_a = await _login(store, session, account)
        _, token_b = await _login(store, session, account)
        _, token_c = await _login(store, session, account)
        _, token_other = await _login(store, session, other)
        assert await store.family_of(session, token_a) == family_a
        await store.revoke_family(session, family_a, reason="logout")
    async with db.unit_of_work() as session:
        assert (await store.consume(session, token_a)).outcome is Consumed.REVOKED
        await store.revoke_account(session, account, reason="logout-all")
    async with db.unit_of_work() as session:
        assert (await store.consume(session, token_b)).outcome is Consumed.REVOKED
        assert (await store.consume(session, token_c)).outcome is Consumed.REVOKED
        assert (await store.consume(session, token_other)).outcome is Consumed.OK


async def test_tokens_are_stored_hashed(harness: Harness) -> None:
    store, db = harness
    async with db.unit_of_work() as session:
        _, token = await _login(store, session, uuid.uuid4())
    if isinstance(store, SqlRefreshTokenStore):
        from sqlalchemy import select

        from movieverse.services.auth.models import RefreshToken

        async with db.unit_of_work(write=False) as session:
            stored = (await session.execute(select(RefreshToken.token_hash))).scalars().all()
    else:
        assert isinstance(store, RedisRefreshTokenStore)
        keys = await store._redis.keys("*")
        stored = [k.decode() if isinstance(k, bytes) else str(k) for k in keys]
    assert stored
    assert all(token not in value for value in stored)
