"""Metadata's own settings (prefix ``MOVIEVERSE_METADATA_``)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from movieverse.platform.settings import ServiceSettings


class MetadataSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="MOVIEVERSE_METADATA_", extra="ignore")

    # Where the documents live: None keeps them in JSON columns of this service's own database;
    # a mongodb:// or mongodb+srv:// URL puts them in MongoDB.
    documents_url: str | None = None
    # Sent with cacheable reads (genres, people, credits, keywords, analyses).
    cache_control: str = Field(default="public, max-age=60", max_length=200)
