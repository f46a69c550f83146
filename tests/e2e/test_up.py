"""`movieverse up` started as a user would, driven over real HTTP on a loopback port."""

from __future__ import annotations

import signal
import sqlite3

import httpx
import pytest

from tests.e2e.conftest import Server

pytestmark = pytest.mark.e2e


def test_register_login_me_refresh_logout_over_http(server: Server) -> None:
    with httpx.Client(base_url=server.base_url, timeout=10) as client:
        registered = client.post(
            "/auth/register",
            json={
                "email": "e2e@example.org",
                "username": "e2e_user",
                "password": "reel-to-reel-35mm",
            },
        )
        assert registered.status_code == 201, registered.text
        user_id = registered.json()["id"]

        tokens = client.post(
            "/auth/login", json={"login": "e2e_user", "password": "reel-to-reel-35mm"}
        )
        assert tokens.status_code == 200, tokens.text
        pair = tokens.json()
        bearer = {"Authorization": f"Bearer {pair['access_token']}"}

        me = client.get("/users/me", headers=bearer)
        assert me.status_code == 200
        assert me.json()["user_id"] == user_id
        assert me.json()["username"] == "e2e_user"

        rotated = client.post("/auth/refresh", json={"refresh_token": pair["refresh_token"]})
        assert rotated.status_code == 200
        new_pair = rotated.json()
        assert new_pair["refresh_token"] != pair["refresh_token"]

        bearer = {"Authorization": f"Bearer {new_pair['access_token']}"}
        assert client.post("/auth/logout", headers=bearer).status_code == 204
        after = client.post("/auth/refresh", json={"refresh_token": new_pair["refresh_token"]})
        assert after.status_code == 401
        assert after.headers["content-type"] == "application/problem+json"

        assert client.get("/docs").status_code == 200
        assert client.get("/readyz").json()["ready"] is True


def test_sigterm_shuts_down_cleanly(server: Server) -> None:
    with httpx.Client(base_url=server.base_url, timeout=10) as client:
        response = client.post(
            "/auth/register",
            json={
                "email": "bye@example.org",
                "username": "bye_user",
                "password": "closing-credits-9",
            },
        )
        assert response.status_code == 201
    server.process.send_signal(signal.SIGTERM)
    # uvicorn finishes its graceful shutdown, then re-raises the signal it caught, so a clean
    # stop reports "terminated by SIGTERM" to the process manager.
    assert server.process.wait(timeout=30) in {0, -signal.SIGTERM}
    log = server.log.read_text()
    assert "Application shutdown complete" in log
    assert "Traceback" not in log
    # The registration's event left the outbox before the process exited.
    var_dir = server.log.parent / "var"
    with sqlite3.connect(var_dir / "auth.db") as conn:
        pending = conn.execute(
            "select count(*) from auth_outbox where published_at is null"
        ).fetchone()[0]
        total = conn.execute("select count(*) from auth_outbox").fetchone()[0]
    assert (total, pending) == (1, 0)
