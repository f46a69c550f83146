"""Settings resolution and the production guard-rails."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError

from movieverse.platform.settings import (
    ConfigurationError,
    PlatformSettings,
    resolve_database_url,
    resolve_redis_url,
)
from movieverse.services.auth.settings import AuthSettings
from movieverse.services.users.settings import UsersSettings

STRONG_SECRET = "k3J9xQ2vL8mN4pR7tY1wZ5aB6cD0eF3gH8iJ2kL5mN9o"


def test_service_url_falls_back_to_global_then_sqlite(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("MOVIEVERSE_DATABASE_URL", raising=False)
    monkeypatch.delenv("MOVIEVERSE_AUTH_DATABASE_URL", raising=False)
    monkeypatch.setenv("MOVIEVERSE_VAR_DIR", str(tmp_path))
    platform = PlatformSettings()
    assert resolve_database_url(platform, AuthSettings(), "auth") == (
        f"sqlite+aiosqlite:///{tmp_path.resolve()}/auth.db"
    )
    monkeypatch.setenv("MOVIEVERSE_DATABASE_URL", "postgresql://db.internal/movieverse")
    platform = PlatformSettings()
    assert resolve_database_url(platform, AuthSettings(), "auth") == (
        "postgresql://db.internal/movieverse"
    )
    monkeypatch.setenv("MOVIEVERSE_AUTH_DATABASE_URL", "postgresql://auth-db.internal/auth")
    assert resolve_database_url(platform, AuthSettings(), "auth") == (
        "postgresql://auth-db.internal/auth"
    )
    # Another service is unaffected by auth's own URL.
    assert resolve_database_url(platform, UsersSettings(), "users") == (
        "postgresql://db.internal/movieverse"
    )


def test_redis_url_falls_back_to_global(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOVIEVERSE_REDIS_URL", "redis://cache:6379/0")
    monkeypatch.setenv("MOVIEVERSE_USERS_REDIS_URL", "redis://users-cache:6379/1")
    platform = PlatformSettings()
    assert resolve_redis_url(platform, AuthSettings()) == "redis://cache:6379/0"
    assert resolve_redis_url(platform, UsersSettings()) == "redis://users-cache:6379/1"


def test_pool_settings_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOVIEVERSE_DB_POOL_SIZE", "17")
    monkeypatch.setenv("MOVIEVERSE_DB_MAX_OVERFLOW", "3")
    monkeypatch.setenv("MOVIEVERSE_DB_POOL_RECYCLE_SECONDS", "120")
    settings = PlatformSettings()
    assert (settings.db_pool_size, settings.db_max_overflow) == (17, 3)
    assert settings.db_pool_recycle_seconds == 120


def test_auto_migrate_defaults_by_environment() -> None:
    assert PlatformSettings(environment="development").auto_migrate_enabled is True
    assert (
        PlatformSettings(
            environment="production", secret_key=SecretStr(STRONG_SECRET)
        ).auto_migrate_enabled
        is False
    )


def test_trusted_proxies_parse_from_csv(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOVIEVERSE_TRUSTED_PROXIES", "10.0.0.0/8, 127.0.0.1")
    assert PlatformSettings().trusted_proxies == ["10.0.0.0/8", "127.0.0.1"]
    monkeypatch.setenv("MOVIEVERSE_TRUSTED_PROXIES", "not-an-ip")
    with pytest.raises(ValidationError):
        PlatformSettings()


def _production(**values: object) -> PlatformSettings:
    base: dict[str, object] = {"environment": "production", "secret_key": STRONG_SECRET}
    base.update(values)
    return PlatformSettings.model_validate(base)


def test_a_good_production_configuration_passes() -> None:
    _production().ensure_safe()


@pytest.mark.parametrize(
    ("values", "setting", "reason"),
    [
        ({"secret_key": None}, "MOVIEVERSE_SECRET_KEY", "is not set"),
        ({"secret_key": "changeme"}, "MOVIEVERSE_SECRET_KEY", "well-known placeholder"),
        ({"secret_key": "s3cr3t-but-short"}, "MOVIEVERSE_SECRET_KEY", "too short"),
        ({"secret_key": "ab" * 40}, "MOVIEVERSE_SECRET_KEY", "too predictable"),
        ({"auto_migrate": True}, "MOVIEVERSE_AUTO_MIGRATE", "must be false"),
        ({"debug": True}, "MOVIEVERSE_DEBUG", "must be false"),
        ({"allow_seeding": True}, "MOVIEVERSE_SEED_TOKEN", "is not set"),
        (
            {"allow_seeding": True, "seed_token": "seed"},
            "MOVIEVERSE_SEED_TOKEN",
            "too short",
        ),
        (
            {"jwt_algorithm": "EdDSA", "secret_key": None},
            "MOVIEVERSE_JWT_PUBLIC_KEY_FILE",
            "must be set",
        ),
    ],
)
def test_production_refuses_each_unsafe_setting_by_name(
    values: dict[str, object], setting: str, reason: str
) -> None:
    settings = _production(**values)
    with pytest.raises(ConfigurationError) as caught:
        settings.ensure_safe()
    message = str(caught.value)
    assert setting in message
    assert reason in message
    assert len(caught.value.problems) == 1


def test_every_problem_is_reported_at_once() -> None:
    settings = _production(secret_key="changeme", debug=True, auto_migrate=True)
    with pytest.raises(ConfigurationError) as caught:
        settings.ensure_safe()
    assert len(caught.value.problems) == 3


def test_seeding_with_a_strong_token_is_allowed() -> None:
    _production(allow_seeding=True, seed_token=STRONG_SECRET[::-1]).ensure_safe()


def test_development_tolerates_defaults() -> None:
    PlatformSettings(environment="development", debug=True, auto_migrate=True).ensure_safe()


async def test_server_databases_use_the_pool_settings() -> None:
    from movieverse.platform.db import Database

    settings = PlatformSettings(
        environment="test", db_pool_size=7, db_max_overflow=2, db_pool_recycle_seconds=99
    )
    # No connection is made: the engine is configured, not used.
    db = Database.connect("postgresql://nobody@127.0.0.1:9/none", settings)
    try:
        pool = db.engine.sync_engine.pool
        assert pool.size() == 7  # type: ignore[attr-defined]
        assert pool._max_overflow == 2  # type: ignore[attr-defined]
        assert pool._recycle == 99
        assert db.engine.dialect.driver == "asyncpg"
    finally:
        await db.dispose()
