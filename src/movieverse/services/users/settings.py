"""Users' own settings (prefix ``MOVIEVERSE_USERS_``)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from movieverse.platform.settings import ServiceSettings


class UsersSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="MOVIEVERSE_USERS_", extra="ignore")

    # Upper bound on each personal list, so one account cannot grow a list without limit.
    max_list_items: int = Field(default=10_000, ge=1)
    # How long GET /users/me may serve a cached profile; writers drop the entry on commit.
    profile_cache_seconds: float = Field(default=60, gt=0, le=3600)
