"""The ai service's own settings (prefix ``MOVIEVERSE_AI_``)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from movieverse.platform.settings import ServiceSettings


class AiSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="MOVIEVERSE_AI_", extra="ignore")

    # Model artifacts; None: var_dir/models. Every ai process of a deployment must see the same
    # directory (a shared volume in the distributed shape): one trains, all serve.
    models_dir: Path | None = None
    # What a training run fits unless the request says otherwise.
    model_kind: str = "hybrid"
    # Retrain on a schedule when new interactions arrived since the current model; 0: never.
    train_every_seconds: float = Field(default=3600.0, ge=0)
    # Below this many interactions a model is not worth training: popular movies serve instead.
    min_interactions: int = Field(default=50, ge=1)
    # Start a training run at start-up when there is data but no model yet, this long after
    # start (so the movie events an import left in the outbox reach the ai service first and
    # the first model knows every movie's genres and text).
    train_on_start: bool = True
    train_on_start_delay_seconds: float = Field(default=15.0, ge=0)
    # How often a process looks for a newer current model (trained by another process).
    reload_seconds: float = Field(default=2.0, gt=0)
    # Versions kept on disk (the current one always is).
    keep_versions: int = Field(default=5, ge=1)
