"""The tables the ai service owns: the interactions models learn from, what it knows of each
movie (for content similarity and popular-in-genre), and training jobs."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import JSON, Boolean, Float, Index, Integer, String, Text, Uuid
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from movieverse.platform.db import UtcDateTime
from movieverse.platform.events.inbox import inbox_table
from movieverse.platform.events.outbox import outbox_table
from movieverse.platform.models import service_metadata

SERVICE = "ai"


class Base(DeclarativeBase):
    metadata = service_metadata()


class Interaction(Base):
    """A user's current rating of a movie (MovieVerse's 0.5-10 scale). A removed rating is
    deleted: models learn from what users stand by."""

    __tablename__ = "ai_interactions"

    user_id: Mapped[UUID] = mapped_column(Uuid, primary_key=True)
    movie_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rating: Mapped[float] = mapped_column(Float)
    rated_at: Mapped[datetime] = mapped_column(UtcDateTime)

    # Training reads everything in order; "what did this movie get" serves popular-in-genre.
    __table_args__ = (Index("ix_ai_interactions_movie", "movie_id"),)


class UserState(Base):
    """When a user's interactions last changed (set, changed or removed): recommendations
    caches an answer only once it reflects the user's latest rating."""

    __tablename__ = "ai_users"

    user_id: Mapped[UUID] = mapped_column(Uuid, primary_key=True)
    changed_at: Mapped[datetime] = mapped_column(UtcDateTime)


class CatalogMovie(Base):
    __tablename__ = "ai_movies"

    movie_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    title: Mapped[str] = mapped_column(String(500))
    genres: Mapped[list[str]] = mapped_column(JSON, default=list)
    genre_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    # Genres, keywords and overview as one text: what content similarity reads.
    document: Mapped[str] = mapped_column(Text, default="")
    popularity: Mapped[float] = mapped_column(Float, default=0.0)
    vote_count: Mapped[int] = mapped_column(Integer, default=0)
    adult: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class TrainingJob(Base):
    __tablename__ = "ai_training_jobs"

    id: Mapped[UUID] = mapped_column(Uuid, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    # queued | running | succeeded | failed
    status: Mapped[str] = mapped_column(String(20))
    # What it is doing now ("snapshot", "fitting" -- fit and save, in a child process -- or
    # "loading"), for progress.
    stage: Mapped[str | None] = mapped_column(String(40), nullable=True)
    trigger: Mapped[str] = mapped_column(String(20))  # api | schedule | start | cli
    version: Mapped[str | None] = mapped_column(String(40), nullable=True)
    interactions: Mapped[int] = mapped_column(Integer, default=0)
    details: Mapped[dict[str, Any]] = mapped_column(
        JSON().with_variant(postgresql.JSONB(), "postgresql"), default=dict
    )
    error: Mapped[str | None] = mapped_column(String(500), nullable=True)
    requested_by: Mapped[UUID | None] = mapped_column(Uuid, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


outbox = outbox_table(Base.metadata, SERVICE)
inbox = inbox_table(Base.metadata, SERVICE)
