"""The search service's own settings (prefix ``MOVIEVERSE_SEARCH_``)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from movieverse.platform.settings import ServiceSettings


class SearchSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="MOVIEVERSE_SEARCH_", extra="ignore")

    # How many suggestions /search/suggest gives at most.
    max_suggestions: int = Field(default=10, ge=1, le=50)
