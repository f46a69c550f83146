"""The search service as an app: its definition (bootstrap.py builds its runtime)."""

from __future__ import annotations

from fastapi import FastAPI

from movieverse.platform.assembly import (
    ServiceDefinition,
    SharedRuntime,
    bootstrapped,
    build_service_app,
)
from movieverse.platform.settings import PlatformSettings
from movieverse.services.search.api import router
from movieverse.services.search.bootstrap import bootstrap
from movieverse.services.search.models import SERVICE, Base
from movieverse.services.search.settings import SearchSettings

DEFINITION = ServiceDefinition(
    name=SERVICE,
    title="Search",
    description="Typo-tolerant, faceted search and autocomplete over movies, people and reviews.",
    metadata=Base.metadata,
    settings_factory=SearchSettings,
    routers=[router],
    setup=bootstrapped(SearchSettings, bootstrap),
)


def create_app(
    settings: PlatformSettings | None = None,
    *,
    shared: SharedRuntime | None = None,
    own: SearchSettings | None = None,
) -> FastAPI:
    return build_service_app(DEFINITION, settings, shared=shared, own=own)
