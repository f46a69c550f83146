"""A sign-in whose password check overlaps a password change gets no session.

The check runs outside any transaction (argon2 costs tens of milliseconds), so a password change
-- which ends every session -- can commit between a login's check and the start of its session.
The overlap is made without timing: the service-level tests run the two steps of a login apart
and change the password in between; the HTTP test holds a login just after its check.
"""

from __future__ import annotations

import asyncio
import dataclasses

import httpx
import pytest

from movieverse.gateway.app import Gateway
from movieverse.platform.assembly import ServiceContext, runtime_of
from movieverse.platform.errors import Unauthorized
from movieverse.platform.security import PasswordHasher
from movieverse.services.auth import service
from movieverse.services.auth.bootstrap import AuthRuntime
from movieverse.services.auth.repository import AccountRepository
from movieverse.services.auth.service import AuthComponents, VerifiedLogin
from tests.support import PASSWORD, Account, login, signed_up

pytestmark = pytest.mark.services("auth")

NEW_PASSWORD = "a-brand-new-secret-99"
WRONG_LOGIN = "The login or password is incorrect"


def _auth(gateway: Gateway) -> tuple[ServiceContext, AuthComponents]:
    ctx = gateway.services["auth"].state.ctx
    components: AuthComponents = ctx.runtime.components
    return ctx, components


async def _verified(
    ctx: ServiceContext, auth: AuthComponents, username: str, password: str
) -> VerifiedLogin:
    """The first half of a login, as the /auth/login route runs it."""
    identifier = service.login_identifier(username)
    async with ctx.db.unit_of_work(write=False) as session:
        credentials = await service.credentials_for(session, identifier=identifier)
    return await service.verify_login(
        auth,
        identifier=identifier,
        credentials=credentials,
        password=password,
        client_ip="192.0.2.9",
    )


async def _change_password(client: httpx.AsyncClient, account: Account) -> None:
    response = await client.post(
        "/auth/password",
        headers=account.headers,
        json={"current_password": account.password, "new_password": NEW_PASSWORD},
    )
    assert response.status_code == 204, response.text


async def _stored_hash(ctx: ServiceContext, username: str) -> str:
    async with ctx.db.unit_of_work(write=False) as session:
        account = await AccountRepository(session).by_username(username)
    assert account is not None
    return account.password_hash


async def test_a_login_checked_before_a_password_change_starts_no_session_after_it(
    gateway: tuple[Gateway, httpx.AsyncClient],
) -> None:
    app, client = gateway
    ctx, auth = _auth(app)
    ana = await signed_up(client, "ana_overlap")
    stale = await _verified(ctx, auth, ana.username, PASSWORD)

    await _change_password(client, ana)

    with pytest.raises(Unauthorized) as refused:
        async with ctx.db.unit_of_work() as session:
            await service.start_session(session, auth, stale)
    assert refused.value.detail == WRONG_LOGIN
    # The old password opens nothing; the new one does, and a login checked now starts.
    assert (await login(client, ana.username)).status_code == 401
    assert (await login(client, ana.username, NEW_PASSWORD)).status_code == 200
    fresh = await _verified(ctx, auth, ana.username, NEW_PASSWORD)
    async with ctx.db.unit_of_work() as session:
        assert (await service.start_session(session, auth, fresh)).access_token


async def test_an_upgraded_hash_of_the_old_password_does_not_overwrite_the_new_one(
    gateway: tuple[Gateway, httpx.AsyncClient],
) -> None:
    app, client = gateway
    ctx, auth = _auth(app)
    ana = await signed_up(client, "ana_rehash_overlap")
    # Stronger argon2 parameters than the stored hash's: the login brings an upgraded hash of
    # the password it checked.
    stronger = dataclasses.replace(
        auth, hasher=PasswordHasher(time_cost=2, memory_kib=128, parallelism=1)
    )
    stale = await _verified(ctx, stronger, ana.username, PASSWORD)
    assert stale.upgraded_hash is not None

    await _change_password(client, ana)
    changed = await _stored_hash(ctx, ana.username)

    refused = None
    try:
        async with ctx.db.unit_of_work() as session:
            await service.start_session(session, stronger, stale)
    except Unauthorized as error:
        refused = error
    # First what is stored: the new password's hash, not the old password's upgraded one.
    assert await _stored_hash(ctx, ana.username) == changed
    assert refused is not None
    assert await auth.hasher.verify(changed, NEW_PASSWORD)
    assert (await login(client, ana.username)).status_code == 401
    assert (await login(client, ana.username, NEW_PASSWORD)).status_code == 200


class HoldingHasher(PasswordHasher):
    """The gateway's hasher, except that the first check it makes waits, once done, until the
    test lets it answer: a login held between its password check and its session."""

    def __init__(self) -> None:
        # The parameters of tests.support.fast_auth_settings(), so nothing is rehashed.
        super().__init__(time_cost=1, memory_kib=64, parallelism=1)
        self.checked = asyncio.Event()
        self.answer = asyncio.Event()

    async def verify(self, password_hash: str, password: str) -> bool:
        valid = await super().verify(password_hash, password)
        if not self.checked.is_set():
            self.checked.set()
            await self.answer.wait()
        return valid


async def test_a_login_held_across_a_password_change_is_refused(
    gateway: tuple[Gateway, httpx.AsyncClient],
) -> None:
    app, client = gateway
    ctx, auth = _auth(app)
    ana = await signed_up(client, "ana_held_login")
    hasher = HoldingHasher()
    ctx.runtime = dataclasses.replace(
        runtime_of(ctx, AuthRuntime), components=dataclasses.replace(auth, hasher=hasher)
    )

    held = asyncio.create_task(login(client, ana.username))
    # Guards a hang only: the login's check takes milliseconds.
    await asyncio.wait_for(hasher.checked.wait(), timeout=60)
    await _change_password(client, ana)
    hasher.answer.set()
    response = await asyncio.wait_for(held, timeout=60)

    assert response.status_code == 401, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["detail"] == WRONG_LOGIN


async def test_of_two_changes_checked_against_the_same_password_only_the_first_applies(
    gateway: tuple[Gateway, httpx.AsyncClient],
) -> None:
    """The owner changes the password to lock out someone who knows it, who changes it at the
    same moment: the change that commits second proved a password that is no longer the
    account's, and must not take the account over."""
    app, client = gateway
    ctx, auth = _auth(app)
    owner = await signed_up(client, "ana_two_changes")
    async with ctx.db.unit_of_work(write=False) as session:
        account = await AccountRepository(session).by_username(owner.username)
    assert account is not None
    owners, intruders = [
        await service.prepare_password_change(
            auth, account=account, current_password=PASSWORD, new_password=new
        )
        for new in (NEW_PASSWORD, "the-intruders-choice-77")
    ]
    async with ctx.db.unit_of_work() as session:
        await service.change_password(session, auth, owners)
    with pytest.raises(Unauthorized):
        async with ctx.db.unit_of_work() as session:
            await service.change_password(session, auth, intruders)
    assert await _stored_hash(ctx, owner.username) == owners.new_hash
    assert (await login(client, owner.username, NEW_PASSWORD)).status_code == 200
