"""Attacks on tokens and sign-in: every one must fail closed."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

from movieverse.platform.security import development_secret
from tests.support import (
    PASSWORD,
    Stack,
    fast_auth_settings,
    login,
    register,
    running_gateway,
    signed_up,
)

pytestmark = pytest.mark.services("auth", "users")

# Locks that outlast any test however slow the machine: a 1 s first lock could expire between
# a test's failures and its next attempt, turning the expected 429 into a 200.
HELD_LOCKS: dict[str, Any] = {"login_first_delay_seconds": 3600, "login_max_delay_seconds": 7200}


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def _claims(token: str) -> dict[str, Any]:
    claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return claims


def write_key_pair(private: Ed25519PrivateKey | RSAPrivateKey, folder: Path) -> tuple[Path, Path]:
    """PEM files as an operator would configure them: (private key, public key)."""
    private_file = folder / "signing.pem"
    public_file = folder / "verify.pem"
    private_file.write_bytes(
        private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    public_file.write_bytes(
        private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return private_file, public_file


async def _status_with(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.get("/users/me", headers={"Authorization": f"Bearer {token}"})


async def test_access_token_carries_the_documented_claims(
    gateway_client: httpx.AsyncClient,
) -> None:
    account = await signed_up(gateway_client, "claims_user")
    claims = _claims(account.access)
    assert {"sub", "typ", "roles", "jti", "iat", "exp", "iss", "aud"} <= set(claims)
    assert claims["sub"] == account.user_id
    assert claims["typ"] == "access"
    assert claims["roles"] == ["user"]
    assert claims["iss"] == claims["aud"] == "movieverse"
    assert claims["exp"] - claims["iat"] == 900


async def test_tampered_token_is_refused(gateway_client: httpx.AsyncClient) -> None:
    account = await signed_up(gateway_client, "tamper_me")
    header, _payload, signature = account.access.split(".")
    claims = _claims(account.access)
    claims["roles"] = ["user", "admin"]
    forged = f"{header}.{_b64(claims)}.{signature}"
    response = await _status_with(gateway_client, forged)
    assert response.status_code == 401
    assert response.json()["detail"] == "The access token is invalid"


async def test_alg_none_is_refused(gateway_client: httpx.AsyncClient) -> None:
    account = await signed_up(gateway_client, "alg_none")
    unsigned = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(_claims(account.access))}."
    response = await _status_with(gateway_client, unsigned)
    assert response.status_code == 401


async def test_expired_token_is_refused(gateway_client: httpx.AsyncClient, tmp_path: Path) -> None:
    account = await signed_up(gateway_client, "expired_user")
    claims = _claims(account.access)
    past = datetime.now(UTC) - timedelta(hours=1)
    claims.update(iat=past, exp=past + timedelta(minutes=15))
    # Signed with the real secret: only the expiry is wrong.
    secret = development_secret(Path(tmp_path) / "var")
    token = jwt.encode(claims, secret, algorithm="HS256")
    response = await _status_with(gateway_client, token)
    assert response.status_code == 401
    assert response.json()["detail"] == "The access token has expired"


async def test_wrong_audience_is_refused(gateway_client: httpx.AsyncClient, tmp_path: Path) -> None:
    account = await signed_up(gateway_client, "wrong_aud")
    claims = _claims(account.access)
    claims["aud"] = "some-other-api"
    token = jwt.encode(claims, development_secret(Path(tmp_path) / "var"), algorithm="HS256")
    response = await _status_with(gateway_client, token)
    assert response.status_code == 401


async def test_token_signed_with_another_secret_is_refused(
    gateway_client: httpx.AsyncClient,
) -> None:
    account = await signed_up(gateway_client, "other_key")
    token = jwt.encode(_claims(account.access), "x" * 64, algorithm="HS256")
    assert (await _status_with(gateway_client, token)).status_code == 401


async def test_refresh_token_is_never_an_access_token(
    gateway_client: httpx.AsyncClient, tmp_path: Path
) -> None:
    account = await signed_up(gateway_client, "refresh_as_access")
    # The opaque refresh token itself...
    assert (await _status_with(gateway_client, account.refresh)).status_code == 401
    # ...and a well-signed JWT that says it is a refresh token.
    claims = _claims(account.access)
    claims["typ"] = "refresh"
    token = jwt.encode(claims, development_secret(Path(tmp_path) / "var"), algorithm="HS256")
    response = await _status_with(gateway_client, token)
    assert response.status_code == 401
    assert response.json()["detail"] == "Not an access token"


@pytest.mark.parametrize("header", ["Basic abc", "Bearer", "Bearer    ", "token"])
async def test_malformed_authorization_headers(
    gateway_client: httpx.AsyncClient, header: str
) -> None:
    response = await gateway_client.get("/users/me", headers={"Authorization": header})
    assert response.status_code == 401


async def test_brute_force_is_slowed_with_429_and_retry_after(stack: Stack, tmp_path: Path) -> None:
    auth = fast_auth_settings(login_account_threshold=3, login_ip_threshold=100, **HELD_LOCKS)
    async with running_gateway(stack.settings(tmp_path / "var"), auth=auth) as (_, client):
        await register(client, "target")
        statuses = [
            (await login(client, "target", "wrong-guess-000")).status_code for _ in range(3)
        ]
        assert statuses == [401, 401, 401]
        blocked = await login(client, "target", PASSWORD)  # even the right password waits
        assert blocked.status_code == 429
        assert int(blocked.headers["retry-after"]) >= 1
        assert blocked.json()["title"] == "Too many requests"
        # Another account from the same client is not affected by this account's lock.
        await register(client, "bystander")
        assert (await login(client, "bystander")).status_code == 200


async def test_username_and_email_share_one_account_counter(stack: Stack, tmp_path: Path) -> None:
    """Guesses typed as the username and as the email count against the same account: two
    counters would double an attacker's guesses."""
    auth = fast_auth_settings(login_account_threshold=4, login_ip_threshold=100, **HELD_LOCKS)
    async with running_gateway(stack.settings(tmp_path / "var"), auth=auth) as (_, client):
        await register(client, "two_names")
        names = ["two_names", "two_names@example.org", "TWO_NAMES", "Two_Names@Example.org"]
        statuses = [(await login(client, name, "wrong-guess-000")).status_code for name in names]
        assert statuses == [401, 401, 401, 401]
        for name in ("two_names", "two_names@example.org"):
            blocked = await login(client, name, PASSWORD)
            assert blocked.status_code == 429, name


