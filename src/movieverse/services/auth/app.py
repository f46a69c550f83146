"""Auth as an app: its definition (bootstrap.py builds its runtime)."""

from __future__ import annotations

from fastapi import FastAPI

from movieverse.platform.assembly import (
    ServiceDefinition,
    SharedRuntime,
    bootstrapped,
    build_service_app,
)
from movieverse.platform.settings import PlatformSettings
from movieverse.services.auth.api import router
from movieverse.services.auth.bootstrap import bootstrap
from movieverse.services.auth.models import SERVICE, Base
from movieverse.services.auth.settings import AuthSettings

DEFINITION = ServiceDefinition(
    name=SERVICE,
    title="Auth",
    description="Accounts, sign-in, sessions and tokens.",
    metadata=Base.metadata,
    settings_factory=AuthSettings,
    routers=[router],
    setup=bootstrapped(AuthSettings, bootstrap),
)


def create_app(
    settings: PlatformSettings | None = None,
    *,
    shared: SharedRuntime | None = None,
    own: AuthSettings | None = None,
) -> FastAPI:
    return build_service_app(DEFINITION, settings, shared=shared, own=own)
