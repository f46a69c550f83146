"""Notifications runs on SQLite and, where PostgreSQL is configured, on PostgreSQL; its email goes
to a real SMTP server (aiosmtpd on loopback) and its webhooks to a real HTTP receiver."""

from __future__ import annotations

import socket
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller

from movieverse.gateway.app import Gateway, create_gateway
from movieverse.services.notifications.settings import NotificationsSettings
from tests.support import (
    Account,
    Stack,
    admin_account,
    fast_auth_settings,
    fresh_database,
    start_from_migrated_sqlite,
)

NotificationsApp = tuple[Gateway, httpx.AsyncClient]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Mailbox:
    messages: list[EmailMessage] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        return "250 Message accepted"


# Notifications and the services whose events it turns into notices.
NOTIFICATIONS_AND_PEERS = ("auth", "users", "movies", "reviews", "notifications")


@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    box = Mailbox()
    port = _free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield box, port
    finally:
        controller.stop()


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes


class Receiver:
    """A webhook receiver on 127.0.0.1: records every delivery, and answers ``status``."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.status = 200
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                receiver.received.append(Received(dict(self.headers.items()), body))
                self.send_response(receiver.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks/movieverse"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    running = Receiver()
    running.thread.start()
    try:
        yield running
    finally:
        running.server.shutdown()
        running.server.server_close()


@pytest.fixture(params=["sqlite", "postgres"])
async def notifications_database(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[None]:
    if request.param == "sqlite":
        monkeypatch.delenv("MOVIEVERSE_NOTIFICATIONS_DATABASE_URL", raising=False)
        yield
        return
    async with fresh_database(
        "postgres", prefix="mv_notifications", migrated_for=("notifications",)
    ) as url:
        monkeypatch.setenv("MOVIEVERSE_NOTIFICATIONS_DATABASE_URL", url)
        yield


@pytest.fixture
async def notifications(
    notifications_database: None, tmp_path: Path, mailbox: tuple[Mailbox, int]
) -> AsyncIterator[NotificationsApp]:
    _, smtp_port = mailbox
    settings = Stack("embedded", database_url=None, redis_url=None).settings(tmp_path / "var")
    own = NotificationsSettings(
        smtp_url=f"smtp://127.0.0.1:{smtp_port}",
        worker_poll_seconds=0.05,
        digest_seconds=0.3,
        webhook_attempts=3,
        webhook_retry_seconds=0.05,
        webhook_disable_after=2,
    )
    await start_from_migrated_sqlite(settings)
    gateway = create_gateway(
        settings,
        only=NOTIFICATIONS_AND_PEERS,
        service_overrides={"auth": fast_auth_settings(), "notifications": own},
    )
    async with gateway.edge.router.lifespan_context(gateway.edge):
        transport = httpx.ASGITransport(app=gateway)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://notifications.test"
        ) as client:
            yield gateway, client


@pytest.fixture(params=["sqlite", "postgres", "mysql"])
async def any_database(request: pytest.FixtureRequest) -> AsyncIterator[str | None]:
    """None: notifications' embedded SQLite file; else a fresh database on the server."""
    if request.param == "sqlite":
        yield None
        return
    migrated = ("notifications",) if request.param == "postgres" else ()
    async with fresh_database(
        request.param, prefix="mv_notifications", migrated_for=migrated
    ) as url:
        yield url


@asynccontextmanager
async def notifications_gateway(
    tmp_path: Path, *, database_url: str | None = None, **own: Any
) -> AsyncIterator[NotificationsApp]:
    """A gateway whose notifications use ``database_url`` and these settings (quick retries by
    default), with rate limits off: tests that send a hundred likes are not about limits."""
    settings = Stack("embedded", database_url=None, redis_url=None).settings(
        tmp_path / "var", rate_limits_enabled=False
    )
    values: dict[str, Any] = {
        "database_url": database_url,
        "worker_poll_seconds": 0.05,
        "webhook_attempts": 3,
        "webhook_retry_seconds": 0.05,
        "webhook_disable_after": 2,
        **own,
    }
    await start_from_migrated_sqlite(settings)
    gateway = create_gateway(
        settings,
        only=NOTIFICATIONS_AND_PEERS,
        service_overrides={
            "auth": fast_auth_settings(),
            "notifications": NotificationsSettings(**values),
        },
    )
    async with gateway.edge.router.lifespan_context(gateway.edge):
        transport = httpx.ASGITransport(app=gateway)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://notifications.test"
        ) as client:
            yield gateway, client


@pytest.fixture
async def admin(notifications: NotificationsApp) -> Account:
    gateway, client = notifications
    return await admin_account(gateway, client, "notify_admin")


@pytest.fixture
async def heat(notifications: NotificationsApp, admin: Account) -> int:
    _, client = notifications
    response = await client.post("/movies", json={"title": "Heat"}, headers=admin.headers)
    assert response.status_code == 201, response.text
    movie_id: int = response.json()["id"]
    return movie_id