async def test_brute_force_per_ip_across_accounts(stack: Stack, tmp_path: Path) -> None:
    auth = fast_auth_settings(login_account_threshold=100, login_ip_threshold=4, **HELD_LOCKS)
    async with running_gateway(stack.settings(tmp_path / "var"), auth=auth) as (_, client):
        for i in range(4):
            assert (await login(client, f"sprayed_{i}", "guess-guess-guess")).status_code == 401
        response = await login(client, "sprayed_9", "guess-guess-guess")
        assert response.status_code == 429
        assert "retry-after" in response.headers


async def test_forwarded_for_is_ignored_from_untrusted_peers(stack: Stack, tmp_path: Path) -> None:
    auth = fast_auth_settings(login_account_threshold=100, login_ip_threshold=2, **HELD_LOCKS)
    async with running_gateway(stack.settings(tmp_path / "var"), auth=auth) as (_, client):
        for i in range(2):
            spoofed = {"X-Forwarded-For": f"198.51.100.{i}"}
            response = await client.post(
                "/auth/login", json={"login": "ghost", "password": "x" * 12}, headers=spoofed
            )
            assert response.status_code == 401
        # Rotating the header did not give the attacker fresh per-IP budgets.
        response = await client.post(
            "/auth/login",
            json={"login": "ghost", "password": "x" * 12},
            headers={"X-Forwarded-For": "198.51.100.77"},
        )
        assert response.status_code == 429


async def test_forwarded_for_is_used_behind_a_trusted_proxy(stack: Stack, tmp_path: Path) -> None:
    auth = fast_auth_settings(login_account_threshold=100, login_ip_threshold=2, **HELD_LOCKS)
    settings = stack.settings(tmp_path / "var", trusted_proxies=["203.0.113.0/24"])
    async with running_gateway(settings, auth=auth) as (_, client):
        for _ in range(2):
            response = await client.post(
                "/auth/login",
                json={"login": "ghost", "password": "x" * 12},
                headers={"X-Forwarded-For": "198.51.100.1"},
            )
            assert response.status_code == 401
        # The proxy (our socket peer) forwards a different client: it has its own budget.
        other = await client.post(
            "/auth/login",
            json={"login": "ghost", "password": "x" * 12},
            headers={"X-Forwarded-For": "198.51.100.2"},
        )
        assert other.status_code == 401
        again = await client.post(
            "/auth/login",
            json={"login": "ghost", "password": "x" * 12},
            headers={"X-Forwarded-For": "198.51.100.1"},
        )
        assert again.status_code == 429


