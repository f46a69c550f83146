"""The indexer as an app: its definition (bootstrap.py builds its runtime)."""

from __future__ import annotations

from fastapi import FastAPI

from movieverse.platform.assembly import (
    ServiceDefinition,
    SharedRuntime,
    bootstrapped,
    build_service_app,
)
from movieverse.platform.settings import PlatformSettings
from movieverse.services.indexer.api import router
from movieverse.services.indexer.bootstrap import bootstrap
from movieverse.services.indexer.models import SERVICE, Base
from movieverse.services.indexer.settings import IndexerSettings

DEFINITION = ServiceDefinition(
    name=SERVICE,
    title="Indexer",
    description="Keeps the search indexes in step with movies, people and reviews; reindex jobs.",
    metadata=Base.metadata,
    settings_factory=IndexerSettings,
    routers=[router],
    setup=bootstrapped(IndexerSettings, bootstrap),
)


def create_app(
    settings: PlatformSettings | None = None,
    *,
    shared: SharedRuntime | None = None,
    own: IndexerSettings | None = None,
) -> FastAPI:
    return build_service_app(DEFINITION, settings, shared=shared, own=own)
