"""Reviews' own settings (prefix ``MOVIEVERSE_REVIEWS_``)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from movieverse.platform.settings import ServiceSettings


class ReviewsSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="MOVIEVERSE_REVIEWS_", extra="ignore")

    # Sent with public lists (a movie's reviews, a user's reviews, a review and its comments).
    cache_control: str = Field(default="public, max-age=30", max_length=200)