async def test_login_rehashes_when_argon2_parameters_change(stack: Stack, tmp_path: Path) -> None:
    settings = stack.settings(tmp_path / "var")
    async with running_gateway(settings, auth=fast_auth_settings()) as (gateway, client):
        await register(client, "rehash_me")
        ctx = gateway.services["auth"].state.ctx
        from movieverse.services.auth.repository import AccountRepository

        async with ctx.db.unit_of_work(write=False) as session:
            account = await AccountRepository(session).by_username("rehash_me")
            assert account is not None
            old_hash = account.password_hash
        assert "m=64,t=1" in old_hash
    stronger = fast_auth_settings(argon2_memory_kib=128, argon2_time_cost=2)
    async with running_gateway(settings, auth=stronger) as (gateway, client):
        assert (await login(client, "rehash_me")).status_code == 200
        ctx = gateway.services["auth"].state.ctx
        async with ctx.db.unit_of_work(write=False) as session:
            account = await AccountRepository(session).by_username("rehash_me")
            assert account is not None
            assert account.password_hash != old_hash
            assert "m=128,t=2" in account.password_hash
        assert (await login(client, "rehash_me")).status_code == 200


async def test_eddsa_tokens_verify_with_the_public_key_and_jwks(
    stack: Stack, tmp_path: Path
) -> None:
    private_file, public_file = write_key_pair(Ed25519PrivateKey.generate(), tmp_path)
    settings = stack.settings(
        tmp_path / "var", jwt_algorithm="EdDSA", jwt_public_key_file=public_file
    )
    auth = fast_auth_settings(jwt_private_key_file=private_file)
    async with running_gateway(settings, auth=auth) as (_, client):
        account = await signed_up(client, "eddsa_user")
        assert jwt.get_unverified_header(account.access)["alg"] == "EdDSA"
        assert (await _status_with(client, account.access)).status_code == 200
        keys = (await client.get("/auth/jwks")).json()["keys"]
        assert len(keys) == 1
        assert keys[0]["kty"] == "OKP"
        assert keys[0]["crv"] == "Ed25519"
        assert "d" not in keys[0]  # never the private part
        verified = jwt.decode(
            account.access,
            jwt.PyJWK(keys[0]).key,
            algorithms=["EdDSA"],
            audience="movieverse",
        )
        assert verified["sub"] == account.user_id
        # Algorithm confusion: an HS256 token keyed with the (public) PEM is refused.
        signing_input = f"{_b64({'alg': 'HS256', 'typ': 'JWT'})}.{_b64(_claims(account.access))}"
        mac = hmac.new(public_file.read_bytes(), signing_input.encode(), hashlib.sha256).digest()
        forged = f"{signing_input}.{base64.urlsafe_b64encode(mac).decode().rstrip('=')}"
        assert (await _status_with(client, forged)).status_code == 401


async def test_rs256_tokens_verify_with_the_public_key(stack: Stack, tmp_path: Path) -> None:
    from cryptography.hazmat.primitives.asymmetric import rsa

    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_file, public_file = write_key_pair(private, tmp_path)
    settings = stack.settings(
        tmp_path / "var", jwt_algorithm="RS256", jwt_public_key_file=public_file
    )
    auth = fast_auth_settings(jwt_private_key_file=private_file)
    async with running_gateway(settings, auth=auth) as (_, client):
        account = await signed_up(client, "rsa_user")
        header = jwt.get_unverified_header(account.access)
        assert header["alg"] == "RS256"
        keys = (await client.get("/auth/jwks")).json()["keys"]
        assert [k["kty"] for k in keys] == ["RSA"]
        assert keys[0]["kid"] == header["kid"]
        assert "d" not in keys[0]
        assert "p" not in keys[0]
        assert (await _status_with(client, account.access)).status_code == 200
