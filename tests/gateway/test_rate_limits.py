"""Rate limits through the gateway, on the embedded stack and on PostgreSQL + Redis.

The limits are the shipped defaults unless a test names its own; a refused request answers a
429 problem with Retry-After and the IETF RateLimit fields, and stores nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx

from movieverse.gateway.app import Gateway
from movieverse.platform.settings import PlatformSettings
from tests.support import PASSWORD, Stack, admin_account, running_gateway, signed_up

OTHER_ADDRESS = ("198.51.100.23", 40000)


@asynccontextmanager
async def app(
    stack: Stack, tmp_path: Path, **overrides: Any
) -> AsyncIterator[tuple[Gateway, httpx.AsyncClient]]:
    # The suite's own settings raise some limits for tests that poll (tests/support.py); these
    # tests put the shipped defaults back, then apply their own.
    defaults = {name: field.default for name, field in PlatformSettings.model_fields.items()}
    shipped = {k: v for k, v in defaults.items() if k.startswith("rate_limit")}
    settings = stack.settings(tmp_path / "var", **{**shipped, **overrides})
    async with running_gateway(settings) as pair:
        yield pair


def other_client(gateway: Gateway) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=gateway, client=OTHER_ADDRESS)
    return httpx.AsyncClient(transport=transport, base_url="http://movieverse.test")


def assert_refused(response: httpx.Response, policy: str) -> None:
    assert response.status_code == 429, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == 429
    assert body["type"] == "urn:movieverse:problem:too-many-requests"
    wait = int(response.headers["retry-after"])
    assert wait >= 1
    assert response.headers["ratelimit"] == f'"{policy}";r=0;t={wait}'
    assert f'"{policy}";q=' in response.headers["ratelimit-policy"]


async def test_a_burst_of_comments_keeps_the_quota_and_stores_no_more(
    stack: Stack, tmp_path: Path
) -> None:
    async with app(stack, tmp_path) as (_, client):
        author, chatty, quiet = [
            await signed_up(client, n) for n in ("rl_author", "rl_chatty", "rl_quiet")
        ]
        review = await client.post(
            "/movies/1/reviews", json={"title": "Hm"}, headers=author.headers
        )
        assert review.status_code == 201, review.text
        comments = f"/reviews/{review.json()['id']}/comments"

        answers = [
            await client.post(comments, json={"body": f"first! {n}"}, headers=chatty.headers)
            for n in range(100)
        ]
        codes = [a.status_code for a in answers]
        # The default: 10 a minute per account.
        assert codes == [201] * 10 + [429] * 90
        assert_refused(answers[10], "comment-user-60s")
        assert "Too many comments" in answers[10].json()["detail"]

        listed = (await client.get(comments, params={"per_page": 100})).json()
        assert listed["total_results"] == 10
        # Another account is not held back by the first one's quota.
        other = await client.post(comments, json={"body": "hello"}, headers=quiet.headers)
        assert other.status_code == 201, other.text


async def test_sign_ups_are_limited_per_address_and_a_forged_forward_changes_nothing(
    stack: Stack, tmp_path: Path
) -> None:
    async with app(stack, tmp_path) as (gateway, client):

        async def sign_up(c: httpx.AsyncClient, name: str, **headers: str) -> httpx.Response:
            body = {"email": f"{name}@example.org", "username": name, "password": PASSWORD}
            return await c.post("/auth/register", json=body, headers=headers)

        codes = [(await sign_up(client, f"rl_signup_{n}")).status_code for n in range(10)]
        assert codes == [201] * 10  # the default: 10 a minute per address
        refused = await sign_up(client, "rl_signup_x")
        assert_refused(refused, "register-ip-60s")
        # A client cannot pick its own address: no proxy is trusted, so the header is ignored.
        forged = await sign_up(client, "rl_signup_y", **{"X-Forwarded-For": "192.0.2.200"})
        assert forged.status_code == 429
        async with other_client(gateway) as elsewhere:
            assert (await sign_up(elsewhere, "rl_signup_z")).status_code == 201
        created = await client.post(
            "/auth/login", json={"login": "rl_signup_x", "password": PASSWORD}
        )
        assert created.status_code == 401  # the refused sign-up made no account


async def test_search_is_limited_per_address_or_per_account(stack: Stack, tmp_path: Path) -> None:
    async with app(
        stack, tmp_path, rate_limit_search_ip="4/minute", rate_limit_search="6/minute"
    ) as (gateway, client):
        reader = await signed_up(client, "rl_reader")
        anonymous = [
            (await client.get("/search/movies", params={"q": "catalog"})).status_code
            for _ in range(5)
        ]
        assert anonymous == [200] * 4 + [429]
        refused = await client.get("/search/suggest", params={"q": "cat"})
        assert_refused(refused, "search-ip-60s")
        # Signed in, the same address searches on the account's own quota.
        signed_in = [
            (
                await client.get("/search/movies", params={"q": "catalog"}, headers=reader.headers)
            ).status_code
            for _ in range(7)
        ]
        assert signed_in == [200] * 6 + [429]
        async with other_client(gateway) as elsewhere:
            assert (await elsewhere.get("/search/movies", params={"q": "x"})).status_code == 200
            # An administrator has no account quota: their address's counts, as for writes.
            admin = await admin_account(gateway, elsewhere, "rl_search_admin")
            as_admin = [
                (
                    await elsewhere.get("/search/movies", params={"q": "x"}, headers=admin.headers)
                ).status_code
                for _ in range(4)
            ]
            assert as_admin == [200] * 3 + [429]


async def test_every_write_family_is_limited(stack: Stack, tmp_path: Path) -> None:
    """One request over a quota of one, for each family: the limit sits on every route."""
    one = "1/minute"
    families = ("rating", "review", "like", "report", "webhook", "list")
    async with app(stack, tmp_path, **{f"rate_limit_{f}": one for f in families}) as pair:
        gateway, client = pair
        ann, bob = await signed_up(client, "rl_ann"), await signed_up(client, "rl_bob")
        a, b = ann.headers, bob.headers
        review = await client.post("/movies/1/reviews", json={"title": "Ok"}, headers=b)
        assert review.status_code == 201, review.text
        rid = review.json()["id"]
        hook = {"url": "https://hooks.example.org/movieverse"}
        steps: list[tuple[str, str, str, dict[str, Any] | None]] = [
            ("rating", "PUT", "/movies/2/rating", {"value": 7}),
            ("rating", "DELETE", "/movies/2/rating", None),
            ("review", "POST", "/movies/3/reviews", {"title": "Fine"}),
            ("review", "POST", "/movies/4/reviews", {"title": "Finer"}),
            ("like", "PUT", f"/reviews/{rid}/like", None),
            ("like", "DELETE", f"/reviews/{rid}/like", None),
            ("report", "POST", f"/reviews/{rid}/report", {"reason": "spam"}),
            ("report", "POST", f"/reviews/{rid}/report", {"reason": "spam"}),
            ("webhook", "POST", "/notifications/webhooks", hook),
            ("webhook", "POST", "/notifications/webhooks", hook),
            ("list", "PUT", "/users/me/watchlist/5", None),
            ("list", "DELETE", "/users/me/watchlist/5", None),
        ]
        seen: dict[str, list[int]] = {}
        for family, method, path, body in steps:
            response = await client.request(method, path, json=body, headers=a)
            seen.setdefault(family, []).append(response.status_code)
            if len(seen[family]) == 2:
                assert_refused(response, f"{family}-user-60s")
        # The first may fail for its own reasons (no webhook to a private address); the second
        # is refused before its body is even looked at.
        assert all(codes[0] != 429 and codes[1] == 429 for codes in seen.values()), seen
        # An administrator has no per-account quota (the address's still applies).
        admin = await admin_account(gateway, client, "rl_admin")
        for movie in (6, 7, 8):
            rated = await client.put(
                f"/movies/{movie}/rating", json={"value": 6}, headers=admin.headers
            )
            assert rated.status_code < 400, rated.text


async def test_switched_off_nothing_is_limited(stack: Stack, tmp_path: Path) -> None:
    async with app(stack, tmp_path, rate_limits_enabled=False, rate_limit_search_ip="1/minute") as (
        _,
        client,
    ):
        answers = await asyncio.gather(
            *(client.get("/search/movies", params={"q": "catalog"}) for _ in range(3))
        )
        assert [a.status_code for a in answers] == [200] * 3
