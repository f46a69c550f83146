"""Users as an app: its definition (bootstrap.py builds its runtime)."""

from __future__ import annotations

from fastapi import FastAPI

from movieverse.platform.assembly import (
    ServiceDefinition,
    SharedRuntime,
    bootstrapped,
    build_service_app,
)
from movieverse.platform.settings import PlatformSettings
from movieverse.services.users.api import router
from movieverse.services.users.bootstrap import bootstrap
from movieverse.services.users.models import SERVICE, Base
from movieverse.services.users.settings import UsersSettings

DEFINITION = ServiceDefinition(
    name=SERVICE,
    title="Users",
    description="Profiles, preferences, and watchlist / favourites / seen lists.",
    metadata=Base.metadata,
    settings_factory=UsersSettings,
    routers=[router],
    setup=bootstrapped(UsersSettings, bootstrap),
)


def create_app(
    settings: PlatformSettings | None = None,
    *,
    shared: SharedRuntime | None = None,
    own: UsersSettings | None = None,
) -> FastAPI:
    return build_service_app(DEFINITION, settings, shared=shared, own=own)
