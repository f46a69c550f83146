"""Auth's own settings (prefix ``MOVIEVERSE_AUTH_``)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from movieverse.platform.settings import ServiceSettings


class AuthSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="MOVIEVERSE_AUTH_", extra="ignore")

    access_token_ttl_seconds: int = Field(default=15 * 60, ge=30, le=24 * 3600)
    refresh_token_ttl_seconds: int = Field(default=30 * 24 * 3600, ge=60)

    # OWASP Password Storage Cheat Sheet's argon2id baseline: m=19 MiB, t=2, p=1. Raising any of
    # these makes logins rehash stored passwords to the new parameters.
    argon2_time_cost: int = Field(default=2, ge=1, le=20)
    argon2_memory_kib: int = Field(default=19 * 1024, ge=8, le=4 * 1024 * 1024)
    argon2_parallelism: int = Field(default=1, ge=1, le=16)

    # Signing key for EdDSA/RS256 (PEM, private). Verifiers use MOVIEVERSE_JWT_PUBLIC_KEY_FILE.
    jwt_private_key_file: Path | None = None

    # A deleted account's username cannot be registered again for this long, so a newcomer is
    # never taken for the old owner while anything of theirs may still be around. 0: at once.
    username_quarantine_days: int = Field(default=30, ge=0, le=3650)

    # Brute-force protection: failures before delays start, and the window they are counted in.
    login_account_threshold: int = Field(default=5, ge=1)
    login_ip_threshold: int = Field(default=20, ge=1)
    login_window_seconds: int = Field(default=15 * 60, ge=1)
    login_max_delay_seconds: int = Field(default=15 * 60, ge=1)
    # The first lock; each further failure doubles it. Stricter deployments raise it.
    login_first_delay_seconds: int = Field(default=1, ge=1)
