"""Metadata as an app: its definition (bootstrap.py builds its runtime)."""

from __future__ import annotations

from fastapi import FastAPI

from movieverse.platform.assembly import (
    ServiceDefinition,
    SharedRuntime,
    bootstrapped,
    build_service_app,
)
from movieverse.platform.settings import PlatformSettings
from movieverse.services.metadata.api import genres_router, metadata_router, people_router
from movieverse.services.metadata.bootstrap import bootstrap
from movieverse.services.metadata.models import SERVICE, Base
from movieverse.services.metadata.settings import MetadataSettings

DEFINITION = ServiceDefinition(
    name=SERVICE,
    title="Metadata",
    description="Genres, people, credits, keywords, movie analyses and review sentiment.",
    metadata=Base.metadata,
    settings_factory=MetadataSettings,
    routers=[genres_router, people_router, metadata_router],
    setup=bootstrapped(MetadataSettings, bootstrap),
)


def create_app(
    settings: PlatformSettings | None = None,
    *,
    shared: SharedRuntime | None = None,
    own: MetadataSettings | None = None,
) -> FastAPI:
    return build_service_app(DEFINITION, settings, shared=shared, own=own)
