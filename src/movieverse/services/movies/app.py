"""Movies as an app: its definition (bootstrap.py builds its runtime)."""

from __future__ import annotations

from fastapi import FastAPI

from movieverse.platform.assembly import (
    ServiceDefinition,
    SharedRuntime,
    bootstrapped,
    build_service_app,
)
from movieverse.platform.settings import PlatformSettings
from movieverse.services.movies.api import (
    discover_router,
    find_router,
    movies_router,
    trending_router,
)
from movieverse.services.movies.bootstrap import bootstrap, maintain
from movieverse.services.movies.models import SERVICE, Base
from movieverse.services.movies.settings import MoviesSettings

DEFINITION = ServiceDefinition(
    name=SERVICE,
    title="Movies",
    description="The catalog's movies: details, discover, popular and top rated, lookups.",
    metadata=Base.metadata,
    settings_factory=MoviesSettings,
    routers=[movies_router, discover_router, find_router, trending_router],
    setup=bootstrapped(MoviesSettings, bootstrap),
    maintenance=maintain,
)


def create_app(
    settings: PlatformSettings | None = None,
    *,
    shared: SharedRuntime | None = None,
    own: MoviesSettings | None = None,
) -> FastAPI:
    return build_service_app(DEFINITION, settings, shared=shared, own=own)
