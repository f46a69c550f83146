"""The search service's own settings (prefix ``MOVIEVERSE_SEARCH_``)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from movieverse.platform.settings import ServiceSettings


class SearchSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="MOVIEVERSE_SEARCH_", extra="ignore")

    # How many suggestions /search/suggest gives at most.
    max_suggestions: int = Field(default=10, ge=1, le=50)
    # Movie search and suggestion bodies kept in the process under the index generation
    # (cache.py): at most this many megabytes (a page of 20 movies is about 7 KB, a list of
    # suggestions about 1.3 KB), none older than cache_seconds. 0 in either keeps none.
    cache_mb: int = Field(default=48, ge=0, le=4096)
    cache_seconds: float = Field(default=300.0, ge=0, le=86_400)
    # Sent with /search/movies and /search/suggest, beside a strong ETag. "no-cache": a client
    # may keep a page but asks again each time (a 304 when it is unchanged), so no cache outside
    # the server shows a deleted or edited movie once the index no longer holds it.
    cache_control: str = Field(default="public, no-cache", max_length=200)
