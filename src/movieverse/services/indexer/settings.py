"""The indexer's own settings (prefix ``MOVIEVERSE_INDEXER_``)."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from movieverse.platform.settings import ServiceSettings


class IndexerSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="MOVIEVERSE_INDEXER_", extra="ignore")

    # An index that is missing, or was built by older code, is rebuilt from the indexer's
    # documents at start-up (in the background; search answers from what is there meanwhile).
    rebuild_stale_on_start: bool = True
