"""Every answer sends ``X-Content-Type-Options: nosniff``; private ones ``Cache-Control: no-store``.

The platform's request middleware sets both (platform/headers.py): no-store wherever a route did
not choose its own cache policy, so a new private route cannot forget it, while the public
catalog reads keep their ``public, max-age`` and ETags.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.types import Message, Receive, Scope, Send

from movieverse.gateway.app import Gateway
from movieverse.platform.observability import RequestContextMiddleware
from tests.openapi_samples import Samples, operations
from tests.platform.toy_service import toy_client, toy_settings
from tests.support import admin_account, signed_up, stream_scope

# Waits that only guard against a hang: a stream's first bytes come in milliseconds.
HANG_GUARD_SECONDS = 30


def _cache_directives(response: httpx.Response) -> set[str]:
    value = response.headers.get("cache-control", "")
    return {part.strip().lower() for part in value.split(",") if part.strip()}


def _assert_private(response: httpx.Response, status: int) -> None:
    assert response.status_code == status, response.text
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "no-store" in _cache_directives(response), response.headers
    assert "public" not in _cache_directives(response)


def _assert_nosniff_once(response: httpx.Response) -> None:
    assert response.headers.get_list("x-content-type-options") == ["nosniff"]


async def test_tokens_and_account_data_are_never_stored(
    gateway: tuple[Gateway, httpx.AsyncClient],
) -> None:
    _, client = gateway
    registered = await client.post(
        "/auth/register",
        json={"email": "dee@example.org", "username": "dee_private", "password": "x" * 12},
    )
    _assert_private(registered, 201)
    assert registered.json()["username"] == "dee_private"
    logged_in = await client.post(
        "/auth/login", json={"login": "dee_private", "password": "x" * 12}
    )
    _assert_private(logged_in, 200)
    tokens = logged_in.json()
    assert tokens["access_token"]
    assert tokens["refresh_token"]
    refreshed = await client.post("/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    _assert_private(refreshed, 200)
    assert refreshed.json()["access_token"]
    headers = {"Authorization": f"Bearer {refreshed.json()['access_token']}"}

    me = await client.get("/auth/me", headers=headers)
    _assert_private(me, 200)
    assert me.json()["username"] == "dee_private"
    profile = await client.get("/users/me", headers=headers)
    _assert_private(profile, 200)
    assert profile.json()["username"] == "dee_private"
    for path in ["/users/me/preferences", "/users/me/watchlist", "/users/me/ratings"]:
        _assert_private(await client.get(path, headers=headers), 200)
    notifications = await client.get("/notifications", headers=headers)
    _assert_private(notifications, 200)
    assert notifications.json()["results"] == []
    recommended = await client.get("/recommendations/me", headers=headers)
    _assert_private(recommended, 200)
    # A failed login and a missing token are answers about accounts too.
    refused = await client.post("/auth/login", json={"login": "dee_private", "password": "no" * 6})
    _assert_private(refused, 401)
    assert refused.headers["content-type"] == "application/problem+json"
    _assert_private(await client.get("/users/me"), 401)


async def test_a_webhook_secret_is_never_stored(gateway: tuple[Gateway, httpx.AsyncClient]) -> None:
    _, client = gateway
    owner = await signed_up(client, "hook_private")
    made = await client.post(
        "/notifications/webhooks", json={"url": "http://127.0.0.1:9/hook"}, headers=owner.headers
    )
    _assert_private(made, 201)
    assert made.json()["secret"]
    _assert_private(await client.get("/notifications/webhooks", headers=owner.headers), 200)


async def test_public_catalog_reads_keep_their_cache_policy_and_etags(
    gateway: tuple[Gateway, httpx.AsyncClient],
) -> None:
    _, client = gateway
    viewer = await signed_up(client, "eve_public")
    for headers in [{}, viewer.headers]:
        movie = await client.get("/movies/7", headers=headers)
        assert movie.status_code == 200, movie.text
        assert movie.json()["id"] == 7
        assert movie.headers["cache-control"] == "public, max-age=60"
        assert movie.headers["x-content-type-options"] == "nosniff"
        etag = movie.headers["etag"]
        again = await client.get("/movies/7", headers={**headers, "If-None-Match": etag})
        assert again.status_code == 304
        assert again.content == b""
        assert (again.headers["etag"], again.headers["cache-control"]) == (
            etag,
            "public, max-age=60",
        )
        assert again.headers["x-content-type-options"] == "nosniff"
    reviews = await client.get("/movies/7/reviews")
    assert reviews.headers["cache-control"] == "public, max-age=30"
    asset = await client.get("/docs/assets/swagger-ui.css")
    assert asset.headers["cache-control"] == "public, max-age=86400"
    assert asset.headers["x-content-type-options"] == "nosniff"


async def test_the_gateways_own_routes_and_errors_send_both(
    gateway: tuple[Gateway, httpx.AsyncClient],
) -> None:
    gw, client = gateway
    for path, status in [
        ("/", 200),
        ("/healthz", 200),
        ("/readyz", 200),
        ("/docs", 200),
        ("/openapi.json", 200),
        ("/metrics", 200),
        ("/no-such-service", 404),
        ("/movies/424242", 404),
        ("/movies/popular?page=0", 400),
    ]:
        response = await client.get(path)
        _assert_private(response, status)
        _assert_nosniff_once(response)
    assert (await client.get("/docs")).headers["content-type"].startswith("text/html")

    admin = await admin_account(gw, client)
    invalid = await client.post("/movies", json={"title": ""}, headers=admin.headers)
    _assert_private(invalid, 422)
    assert invalid.json()["errors"][0]["field"] == "body.title"
    # Refused by the middleware itself, before any service runs.
    oversized = await client.post(
        "/movies/7/reviews",
        content=b"{}",
        headers={**admin.headers, "Content-Type": "application/json", "Content-Length": "1" * 12},
    )
    _assert_private(oversized, 413)
    assert oversized.json()["status"] == 413
    unstorable = await client.post(
        "/movies/7/reviews",
        content=b'{"title": "\\ud800"}',
        headers={**admin.headers, "Content-Type": "application/json"},
    )
    _assert_private(unstorable, 422)
    _assert_nosniff_once(unstorable)


async def test_every_authenticated_read_in_the_openapi_document_is_no_store(
    gateway: tuple[Gateway, httpx.AsyncClient],
) -> None:
    """Every GET that takes a token, in every service, answers with no-store (whatever the
    status: a 404 about a private thing is private too). The stream is checked below."""
    gw, client = gateway
    admin = await admin_account(gw, client)
    document = (await client.get("/openapi.json")).json()
    samples = Samples(
        document, path_values={"movie_id": "7", "user_id": admin.user_id, "list_kind": "seen"}
    )
    reads = [
        op
        for op in operations(document)
        if op.method == "GET" and op.needs_auth and op.template != "/notifications/stream"
    ]
    for operation in reads:
        response = await client.get(samples.path(operation), headers=admin.headers)
        assert response.status_code < 500, f"{operation}: {response.text}"
        try:
            _assert_private(response, response.status_code)
        except AssertionError as failure:
            raise AssertionError(f"{operation}: {failure}") from failure
    checked = {str(op) for op in reads}
    assert {"GET /users/me", "GET /auth/me", "GET /notifications"} <= checked
    assert {"GET /recommendations/me", "GET /reviews/reports", "GET /indexer/status"} <= checked
    assert len(checked) >= 15


async def test_the_notification_stream_is_no_store_and_still_streams(
    gateway: tuple[Gateway, httpx.AsyncClient],
) -> None:
    """Driven at the ASGI level: an HTTP client would wait for the endless body."""
    gw, client = gateway
    listener = await signed_up(client, "sse_private")
    admin = await admin_account(gw, client)
    scope: Scope = stream_scope(listener.access)
    hang_up = asyncio.Event()
    sent: list[Message] = []
    started = asyncio.Event()
    streamed = bytearray()
    told = asyncio.Event()
    requested = False

    async def receive() -> Message:
        nonlocal requested
        if not requested:
            requested = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await hang_up.wait()
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)
        if message["type"] == "http.response.start":
            started.set()
        streamed.extend(message.get("body", b""))
        if b"Matinee at noon" in streamed:
            told.set()

    serving = asyncio.create_task(gw(scope, receive, send))
    try:
        await asyncio.wait_for(started.wait(), HANG_GUARD_SECONDS)
        news = {"title": "Matinee at noon", "body": "Free popcorn."}
        told_everyone = await client.post(
            "/notifications/broadcasts", json=news, headers=admin.headers
        )
        assert told_everyone.status_code == 201, told_everyone.text
        await asyncio.wait_for(told.wait(), HANG_GUARD_SECONDS)
    finally:
        hang_up.set()
        await asyncio.wait_for(serving, HANG_GUARD_SECONDS)
    start = sent[0]
    assert start["type"] == "http.response.start"
    assert start["status"] == 200
    headers = {k.decode().lower(): v.decode() for k, v in start["headers"]}
    assert headers["content-type"].startswith("text/event-stream")
    assert headers["x-content-type-options"] == "nosniff"
    assert "no-store" in headers["cache-control"]


# The middleware's own answers, on a service alone


async def test_a_crash_answers_500_with_both_headers(tmp_path: Path) -> None:
    async with toy_client(toy_settings(tmp_path)) as client:
        crashed = await client.post("/toy/notes?fail=crash", json={"text": "boom"})
        _assert_private(crashed, 500)
        assert crashed.json()["status"] == 500

        async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: the limit counts
            yield b'{"text": "'
            for _ in range(8):
                yield b"x" * 512
            yield b'"}'

        streamed = await client.post(
            "/toy/notes", content=chunks(), headers={"Content-Type": "application/json"}
        )
        _assert_private(streamed, 413)


@pytest.mark.parametrize("content_type", [b"application/json", b"text/plain"])
async def test_an_exception_past_every_handler_answers_500_with_both_headers(
    content_type: bytes,
) -> None:
    async def exploding(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        raise RuntimeError("a bug")

    app = RequestContextMiddleware(exploding, service="toy", max_body_bytes=1024)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://toy.test") as client:
        response = await client.post(
            "/anything", content=b"{}", headers={"Content-Type": content_type.decode()}
        )
    _assert_private(response, 500)
    body: dict[str, Any] = response.json()
    assert body["detail"].startswith("An unexpected error occurred")
