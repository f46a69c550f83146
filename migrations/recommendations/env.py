"""Alembic environment of the recommendations service (the runner lives in movieverse.platform.migrations)."""

from alembic import context

from movieverse.platform.migrations import run_env
from movieverse.services.recommendations.models import Base

run_env(context, Base.metadata)
