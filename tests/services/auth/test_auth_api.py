"""The auth API end to end through the gateway, on every configured stack."""

from __future__ import annotations

import httpx
import pytest

from tests.support import PASSWORD, eventually, login, register, signed_up

pytestmark = pytest.mark.services("auth", "users")


async def test_register_returns_the_account_normalised(gateway_client: httpx.AsyncClient) -> None:
    response = await gateway_client.post(
        "/auth/register",
        json={"email": "  Ana.Lima@Example.COM ", "username": "Ana_Lima", "password": PASSWORD},
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["email"] == "ana.lima@example.com"
    assert body["username"] == "ana_lima"
    assert body["roles"] == ["user"]
    assert "password" not in response.text
    assert "hash" not in response.text


async def test_duplicate_email_is_a_conflict(gateway_client: httpx.AsyncClient) -> None:
    await register(gateway_client, "first_user")
    again = await gateway_client.post(
        "/auth/register",
        json={"email": "FIRST_USER@example.org", "username": "second_user", "password": PASSWORD},
    )
    assert again.status_code == 409
    assert again.headers["content-type"] == "application/problem+json"
    assert again.json()["detail"] == "An account with this email address already exists"


async def test_usernames_are_unique_case_insensitively(gateway_client: httpx.AsyncClient) -> None:
    await register(gateway_client, "movie_fan")
    again = await gateway_client.post(
        "/auth/register",
        json={"email": "other@example.org", "username": "Movie_Fan", "password": PASSWORD},
    )
    assert again.status_code == 409
    assert again.json()["detail"] == "This username is taken"


@pytest.mark.parametrize(
    ("username", "password", "code"),
    [
        ("ab", PASSWORD, "string_too_short"),
        ("has space", PASSWORD, "username_format"),
        ("dash-name", PASSWORD, "username_format"),
        ("admin", PASSWORD, "reserved"),
        ("valid_name", "short1!", "password_too_short"),
        ("valid_name", "qwertyuiop", "password_common"),
        ("valid_name", "1234567890", "password_common"),
        ("valid_name", "xx-valid_name-xx", "password_personal"),
        ("someone", "someone.else@example.org", "password_personal"),
    ],
)
async def test_register_rejects_bad_usernames_and_passwords(
    gateway_client: httpx.AsyncClient, username: str, password: str, code: str
) -> None:
    email = "someone.else@example.org" if code == "password_personal" else "x@example.org"
    response = await gateway_client.post(
        "/auth/register", json={"email": email, "username": username, "password": password}
    )
    assert response.status_code == 422, response.text
    codes = [e["code"] for e in response.json()["errors"]]
    assert code in codes
    # Nothing was created: the same email registers fine afterwards.
    ok = await gateway_client.post(
        "/auth/register", json={"email": email, "username": "fine_name", "password": PASSWORD}
    )
    assert ok.status_code == 201


async def test_login_by_email_or_username_returns_a_token_pair(
    gateway_client: httpx.AsyncClient,
) -> None:
    await register(gateway_client, "dual_login")
    for name in ("dual_login", "DUAL_LOGIN@example.org"):
        response = await login(gateway_client, name)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["token_type"] == "bearer"
        assert body["expires_in"] == 900
        assert body["access_token"].count(".") == 2
        assert len(body["refresh_token"]) >= 40


async def test_wrong_password_and_unknown_user_answer_alike(
    gateway_client: httpx.AsyncClient,
) -> None:
    await register(gateway_client, "known_user")
    wrong = await login(gateway_client, "known_user", "not-the-password-at-all")
    unknown = await login(gateway_client, "nobody_here", "not-the-password-at-all")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json()["detail"] == unknown.json()["detail"]


async def test_me_requires_a_bearer_token(gateway_client: httpx.AsyncClient) -> None:
    response = await gateway_client.get("/auth/me")
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    account = await signed_up(gateway_client, "me_user")
    me = await gateway_client.get("/auth/me", headers=account.headers)
    assert me.status_code == 200
    assert me.json()["username"] == "me_user"


async def test_refresh_rotates_and_the_old_token_is_spent(
    gateway_client: httpx.AsyncClient,
) -> None:
    account = await signed_up(gateway_client, "rotator")
    first = await gateway_client.post("/auth/refresh", json={"refresh_token": account.refresh})
    assert first.status_code == 200, first.text
    rotated = first.json()
    assert rotated["refresh_token"] != account.refresh
    me = await gateway_client.get(
        "/auth/me", headers={"Authorization": f"Bearer {rotated['access_token']}"}
    )
    assert me.status_code == 200
    # The rotated token works once more, proving the chain continues.
    second = await gateway_client.post(
        "/auth/refresh", json={"refresh_token": rotated["refresh_token"]}
    )
    assert second.status_code == 200


async def test_refresh_reuse_revokes_the_whole_family(gateway_client: httpx.AsyncClient) -> None:
    account = await signed_up(gateway_client, "victim")
    other_session = (await login(gateway_client, "victim")).json()
    stolen = account.refresh
    legit = await gateway_client.post("/auth/refresh", json={"refresh_token": stolen})
    assert legit.status_code == 200
    replay = await gateway_client.post("/auth/refresh", json={"refresh_token": stolen})
    assert replay.status_code == 401
    assert "already used" in replay.json()["detail"]
    # The legitimate holder's newer token died with the family...
    newest = await gateway_client.post(
        "/auth/refresh", json={"refresh_token": legit.json()["refresh_token"]}
    )
    assert newest.status_code == 401
    # ...but another login session of the same user is untouched.
    untouched = await gateway_client.post(
        "/auth/refresh", json={"refresh_token": other_session["refresh_token"]}
    )
    assert untouched.status_code == 200


async def test_unknown_refresh_token_is_refused(gateway_client: httpx.AsyncClient) -> None:
    response = await gateway_client.post("/auth/refresh", json={"refresh_token": "made-up"})
    assert response.status_code == 401
    assert response.json()["type"] == "urn:movieverse:problem:unauthorized"


async def test_logout_ends_only_this_session(gateway_client: httpx.AsyncClient) -> None:
    first = await signed_up(gateway_client, "two_devices")
    second = (await login(gateway_client, "two_devices")).json()
    out = await gateway_client.post("/auth/logout", headers=first.headers)
    assert out.status_code == 204
    dead = await gateway_client.post("/auth/refresh", json={"refresh_token": first.refresh})
    assert dead.status_code == 401
    alive = await gateway_client.post(
        "/auth/refresh", json={"refresh_token": second["refresh_token"]}
    )
    assert alive.status_code == 200


async def test_logout_all_ends_every_session(gateway_client: httpx.AsyncClient) -> None:
    first = await signed_up(gateway_client, "everywhere")
    second = (await login(gateway_client, "everywhere")).json()
    out = await gateway_client.post("/auth/logout-all", headers=first.headers)
    assert out.status_code == 204
    for token in (first.refresh, second["refresh_token"]):
        response = await gateway_client.post("/auth/refresh", json={"refresh_token": token})
        assert response.status_code == 401


async def test_change_password_needs_the_current_one_and_ends_sessions(
    gateway_client: httpx.AsyncClient,
) -> None:
    account = await signed_up(gateway_client, "changer")
    new_password = "silver-screen-dreams-2"
    wrong = await gateway_client.post(
        "/auth/password",
        headers=account.headers,
        json={"current_password": "nope-nope-nope", "new_password": new_password},
    )
    assert wrong.status_code == 401
    weak = await gateway_client.post(
        "/auth/password",
        headers=account.headers,
        json={"current_password": PASSWORD, "new_password": "password1234"},
    )
    assert weak.status_code == 422
    assert weak.json()["errors"][0]["field"] == "body.new_password"
    changed = await gateway_client.post(
        "/auth/password",
        headers=account.headers,
        json={"current_password": PASSWORD, "new_password": new_password},
    )
    assert changed.status_code == 204
    refresh = await gateway_client.post("/auth/refresh", json={"refresh_token": account.refresh})
    assert refresh.status_code == 401
    assert (await login(gateway_client, "changer")).status_code == 401
    assert (await login(gateway_client, "changer", new_password)).status_code == 200


async def test_registration_creates_the_profile_through_events(
    gateway_client: httpx.AsyncClient,
) -> None:
    account = await signed_up(gateway_client, "event_driven")

    async def profile_exists() -> bool:
        response = await gateway_client.get("/users/event_driven")
        return response.status_code == 200

    await eventually(profile_exists)
    public = (await gateway_client.get("/users/event_driven")).json()
    assert public["username"] == account.username


async def test_jwks_is_empty_for_hs256(gateway_client: httpx.AsyncClient) -> None:
    response = await gateway_client.get("/auth/jwks")
    assert response.status_code == 200
    assert response.json() == {"keys": []}
