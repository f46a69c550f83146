"""The `movieverse` command, driven as a user would (in-process through Typer's runner)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path

import aio_pika
import jwt
import pytest
from typer.testing import CliRunner

from movieverse.cli import app
from movieverse.platform.db import Database, utcnow
from movieverse.platform.events import new_event
from movieverse.platform.events.bus import DeadLetter
from movieverse.platform.events.deadletters import DeadLetterStore
from movieverse.platform.settings import PlatformSettings
from movieverse.services.auth.repository import AccountRepository
from tests.brokers import event_prefix, kafka_broker
from tests.platform.toy_service import NoteWritten
from tests.support import Stack, eventually, login, require_server, running_gateway

runner = CliRunner()


@pytest.fixture(scope="module")
def kafka_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with kafka_broker(tmp_path_factory.mktemp("kafka")) as url:
        yield url


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    for name in (
        "MOVIEVERSE_DATABASE_URL",
        "MOVIEVERSE_REDIS_URL",
        "MOVIEVERSE_ENVIRONMENT",
        "MOVIEVERSE_EVENT_BUS_URL",
    ):
        monkeypatch.delenv(name, raising=False)
    return {
        "MOVIEVERSE_VAR_DIR": str(tmp_path / "var"),
        "MOVIEVERSE_AUTH_ARGON2_MEMORY_KIB": "64",
        "MOVIEVERSE_AUTH_ARGON2_TIME_COST": "1",
        "COLUMNS": "200",
    }


@pytest.mark.parametrize(
    "command",
    [
        [],
        ["up"],
        ["serve"],
        ["migrate"],
        ["check"],
        ["users"],
        ["users", "create-admin"],
        ["dlq"],
        ["dlq", "list"],
        ["dlq", "replay"],
        ["dlq", "purge"],
        ["publish"],
        ["consume"],
        ["import"],
        ["import", "tmdb-csv"],
        ["import", "movielens"],
        ["demo-data"],
    ],
)
def test_every_command_has_help(command: list[str]) -> None:
    result = runner.invoke(app, [*command, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage" in result.output


def test_migrate_then_check_prints_the_store_table(env: dict[str, str]) -> None:
    migrated = runner.invoke(app, ["migrate"], env=env)
    assert migrated.exit_code == 0, migrated.output
    assert "migrated auth" in migrated.output
    assert "migrated users" in migrated.output
    checked = runner.invoke(app, ["check"], env=env)
    assert checked.exit_code == 0, checked.output
    for word in ("service", "reachable", "latency", "version", "auth", "users", "SQLite"):
        assert word in checked.output
    assert "no " not in checked.output


def test_check_fails_when_a_store_is_down(env: dict[str, str]) -> None:
    env = {**env, "MOVIEVERSE_USERS_DATABASE_URL": "postgresql://nobody@127.0.0.1:9/none"}
    result = runner.invoke(app, ["check"], env=env)
    assert result.exit_code == 1
    assert "no" in result.output


def test_migrate_one_service(env: dict[str, str]) -> None:
    result = runner.invoke(app, ["migrate", "users"], env=env)
    assert result.exit_code == 0
    assert "migrated users" in result.output
    assert "auth" not in result.output
    unknown = runner.invoke(app, ["migrate", "nosuch"], env=env)
    assert unknown.exit_code == 2
    assert "Unknown service" in unknown.output


def test_create_admin_creates_then_promotes(env: dict[str, str], tmp_path: Path) -> None:
    args = ["users", "create-admin", "--email", "Root@Example.org", "--username", "chief"]
    result = runner.invoke(app, [*args, "--password", "projector-room-42"], env=env)
    assert result.exit_code == 0, result.output
    assert "chief <root@example.org> roles=user,admin" in result.output
    again = runner.invoke(app, [*args, "--password", "projector-room-42"], env=env)
    assert again.exit_code == 0
    weak = runner.invoke(
        app,
        ["users", "create-admin", "--email", "b@example.org", "--username", "bob_admin"],
        input="password\npassword\n",
        env=env,
    )
    assert weak.exit_code == 1
    assert "not acceptable" in weak.output

    async def roles() -> list[str]:
        settings = PlatformSettings(environment="test", var_dir=tmp_path / "var")
        db = Database.connect(f"sqlite:///{tmp_path / 'var' / 'auth.db'}", settings)
        try:
            async with db.unit_of_work(write=False) as session:
                account = await AccountRepository(session).by_username("chief")
                assert account is not None
                return account.roles
        finally:
            await db.dispose()

    assert asyncio.run(roles()) == ["user", "admin"]


@pytest.mark.parametrize("command", [["up"], ["serve", "auth"], ["migrate"], ["check"]])
def test_production_refuses_unsafe_settings(env: dict[str, str], command: list[str]) -> None:
    env = {**env, "MOVIEVERSE_ENVIRONMENT": "production", "MOVIEVERSE_SECRET_KEY": "changeme"}
    result = runner.invoke(app, command, env=env)
    assert result.exit_code == 2
    assert "MOVIEVERSE_SECRET_KEY" in result.output


async def test_events_from_the_cli_are_delivered_when_the_server_starts(
    env: dict[str, str], tmp_path: Path
) -> None:
    """create-admin runs without the other services: its auth.user.registered waits in the
    outbox and reaches users once `movieverse up` starts."""
    # The command runs its own event loop, so it gets a thread of its own here.
    result = await asyncio.to_thread(
        runner.invoke,
        app,
        ["users", "create-admin", "--email", "boss@example.org", "--username", "boss_admin"],
        input="projector-room-42\nprojector-room-42\n",
        env=env,
    )
    assert result.exit_code == 0, result.output
    settings = Stack("embedded", database_url=None, redis_url=None).settings(tmp_path / "var")
    async with running_gateway(settings) as (_, client):

        async def profile_made() -> bool:
            return (await client.get("/users/boss_admin")).status_code == 200

        await eventually(profile_made)
        token = (await login(client, "boss_admin", "projector-room-42")).json()["access_token"]
        claims = jwt.decode(token, options={"verify_signature": False})
        assert claims["roles"] == ["user", "admin"]


def test_publish_and_consume_need_a_broker(env: dict[str, str]) -> None:
    result = runner.invoke(app, ["publish", "--queue", "q", "--message", "m"], env=env)
    assert result.exit_code == 2
    assert "MOVIEVERSE_EVENT_BUS_URL" in result.output


@pytest.mark.parametrize("broker", ["rabbitmq", "kafka"])
def test_publish_then_consume_on_a_real_broker(
    env: dict[str, str], broker: str, request: pytest.FixtureRequest
) -> None:
    url = (
        require_server("rabbitmq") if broker == "rabbitmq" else request.getfixturevalue("kafka_url")
    )
    env = {**env, "MOVIEVERSE_EVENT_BUS_URL": url}
    queue = f"mvtest-smoke-{uuid.uuid4().hex[:8]}"
    for text in ("first", "second"):
        published = runner.invoke(app, ["publish", "--queue", queue, "--message", text], env=env)
        assert published.exit_code == 0, published.output
    consumed = runner.invoke(app, ["consume", "--queue", queue, "--count", "2"], env=env)
    assert consumed.exit_code == 0, consumed.output
    assert consumed.output.splitlines()[:2] == ["first", "second"]
    # Acknowledged: they are gone.
    again = runner.invoke(app, ["consume", "--queue", queue, "--timeout", "1"], env=env)
    assert again.exit_code == 1


def test_migrate_declares_the_consumers_queues_on_rabbitmq(env: dict[str, str]) -> None:
    url = require_server("rabbitmq")
    prefix = event_prefix()
    env = {**env, "MOVIEVERSE_EVENT_BUS_URL": url, "MOVIEVERSE_EVENT_PREFIX": prefix}
    result = runner.invoke(app, ["migrate"], env=env)
    assert result.exit_code == 0, result.output
    assert "declared event topology" in result.output

    async def declared(name: str) -> bool:
        connection = await aio_pika.connect_robust(url)
        async with connection:
            channel = await connection.channel()
            try:
                await channel.declare_queue(name, passive=True)
            except aio_pika.exceptions.ChannelClosed:
                return False
            return True

    # users consumes auth.user.registered: its queue exists before either service ever ran.
    assert asyncio.run(declared(f"{prefix}users.create-profiles"))
    assert not asyncio.run(declared(f"{prefix}nobody.consumes-this"))


def test_dead_letters_are_listed_replayed_and_purged(env: dict[str, str], tmp_path: Path) -> None:
    store = DeadLetterStore(tmp_path / "var" / "dead-letters.db")
    event = new_event(NoteWritten(text="poison"), producer="toy", key="k1")
    letter = DeadLetter(
        group="toy.notes", event=event, error="ValueError('bad')", attempts=5, failed_at=utcnow()
    )
    asyncio.run(store.add(letter))
    listed = runner.invoke(app, ["dlq", "list"], env=env)
    assert listed.exit_code == 0, listed.output
    assert "toy.notes" in listed.output
    assert str(event.id) in listed.output
    assert "ValueError('bad')" in listed.output
    # Replay marks them for the running server's bus (the only one with the consumer) ...
    replayed = runner.invoke(app, ["dlq", "replay", "--group", "toy.notes"], env=env)
    assert "replayed 1 dead letter(s) of toy.notes" in replayed.output
    assert [i for i, _ in asyncio.run(store.to_replay({"toy.notes"}))]
    purged = runner.invoke(app, ["dlq", "purge", "--group", "toy.notes"], env=env)
    assert "purged 1 dead letter(s) of toy.notes" in purged.output
    assert asyncio.run(store.letters(None)) == []
