"""An open notification stream ends when its caller may no longer have it: the session ended
(logout, logout-all, a password change), the account was deleted, or the access token expired.
The token was checked only when the stream opened, and a stream outlived all of those.

Driven at the ASGI level: an HTTP client would wait for the endless body."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import orjson
import pytest
from starlette.types import Message

from movieverse.gateway.app import Gateway
from movieverse.services.notifications.stream import StreamHub
from tests.services.notifications.conftest import notifications_gateway
from tests.support import Account, admin_account, signed_up, stream_scope

# Waits that only guard against a hang: what they wait for takes well under a second.
HANG_GUARD_SECONDS = 30


@dataclass
class OpenStream:
    """A stream being served: what it sent so far, and when it has ended."""

    serving: asyncio.Task[None]
    body: bytearray = field(default_factory=bytearray)
    started: asyncio.Event = field(default_factory=asyncio.Event)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)  # set at each body chunk

    async def wait_for(self, text: bytes) -> None:
        while text not in self.body:
            self.arrived.clear()
            await asyncio.wait_for(self.arrived.wait(), HANG_GUARD_SECONDS)

    def events(self, kind: str) -> list[dict[str, object]]:
        """The data of every event of this kind, as JSON."""
        found = []
        for block in bytes(self.body).replace(b"\r\n", b"\n").split(b"\n\n"):
            lines = block.split(b"\n")
            if f"event: {kind}".encode() in lines:
                data = b"".join(line[6:] for line in lines if line.startswith(b"data: "))
                found.append(orjson.loads(data))
        return found


@asynccontextmanager
async def open_stream(gateway: Gateway, account: Account) -> AsyncIterator[OpenStream]:
    """GET /notifications/stream as ``account``; the client hangs up on leaving (if the stream
    has not ended by then)."""
    hang_up = asyncio.Event()
    requested = False

    async def receive() -> Message:
        nonlocal requested
        if not requested:
            requested = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await hang_up.wait()
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        if message["type"] == "http.response.start":
            assert message["status"] == 200, message
            stream.started.set()
        stream.body.extend(message.get("body", b""))
        stream.arrived.set()

    scope = stream_scope(account.access, host="notifications.test")
    stream = OpenStream(serving=asyncio.create_task(gateway(scope, receive, send)))
    try:
        await asyncio.wait_for(stream.started.wait(), HANG_GUARD_SECONDS)
        yield stream
    finally:
        hang_up.set()
        await asyncio.wait_for(stream.serving, HANG_GUARD_SECONDS)


async def _broadcast(client: httpx.AsyncClient, admin: Account, title: str) -> None:
    told = await client.post(
        "/notifications/broadcasts", json={"title": title, "body": "."}, headers=admin.headers
    )
    assert told.status_code == 201, told.text


Ending = Callable[[httpx.AsyncClient, Account], Awaitable[httpx.Response]]


async def _logout(client: httpx.AsyncClient, account: Account) -> httpx.Response:
    return await client.post("/auth/logout", headers=account.headers)


async def _logout_all(client: httpx.AsyncClient, account: Account) -> httpx.Response:
    return await client.post("/auth/logout-all", headers=account.headers)


async def _change_password(client: httpx.AsyncClient, account: Account) -> httpx.Response:
    body = {"current_password": account.password, "new_password": "a-whole-new-reel-77"}
    return await client.post("/auth/password", json=body, headers=account.headers)


async def _delete_account(client: httpx.AsyncClient, account: Account) -> httpx.Response:
    return await client.delete("/users/me", headers=account.headers)


ENDINGS: dict[str, tuple[Ending, str]] = {
    "logout": (_logout, "This session has ended; sign in again"),
    "logout-all": (_logout_all, "This session has ended; sign in again"),
    "password-change": (_change_password, "This session has ended; sign in again"),
    "account-deleted": (_delete_account, "This account has been deleted"),
}


@pytest.mark.parametrize("ending", ENDINGS.values(), ids=ENDINGS.keys())
async def test_a_stream_ends_when_its_session_or_account_does(
    tmp_path: Path, ending: tuple[Ending, str]
) -> None:
    end, reason = ending
    async with notifications_gateway(tmp_path, run_worker=False) as (gateway, client):
        listener = await signed_up(client, "stream_listener")
        admin = await admin_account(gateway, client, "stream_admin")
        async with open_stream(gateway, listener) as stream:
            # Live first: the stream is running and delivering.
            await _broadcast(client, admin, "Before the curtain")
            await stream.wait_for(b"Before the curtain")
            ended = await end(client, listener)
            assert ended.status_code == 204, ended.text
            # It ends by itself (the client never hangs up): within a standing check, here
            # only guarded against a hang.
            await asyncio.wait_for(stream.serving, HANG_GUARD_SECONDS)
            assert stream.events("end") == [{"reason": reason}]
            await _broadcast(client, admin, "After the curtain")
        assert b"After the curtain" not in stream.body


async def test_a_stream_ends_when_its_access_token_expires(tmp_path: Path) -> None:
    async with notifications_gateway(tmp_path, run_worker=False) as (gateway, client):
        listener = await signed_up(client, "stream_expiring")
        hub: StreamHub = gateway.services["notifications"].state.ctx.runtime.hub
        async with open_stream(gateway, listener) as stream:
            # The stream's clock moves a day on: the 15-minute token has run out (leeway and all).
            hub.clock = lambda: time.time() + 24 * 3600
            await asyncio.wait_for(stream.serving, HANG_GUARD_SECONDS)
            assert stream.events("end") == [{"reason": "The access token has expired"}]


async def test_a_stream_of_a_standing_caller_goes_on(tmp_path: Path) -> None:
    """Another session's logout ends only that session's streams."""
    async with notifications_gateway(tmp_path, run_worker=False) as (gateway, client):
        listener = await signed_up(client, "stream_stayer")
        admin = await admin_account(gateway, client, "stream_admin")
        other_session = await client.post(
            "/auth/login", json={"login": listener.username, "password": listener.password}
        )
        assert other_session.status_code == 200, other_session.text
        other_access = other_session.json()["access_token"]
        async with open_stream(gateway, listener) as stream:
            out = await client.post(
                "/auth/logout", headers={"Authorization": f"Bearer {other_access}"}
            )
            assert out.status_code == 204, out.text
            await _broadcast(client, admin, "Still showing")
            await stream.wait_for(b"Still showing")
            assert not stream.serving.done()
            assert stream.events("end") == []
