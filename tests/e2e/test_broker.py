"""The distributed shape's event flow: services in separate processes, a real broker between them,
and a relay killed mid-flight that loses nothing."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from movieverse.contracts.movies import MovieCreated
from movieverse.platform.db import utcnow
from movieverse.platform.events import Event, Subscription, new_event
from movieverse.platform.events.rabbitmq import RabbitMqEventBus
from tests.brokers import event_prefix, kafka_broker
from tests.e2e.conftest import start_server, stop_server
from tests.support import require_server

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def kafka_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with kafka_broker(tmp_path_factory.mktemp("kafka")) as url:
        yield url


def _broker_env(url: str) -> dict[str, str]:
    return {
        "MOVIEVERSE_EVENT_BUS_URL": url,
        "MOVIEVERSE_EVENT_PREFIX": event_prefix(),
        "MOVIEVERSE_KAFKA_SESSION_TIMEOUT_MS": "3000",
        "MOVIEVERSE_OUTBOX_POLL_SECONDS": "0.2",
    }


def _wait(check: object, *, within: float = 60.0, what: str) -> None:
    deadline = time.monotonic() + within
    while not check():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {within} s")
        time.sleep(0.1)


@pytest.mark.parametrize("broker", ["rabbitmq", "kafka"])
def test_services_in_separate_processes_exchange_events(
    tmp_path: Path, broker: str, request: pytest.FixtureRequest
) -> None:
    """auth and users as their own processes: registering at auth makes the profile at users
    (auth.user.registered), deleting the account at users ends its sign-in at auth
    (users.user.deleted) -- with no call between them, only events."""
    url = (
        require_server("rabbitmq") if broker == "rabbitmq" else request.getfixturevalue("kafka_url")
    )
    env = _broker_env(url)
    users = start_server(tmp_path, "serve", "users", **env)
    auth = start_server(tmp_path, "serve", "auth", **env)
    try:
        password = "separate-rooms-88"
        httpx.post(
            f"{auth.base_url}/auth/register",
            json={"email": "solo@example.org", "username": "solo_user", "password": password},
        ).raise_for_status()
        _wait(
            lambda: httpx.get(f"{users.base_url}/users/solo_user").status_code == 200,
            what="users made the profile from auth's event",
        )
        tokens = httpx.post(
            f"{auth.base_url}/auth/login", json={"login": "solo_user", "password": password}
        ).json()
        bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
        assert httpx.delete(f"{users.base_url}/users/me", headers=bearer).status_code == 204

        def signed_out() -> bool:
            login = httpx.post(
                f"{auth.base_url}/auth/login", json={"login": "solo_user", "password": password}
            )
            return login.status_code == 401

        _wait(signed_out, what="auth erased the account on users' event")
    finally:
        stop_server(auth)
        stop_server(users)


EVENTS = 5000


def _stage_events(database: Path) -> set[str]:
    """Committed changes' events, waiting in movies' outbox as a crash would leave them."""
    events = [
        new_event(
            MovieCreated(
                movie_id=i, tmdb_id=None, imdb_id=None, title=f"Movie {i}", original_title=None,
                original_language=None, overview=None, release_date=None, genres=[],
                popularity=0.0, vote_average=0.0, vote_count=0, adult=False,
            ),
            producer="movies",
            key=str(i),
        )
        for i in range(1, EVENTS + 1)
    ]  # fmt: skip
    now = utcnow().isoformat(" ")
    with sqlite3.connect(database) as conn:
        conn.executemany(
            "insert into movies_outbox (event_id, topic, event_key, body, created_at, attempts) "
            "values (?, ?, ?, ?, ?, 0)",
            [(str(e.id), e.topic, e.key, e.model_dump_json(), now) for e in events],
        )
    return {str(e.id) for e in events}


def _published(database: Path) -> int:
    with sqlite3.connect(database) as conn:
        count: int = conn.execute(
            "select count(*) from movies_outbox where published_at is not null"
        ).fetchone()[0]
        return count


def test_a_relay_killed_mid_flight_loses_no_event(tmp_path: Path) -> None:
    url = require_server("rabbitmq")
    env = _broker_env(url)
    subprocess_env = {k: v for k, v in os.environ.items() if not k.startswith("MOVIEVERSE_")}
    database = tmp_path / "var" / "movies.db"
    # The schema first (and the movies queues), then the staged events.
    migrate = start_migrate(tmp_path, {**subprocess_env, **env})
    assert migrate == 0
    staged = _stage_events(database)

    with BackgroundConsumer(url, env["MOVIEVERSE_EVENT_PREFIX"]) as seen:
        small_batches = {**env, "MOVIEVERSE_OUTBOX_BATCH_SIZE": "20"}
        first = start_server(tmp_path, "serve", "movies", **small_batches)
        _wait(lambda: _published(database) > 0, what="the relay started publishing")
        first.process.send_signal(signal.SIGKILL)  # mid-flight: no shutdown, no final flush
        first.process.wait()
        killed_at = _published(database)
        assert 0 < killed_at < EVENTS, f"the relay was not caught mid-flight ({killed_at})"

        second = start_server(tmp_path, "serve", "movies", **env)
        try:
            _wait(lambda: _published(database) == EVENTS, what="the restarted relay finished")
            _wait(lambda: staged <= set(seen), what="every staged event reached the consumer")
        finally:
            stop_server(second)
    assert set(seen) == staged  # all of them, and nothing else; repeats are allowed
    assert len(seen) >= EVENTS


class BackgroundConsumer:
    """A consumer group of the test's own on the broker, in a thread with its own event loop
    (the servers under test are subprocesses; this side only listens)."""

    def __init__(self, url: str, prefix: str) -> None:
        self.url, self.prefix = url, prefix
        self.seen: list[str] = []
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._stop = asyncio.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> list[str]:
        self._thread.start()
        _wait(self._ready.is_set, what="the test's consumer is subscribed")
        return self.seen

    def __exit__(self, *exc: object) -> None:
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout=30)

    def _run(self) -> None:
        self._loop.run_until_complete(self._consume())

    async def _consume(self) -> None:
        bus = RabbitMqEventBus(url=self.url, prefix=self.prefix)

        async def record(event: Event) -> None:
            self.seen.append(str(event.id))

        bus.subscribe(Subscription("relay-check", frozenset({MovieCreated.event_type}), record))
        await bus.start()
        await bus.ready()
        self._ready.set()
        try:
            await self._stop.wait()
        finally:
            await bus.stop()


def start_migrate(folder: Path, env: dict[str, str]) -> int:
    import subprocess
    import sys

    executable = Path(sys.executable).with_name("movieverse")
    done = subprocess.run(  # noqa: S603 -- our own entry point, fixed arguments
        [str(executable), "migrate", "movies"],
        env={**env, "MOVIEVERSE_VAR_DIR": str(folder / "var")},
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        raise AssertionError(done.stdout.decode() + done.stderr.decode())
    return done.returncode
