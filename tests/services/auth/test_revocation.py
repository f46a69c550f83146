"""Ended sessions and deleted accounts: every service refuses their access tokens.

Each test first shows the token working in every service, then ends the session (or deletes the
account) and asks every service again. In one process the refusal is immediate: the revoking
service applies it to the process's list after its commit, before it answers.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import pytest
from sqlalchemy import text

from movieverse.gateway.app import Gateway
from tests.support import (
    Account,
    Stack,
    eventually,
    fast_auth_settings,
    login,
    running_gateway,
    signed_up,
)

# One authenticated route of each service that takes a user's token (search, movies and
# metadata are public or admin-only), reads and writes both.
PROBES: list[tuple[str, str, dict[str, Any] | None]] = [
    ("GET", "/auth/me", None),
    ("GET", "/users/me", None),
    ("PATCH", "/users/me", {"display_name": "Still here"}),
    ("PUT", "/users/me/watchlist/7", None),
    ("PUT", "/movies/3/rating", {"value": 7.5}),
    ("POST", "/movies/4/reviews", {"title": "Late", "body": "Written after.", "language": "en"}),
    ("GET", "/users/me/ratings", None),
    ("GET", "/notifications", None),
    ("POST", "/notifications/webhooks", {"url": "http://127.0.0.1:9/hook"}),
    ("GET", "/recommendations/me", None),
]


async def _answers(client: httpx.AsyncClient, account: Account) -> dict[str, httpx.Response]:
    answers = {}
    for method, path, body in PROBES:
        answers[f"{method} {path}"] = await client.request(
            method, path, headers=account.headers, json=body
        )
    return answers


async def _assert_all_accepted(client: httpx.AsyncClient, account: Account) -> None:
    for probe, response in (await _answers(client, account)).items():
        assert response.status_code < 400, (probe, response.status_code, response.text)


async def _assert_all_refused(client: httpx.AsyncClient, account: Account, detail: str) -> None:
    for probe, response in (await _answers(client, account)).items():
        assert response.status_code == 401, (probe, response.status_code, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["detail"] == detail, probe


SESSION_ENDED = "This session has ended; sign in again"
ACCOUNT_DELETED = "This account has been deleted"


async def test_logout_ends_the_access_token_in_every_service(
    gateway_client: httpx.AsyncClient,
) -> None:
    ana = await signed_up(gateway_client, "ana_logout")
    await _assert_all_accepted(gateway_client, ana)
    other = await login(gateway_client, "ana_logout")  # a second session, on another device

    response = await gateway_client.post("/auth/logout", headers=ana.headers)
    assert response.status_code == 204

    await _assert_all_refused(gateway_client, ana, SESSION_ENDED)
    # The other session is untouched.
    still = {"Authorization": f"Bearer {other.json()['access_token']}"}
    assert (await gateway_client.get("/users/me", headers=still)).status_code == 200


@pytest.mark.parametrize("how", ["logout-all", "password"])
async def test_logout_all_and_password_change_end_every_session(
    gateway_client: httpx.AsyncClient, how: str
) -> None:
    ana = await signed_up(gateway_client, f"ana_{how.replace('-', '_')}")
    second = await login(gateway_client, ana.username)
    other = Account(**{**ana.__dict__, "access": second.json()["access_token"]})
    await _assert_all_accepted(gateway_client, other)

    if how == "logout-all":
        response = await gateway_client.post("/auth/logout-all", headers=ana.headers)
    else:
        response = await gateway_client.post(
            "/auth/password",
            headers=ana.headers,
            json={"current_password": ana.password, "new_password": "a-brand-new-secret-99"},
        )
    assert response.status_code == 204, response.text

    await _assert_all_refused(gateway_client, ana, SESSION_ENDED)
    await _assert_all_refused(gateway_client, other, SESSION_ENDED)
    # Signing in again starts a session whose tokens work.
    password = ana.password if how == "logout-all" else "a-brand-new-secret-99"
    fresh = await login(gateway_client, ana.username, password)
    bearer = {"Authorization": f"Bearer {fresh.json()['access_token']}"}
    assert (await gateway_client.get("/users/me", headers=bearer)).status_code == 200


async def test_a_replayed_refresh_token_ends_the_thiefs_access_token_too(
    gateway_client: httpx.AsyncClient,
) -> None:
    ana = await signed_up(gateway_client, "ana_replay")
    rotated = await gateway_client.post("/auth/refresh", json={"refresh_token": ana.refresh})
    assert rotated.status_code == 200
    thief = Account(**{**ana.__dict__, "access": rotated.json()["access_token"]})
    await _assert_all_accepted(gateway_client, thief)

    replay = await gateway_client.post("/auth/refresh", json={"refresh_token": ana.refresh})
    assert replay.status_code == 401

    await _assert_all_refused(gateway_client, thief, SESSION_ENDED)


async def test_a_deleted_account_is_refused_by_every_service_and_writes_nothing(
    gateway: tuple[Gateway, httpx.AsyncClient],
) -> None:
    app, client = gateway
    ana = await signed_up(client, "ana_deleted")
    await _assert_all_accepted(client, ana)

    assert (await client.delete("/users/me", headers=ana.headers)).status_code == 204

    await _assert_all_refused(client, ana, ACCOUNT_DELETED)

    async def erased() -> bool:
        # What ana wrote before is erased (through events) and nothing refused was written.
        return await _rows_of(app, "reviews", ana.user_id) == 0 and (
            await _rows_of(app, "notifications", ana.user_id) == 0
        )

    await eventually(erased)


_USER_TABLES = {
    "reviews": [("reviews_reviews", "user_id"), ("reviews_ratings", "user_id")],
    "notifications": [("notifications_webhooks", "owner_id")],
}


async def _rows_of(app: Gateway, service: str, user_id: str) -> int:
    ctx = app.services[service].state.ctx
    total = 0
    async with ctx.db.unit_of_work(write=False) as session:
        for table, column in _USER_TABLES[service]:
            found = await session.execute(
                text(f"select count(*) from {table} where {column} = :user"),  # noqa: S608
                {"user": _uuid_param(ctx.db.dialect, user_id)},
            )
            total += int(found.scalar_one())
    return total


def _uuid_param(dialect: str, user_id: str) -> object:
    # SQLAlchemy's Uuid type stores 32 hex digits on SQLite and a native uuid on PostgreSQL.
    return UUID(user_id).hex if dialect == "sqlite" else UUID(user_id)


async def test_a_username_freed_at_once_inherits_nothing_of_the_old_account(
    tmp_path: Path,
) -> None:
    settings = Stack("embedded", database_url=None, redis_url=None).settings(tmp_path / "var")
    auth = fast_auth_settings(username_quarantine_days=0)
    async with running_gateway(settings, auth=auth) as (_, client):
        old = await signed_up(client, "reused_name")
        review = {"title": "Mine", "body": "The old owner's words.", "language": "en"}
        assert (await client.post("/movies/3/reviews", headers=old.headers, json=review)).is_success
        assert (await client.delete("/users/me", headers=old.headers)).status_code == 204

        async def auth_erased() -> bool:
            return (await login(client, "reused_name")).status_code == 401

        await eventually(auth_erased)
        new = await signed_up(client, "reused_name")
        assert new.user_id != old.user_id

        async def nothing_inherited() -> bool:
            by_name = await client.get("/users/reused_name/reviews")
            on_movie = await client.get("/movies/3/reviews")
            return bool(by_name.json()["total_results"] == 0 and on_movie.json()["results"] == [])

        await eventually(nothing_inherited)
