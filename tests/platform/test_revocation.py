"""Revocations: the in-process list, the store contract (SQLite file and Redis), and the
re-check a request's unit of work makes just before it commits."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterable
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text

from movieverse.platform.assembly import SharedRuntime, build_service_app
from movieverse.platform.revocation import (
    LocalFileRevocationStore,
    RedisRevocationStore,
    Revocation,
    RevocationList,
    Revocations,
    RevocationStore,
    session_revocations,
    user_revocation,
)
from movieverse.platform.settings import PlatformSettings
from movieverse.services.auth.settings import AuthSettings
from movieverse.services.auth.tokens import AccessTokenIssuer
from tests.platform import toy_service
from tests.support import eventually, server_url

HANG_GUARD_SECONDS = 60


def test_the_list_refuses_revoked_sessions_and_users_until_they_run_out() -> None:
    revoked = RevocationList()
    user = uuid.uuid4()
    assert revoked.refusal(user_id=user, session_id="s1") is None

    assert revoked.apply(Revocation("session", "s1", time.time() + 60))
    assert revoked.refusal(user_id=user, session_id="s1") == (
        "This session has ended; sign in again"
    )
    assert revoked.refusal(user_id=user, session_id="s2") is None

    assert revoked.apply(user_revocation(user))
    assert revoked.refusal(user_id=user, session_id="s2") == "This account has been deleted"

    # Known already: not new; an earlier expiry never shortens an entry.
    assert not revoked.apply(Revocation("session", "s1", time.time() + 30))
    # Run out: no longer refused, and pruned.
    revoked.apply(Revocation("session", "old", time.time() - 1))
    assert revoked.refusal(user_id=uuid.uuid4(), session_id="old") is None
    revoked.prune()
    assert len(revoked) == 2


def test_session_revocations_outlive_the_access_tokens_they_cover() -> None:
    before = time.time()
    (revocation,) = session_revocations(["family"], ttl_seconds=900)
    assert revocation.kind == "session"
    assert before + 900 < revocation.until <= time.time() + 900 + 10


@pytest.fixture(params=["sqlite", "redis"])
async def stores(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[tuple[RevocationStore, RevocationStore]]:
    """Two stores on the same data, as two processes of a deployment would have."""
    if request.param == "sqlite":
        first: RevocationStore = LocalFileRevocationStore(tmp_path / "r.db", poll_seconds=0.02)
        second: RevocationStore = LocalFileRevocationStore(tmp_path / "r.db", poll_seconds=0.02)
    else:
        url = server_url("redis")
        if url is None:
            pytest.skip("MOVIEVERSE_TEST_REDIS_URL is not set")
        prefix = f"mvtest:{uuid.uuid4().hex[:12]}:"
        first = RedisRevocationStore.from_url(url, prefix=prefix)
        second = RedisRevocationStore.from_url(url, prefix=prefix)
    try:
        yield first, second
    finally:
        await first.close()
        await second.close()


async def test_store_keeps_what_is_active_for_a_process_that_starts_later(
    stores: tuple[RevocationStore, RevocationStore],
) -> None:
    first, second = stores
    live = Revocation("session", "s-live", time.time() + 60)
    gone = Revocation("session", "s-gone", time.time() - 1)
    user = user_revocation(uuid.uuid4())
    await first.add([live, gone, user])

    active = {(r.kind, r.subject) for r in await second.active()}
    assert active == {("session", "s-live"), ("user", user.subject)}


async def test_store_tells_every_follower_of_what_another_process_adds(
    stores: tuple[RevocationStore, RevocationStore],
) -> None:
    first, second = stores
    heard = RevocationList()
    follower = asyncio.create_task(second.follow(heard.apply))
    try:
        user = uuid.uuid4()

        # The follower may still be subscribing: keep adding until it hears (it must, soon).
        async def heard_it() -> bool:
            await first.add([Revocation("session", "s-new", time.time() + 60)])
            return heard.refusal(user_id=user, session_id="s-new") is not None

        await eventually(heard_it, within=10, interval=0.05)
    finally:
        follower.cancel()
        with pytest.raises(asyncio.CancelledError):
            await follower


async def test_a_revocation_added_while_a_process_starts_is_not_missed(
    stores: tuple[RevocationStore, RevocationStore],
) -> None:
    """A process loads what is active, then starts following: what another process adds between
    the two must reach it all the same."""
    first, second = stores
    starting = Revocations(second)
    assert await second.active() == []  # the load of start-up, done before the add
    await first.add([Revocation("session", "s-between", time.time() + 60)])
    follower = asyncio.create_task(second.follow(starting.list.apply))
    try:

        async def heard_it() -> bool:
            return starting.refusal(user_id=uuid.uuid4(), session_id="s-between") is not None

        await eventually(heard_it, within=10, interval=0.05)
    finally:
        follower.cancel()
        with pytest.raises(asyncio.CancelledError):
            await follower


class StoreThatFailsOnce:
    """A store (our own port) whose first write fails, as Redis would during a blip."""

    def __init__(self) -> None:
        self.written: list[Revocation] = []
        self.failures_left = 1

    async def add(self, revocations: Iterable[Revocation]) -> None:
        if self.failures_left:
            self.failures_left -= 1
            raise ConnectionError("store unreachable")
        self.written.extend(revocations)

    async def active(self) -> list[Revocation]:
        return []

    async def follow(self, apply: Callable[[Revocation], object]) -> None:
        await asyncio.Event().wait()

    async def close(self) -> None:
        return None


async def test_a_failed_store_write_is_sent_again_by_the_next_revoke() -> None:
    store = StoreThatFailsOnce()
    revocations = Revocations(store)
    ended = Revocation("session", "s-blip", time.time() + 60)
    with pytest.raises(ConnectionError):
        await revocations.revoke([ended])
    # Refused here at once, even though the deployment has not heard yet.
    assert revocations.refusal(user_id=uuid.uuid4(), session_id="s-blip") is not None
    # The event consumer's retry of the same revocation: known here, but still sent.
    await revocations.revoke([ended])
    assert store.written == [ended]
    await revocations.revoke([ended])  # sent now: nothing more to send
    assert store.written == [ended]


def _toy_settings(tmp_path: Path) -> PlatformSettings:
    return PlatformSettings.model_validate(
        {
            "environment": "test",
            "var_dir": tmp_path,
            "auto_migrate": False,
            "database_url": None,
            "redis_url": None,
        }
    )


async def test_a_write_whose_session_ends_before_it_commits_is_rolled_back(
    tmp_path: Path,
) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'toy.db'}")
    toy_service.Base.metadata.create_all(engine)
    settings = _toy_settings(tmp_path)
    app = build_service_app(toy_service.DEFINITION, settings)
    issuer = AccessTokenIssuer.from_settings(settings, AuthSettings())
    token, _ = issuer.issue(
        user_id=uuid.uuid4(), username="late_writer", roles=["user"], session_id="sess-1"
    )
    async with app.router.lifespan_context(app):
        ctx = app.state.ctx
        entered, release = asyncio.Event(), asyncio.Event()
        ctx.runtime.hold = (entered, release)
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://toy.test") as client:
            write = asyncio.create_task(
                client.post(
                    "/toy/my-notes",
                    json={"text": "hello"},
                    headers={"Authorization": f"Bearer {token}"},
                )
            )
            # Past its token check, its row flushed, not committed: now the session ends.
            await entered.wait()
            await ctx.shared.revocations.revoke(session_revocations(["sess-1"], ttl_seconds=60))
            release.set()
            response = await write
            ctx.runtime.hold = None
            again = await client.post(
                "/toy/my-notes",
                json={"text": "again"},
                headers={"Authorization": f"Bearer {token}"},
            )
    assert response.status_code == 401, response.text
    assert response.json()["detail"] == "This session has ended; sign in again"
    assert again.status_code == 401
    with engine.connect() as conn:
        assert conn.execute(text("select count(*) from toy_notes")).scalar_one() == 0
    engine.dispose()


async def test_a_runtime_whose_bus_cannot_start_leaves_nothing_running(tmp_path: Path) -> None:
    """The revocation follower started before the bus failed is stopped again, and a retry
    starts cleanly (it used to run on, and a retry started a second one)."""
    settings = _toy_settings(tmp_path).model_copy(
        update={"event_bus_url": "amqp://guest:guest@127.0.0.1:9/"}  # nothing listens there
    )
    runtime = SharedRuntime(settings)
    for _ in range(2):
        with pytest.raises(Exception):  # noqa: B017, PT011 -- whatever the client raises
            await asyncio.wait_for(runtime.start(), HANG_GUARD_SECONDS)
        assert not [t for t in asyncio.all_tasks() if t.get_name() == "revocation-follower"]
        with pytest.raises(RuntimeError):
            runtime.revocations  # noqa: B018 -- the property is the check
