"""Movies' own settings (prefix ``MOVIEVERSE_MOVIES_``)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from movieverse.platform.settings import ServiceSettings


class MoviesSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="MOVIEVERSE_MOVIES_", extra="ignore")

    # Sent with cacheable catalog reads (details, discover, lists).
    cache_control: str = Field(default="public, max-age=60", max_length=200)
    # /movies/top_rated ignores movies with fewer votes: a 10/10 from two voters is noise.
    top_rated_min_votes: int = Field(default=100, ge=0)
