"""Reviews as an app: its definition (bootstrap.py builds its runtime)."""

from __future__ import annotations

from fastapi import FastAPI

from movieverse.platform.assembly import (
    ServiceDefinition,
    SharedRuntime,
    bootstrapped,
    build_service_app,
)
from movieverse.platform.settings import PlatformSettings
from movieverse.services.reviews.api import movies_router, reviews_router, users_router
from movieverse.services.reviews.bootstrap import bootstrap
from movieverse.services.reviews.models import SERVICE, Base
from movieverse.services.reviews.settings import ReviewsSettings

DEFINITION = ServiceDefinition(
    name=SERVICE,
    title="Reviews",
    description="Ratings, reviews, likes, comments, and their moderation.",
    metadata=Base.metadata,
    settings_factory=ReviewsSettings,
    routers=[movies_router, users_router, reviews_router],
    setup=bootstrapped(ReviewsSettings, bootstrap),
)


def create_app(
    settings: PlatformSettings | None = None,
    *,
    shared: SharedRuntime | None = None,
    own: ReviewsSettings | None = None,
) -> FastAPI:
    return build_service_app(DEFINITION, settings, shared=shared, own=own)
