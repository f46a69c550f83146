"""The `movieverse` command, driven as a user would (in-process through Typer's runner)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import jwt
import pytest
from typer.testing import CliRunner

from movieverse.cli import app
from movieverse.platform.db import Database
from movieverse.platform.settings import PlatformSettings
from movieverse.services.auth.repository import AccountRepository
from tests.support import Stack, eventually, login, running_gateway

runner = CliRunner()


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    for name in ("MOVIEVERSE_DATABASE_URL", "MOVIEVERSE_REDIS_URL", "MOVIEVERSE_ENVIRONMENT"):
        monkeypatch.delenv(name, raising=False)
    return {
        "MOVIEVERSE_VAR_DIR": str(tmp_path / "var"),
        "MOVIEVERSE_AUTH_ARGON2_MEMORY_KIB": "64",
        "MOVIEVERSE_AUTH_ARGON2_TIME_COST": "1",
        "COLUMNS": "200",
    }


@pytest.mark.parametrize(
    "command",
    [[], ["up"], ["serve"], ["migrate"], ["check"], ["users"], ["users", "create-admin"]],
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
