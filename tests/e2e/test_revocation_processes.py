"""Revocation in the distributed shape: auth, users and reviews as separate processes.

An ended session or a deleted account must be refused by the other processes too. With Redis
the revoking process writes the revocation to a sorted set and publishes it, and every process
hears it at once; without Redis (and without a shared var/ folder) only the events carry it,
through the broker to each service's own consumer group. Each case prints how long the other
processes took to refuse (the figure bench/revocation_latency.py measures properly).
"""

from __future__ import annotations

import secrets
import time
import uuid
from pathlib import Path

import httpx
import pytest

from tests.brokers import event_prefix
from tests.e2e.conftest import Server, start_server, stop_server
from tests.support import require_server

pytestmark = pytest.mark.e2e

PASSWORD = "separate-rooms-88"


def _refused_after(started: float, server: Server, path: str, token: str) -> float:
    """Seconds from ``started`` until ``server`` refuses the token (a hang guard of 60 s)."""
    bearer = {"Authorization": f"Bearer {token}"}
    while True:
        response = httpx.get(f"{server.base_url}{path}", headers=bearer, timeout=30)
        if response.status_code == 401:
            return time.monotonic() - started
        assert response.status_code == 200, response.text
        if time.monotonic() - started > 60:
            raise AssertionError(f"{path} still accepts the token after 60 s")
        time.sleep(0.01)


def _login(auth: Server) -> str:
    response = httpx.post(
        f"{auth.base_url}/auth/login", json={"login": "far_away", "password": PASSWORD}, timeout=30
    )
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


@pytest.mark.parametrize("fanout", ["redis", "events"])
def test_revocations_reach_every_process(tmp_path: Path, fanout: str) -> None:
    env = {
        "MOVIEVERSE_EVENT_BUS_URL": require_server("rabbitmq"),
        "MOVIEVERSE_EVENT_PREFIX": event_prefix(),
        "MOVIEVERSE_OUTBOX_POLL_SECONDS": "0.2",
        "MOVIEVERSE_SECRET_KEY": secrets.token_urlsafe(48),
    }
    if fanout == "redis":
        env["MOVIEVERSE_REDIS_URL"] = require_server("redis")
        env["MOVIEVERSE_REDIS_KEY_PREFIX"] = f"mvtest:{uuid.uuid4().hex[:12]}:"
    # Each process its own folder: no revocation file is shared, so only Redis or the events
    # can tell the others.
    for name in ("users", "reviews", "auth"):
        (tmp_path / name).mkdir()
    servers = {
        name: start_server(tmp_path / name, "serve", name, **env)
        for name in ("users", "reviews", "auth")
    }
    auth, users, reviews = servers["auth"], servers["users"], servers["reviews"]
    try:
        httpx.post(
            f"{auth.base_url}/auth/register",
            json={"email": "far@example.org", "username": "far_away", "password": PASSWORD},
            timeout=30,
        ).raise_for_status()
        token = _login(auth)
        for server, path in ((users, "/users/me"), (reviews, "/users/me/ratings")):
            ok = httpx.get(f"{server.base_url}{path}", headers={"Authorization": f"Bearer {token}"})
            assert ok.status_code == 200, ok.text

        # Logout at auth: users and reviews refuse the session's token.
        started = time.monotonic()
        bearer = {"Authorization": f"Bearer {token}"}
        assert httpx.post(f"{auth.base_url}/auth/logout", headers=bearer).status_code == 204
        logout_lag = {
            "users": _refused_after(started, users, "/users/me", token),
            "reviews": _refused_after(started, reviews, "/users/me/ratings", token),
        }

        # Account deleted at users: auth and reviews refuse every token of it.
        token = _login(auth)
        started = time.monotonic()
        bearer = {"Authorization": f"Bearer {token}"}
        assert httpx.delete(f"{users.base_url}/users/me", headers=bearer).status_code == 204
        deletion_lag = {
            "auth": _refused_after(started, auth, "/auth/me", token),
            "reviews": _refused_after(started, reviews, "/users/me/ratings", token),
        }
        detail = httpx.get(f"{reviews.base_url}/users/me/ratings", headers=bearer).json()
        assert detail["detail"] == "This account has been deleted"
        print(f"\n{fanout}: logout refused after {logout_lag}, deletion after {deletion_lag}")
    finally:
        for server in servers.values():
            stop_server(server)
