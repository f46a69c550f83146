"""The live notification stream, read by a real Server-Sent Events client from a real server:
events arrive as they happen, and a reconnect with Last-Event-ID gets what was missed."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from httpx_sse import connect_sse

from tests.e2e.conftest import start_server, stop_server

pytestmark = pytest.mark.e2e
PASSWORD = "stream-of-frames-24"


def _create_admin(folder: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MOVIEVERSE_")}
    env["MOVIEVERSE_VAR_DIR"] = str(folder / "var")
    executable = Path(sys.executable).with_name("movieverse")
    subprocess.run(  # noqa: S603 -- our own entry point, fixed arguments
        [str(executable), "users", "create-admin", "--email", "boss@example.org",
         "--username", "stream_admin", "--password", PASSWORD],
        env=env, check=True, capture_output=True,
    )  # fmt: skip


def _account(client: httpx.Client, username: str, *, register: bool = True) -> dict[str, str]:
    if register:
        registered = client.post(
            "/auth/register",
            json={"email": f"{username}@example.org", "username": username, "password": PASSWORD},
        )
        assert registered.status_code == 201, registered.text
    tokens = client.post("/auth/login", json={"login": username, "password": PASSWORD}).json()
    return {"Authorization": f"Bearer {tokens['access_token']}"}


def _listen(
    base_url: str, headers: dict[str, str], received: list[Any], stop_after: int
) -> threading.Thread:
    """Read the stream in a thread until ``stop_after`` notifications came."""

    def run() -> None:
        with (
            httpx.Client(base_url=base_url, timeout=httpx.Timeout(30, read=30)) as client,
            connect_sse(client, "GET", "/notifications/stream", headers=headers) as source,
        ):
            assert source.response.headers["content-type"].startswith("text/event-stream")
            for event in source.iter_sse():
                if event.event == "notification":
                    received.append(event)
                if len(received) >= stop_after:
                    return

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def test_the_stream_delivers_live_and_resumes_with_last_event_id(tmp_path: Path) -> None:
    _create_admin(tmp_path)
    server = start_server(tmp_path)
    try:
        with httpx.Client(base_url=server.base_url, timeout=10) as client:
            admin = _account(client, "stream_admin", register=False)
            heat = client.post("/movies", json={"title": "Heat"}, headers=admin).json()["id"]
            author = _account(client, "stream_author")
            review = client.post(
                f"/movies/{heat}/reviews", json={"title": "Live"}, headers=author
            ).json()["id"]

            received: list[Any] = []
            listener = _listen(server.base_url, author, received, stop_after=1)
            time.sleep(0.5)  # connected and waiting
            client.put(f"/reviews/{review}/like", headers=_account(client, "stream_fan"))
            listener.join(timeout=20)
            assert len(received) == 1, "no live event arrived"
            first = received[0]
            assert first.json()["title"] == "stream_fan liked your review"

            # While nobody listens, another like; a reconnect from the first event's id gets it.
            client.put(f"/reviews/{review}/like", headers=_account(client, "stream_fan2"))
            time.sleep(0.5)
            resumed: list[Any] = []
            headers = {**author, "Last-Event-ID": first.id}
            _listen(server.base_url, headers, resumed, stop_after=1).join(timeout=20)
            assert [e.json()["title"] for e in resumed] == ["stream_fan2 liked your review"]
            assert int(resumed[0].id) > int(first.id)
    finally:
        stop_server(server)


def test_the_stream_refuses_bad_requests_with_problems(tmp_path: Path) -> None:
    server = start_server(tmp_path)
    try:
        with httpx.Client(base_url=server.base_url, timeout=10) as client:
            anonymous = client.get("/notifications/stream")
            assert anonymous.status_code == 401
            assert anonymous.headers["content-type"].startswith("application/problem+json")
            headers = {**_account(client, "stream_doubter"), "Last-Event-ID": "9" * 40}
            too_long = client.get("/notifications/stream", headers=headers)
            # A bad parameter (query or header) is a 400 naming it, as everywhere in the API.
            assert too_long.status_code == 400
            assert "Last-Event-ID" in too_long.text, too_long.text
    finally:
        stop_server(server)
