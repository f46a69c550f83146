"""The ai service as an app: its definition (bootstrap.py builds its runtime)."""

from __future__ import annotations

from fastapi import FastAPI

from movieverse.platform.assembly import (
    ServiceDefinition,
    SharedRuntime,
    bootstrapped,
    build_service_app,
)
from movieverse.platform.settings import PlatformSettings
from movieverse.services.ai.api import router
from movieverse.services.ai.bootstrap import bootstrap
from movieverse.services.ai.models import SERVICE, Base
from movieverse.services.ai.settings import AiSettings

DEFINITION = ServiceDefinition(
    name=SERVICE,
    title="AI",
    description="MovieVerse-AI: interactions, model training and versions, scoring, sentiment.",
    metadata=Base.metadata,
    settings_factory=AiSettings,
    routers=[router],
    setup=bootstrapped(AiSettings, bootstrap),
)


def create_app(
    settings: PlatformSettings | None = None,
    *,
    shared: SharedRuntime | None = None,
    own: AiSettings | None = None,
) -> FastAPI:
    return build_service_app(DEFINITION, settings, shared=shared, own=own)
