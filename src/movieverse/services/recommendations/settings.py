"""The recommendations service's own settings (prefix ``MOVIEVERSE_RECOMMENDATIONS_``)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from movieverse.platform.settings import ServiceSettings


class RecommendationsSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="MOVIEVERSE_RECOMMENDATIONS_", extra="ignore")

    # How long a personal answer stays cached. New ratings, list changes and a new model make
    # a new cache key at once; this only bounds what an unnoticed change could leave.
    cache_seconds: float = Field(default=600.0, ge=0)
    # Recompute a user's first page in the background after their rating, list or preference
    # change (refresh.py), so their next visit is a cache hit.
    refresh_after_changes: bool = True
