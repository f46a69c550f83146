"""Notifications as an app: its definition (bootstrap.py builds its runtime)."""

from __future__ import annotations

from fastapi import FastAPI

from movieverse.platform.assembly import (
    ServiceDefinition,
    SharedRuntime,
    bootstrapped,
    build_service_app,
)
from movieverse.platform.settings import PlatformSettings
from movieverse.services.notifications.api import router
from movieverse.services.notifications.bootstrap import bootstrap
from movieverse.services.notifications.models import SERVICE, Base
from movieverse.services.notifications.settings import NotificationsSettings

DEFINITION = ServiceDefinition(
    name=SERVICE,
    title="Notifications",
    description="In-app notifications, a live stream of them, email and signed webhooks.",
    metadata=Base.metadata,
    settings_factory=NotificationsSettings,
    routers=[router],
    setup=bootstrapped(NotificationsSettings, bootstrap),
)


def create_app(
    settings: PlatformSettings | None = None,
    *,
    shared: SharedRuntime | None = None,
    own: NotificationsSettings | None = None,
) -> FastAPI:
    return build_service_app(DEFINITION, settings, shared=shared, own=own)
