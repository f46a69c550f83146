"""The recommendations service as an app: its definition (bootstrap.py builds its runtime)."""

from __future__ import annotations

from fastapi import FastAPI

from movieverse.platform.assembly import (
    ServiceDefinition,
    SharedRuntime,
    bootstrapped,
    build_service_app,
)
from movieverse.platform.settings import PlatformSettings
from movieverse.services.recommendations.api import movies_router, router
from movieverse.services.recommendations.bootstrap import bootstrap
from movieverse.services.recommendations.models import SERVICE, Base
from movieverse.services.recommendations.settings import RecommendationsSettings

DEFINITION = ServiceDefinition(
    name=SERVICE,
    title="Recommendations",
    description="Personal recommendations, similar movies, with reasons; cached per user.",
    metadata=Base.metadata,
    settings_factory=RecommendationsSettings,
    routers=[router, movies_router],
    setup=bootstrapped(RecommendationsSettings, bootstrap),
)


def create_app(
    settings: PlatformSettings | None = None,
    *,
    shared: SharedRuntime | None = None,
    own: RecommendationsSettings | None = None,
) -> FastAPI:
    return build_service_app(DEFINITION, settings, shared=shared, own=own)
