"""Movies' own settings (prefix ``MOVIEVERSE_MOVIES_``)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from movieverse.platform.settings import ServiceSettings


class MoviesSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="MOVIEVERSE_MOVIES_", extra="ignore")

    # Sent with cacheable catalog reads (details, discover, lists).
    cache_control: str = Field(default="public, max-age=60", max_length=200)
    # How long a movie page may be served from the cache after a write this service did not see
    # (an import run from the command line); its own writes drop the entry at once.
    details_cache_seconds: float = Field(default=60, gt=0, le=3600)
    # List and discover pages kept in process (embedded shape), at most: ~12 KB each, so about
    # 60 MB. With Redis, its own maxmemory policy bounds them.
    list_cache_entries: int = Field(default=5000, ge=1, le=1_000_000)
    # Lists' totals (one per filter set, shared by its sorts and pages) kept in process in the
    # embedded shape, at most: ~150 bytes each, so about 3 MB.
    list_count_entries: int = Field(default=20_000, ge=1, le=1_000_000)
    # /movies/top_rated ignores movies with fewer votes: a 10/10 from two voters is noise.
    top_rated_min_votes: int = Field(default=100, ge=0)
