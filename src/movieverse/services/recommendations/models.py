"""The tables recommendations owns: copies of what users said about themselves (lists,
preferences, accounts), kept from users' and auth's events."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import JSON, Boolean, Integer, String, Uuid
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from movieverse.platform.db import UtcDateTime
from movieverse.platform.events.inbox import inbox_table
from movieverse.platform.events.outbox import outbox_table
from movieverse.platform.models import service_metadata

SERVICE = "recommendations"


class Base(DeclarativeBase):
    metadata = service_metadata()


class Account(Base):
    """A user that exists (registered, not deleted): what makes /recommendations/users/{id}
    answer rather than 404."""

    __tablename__ = "recommendations_accounts"

    user_id: Mapped[UUID] = mapped_column(Uuid, primary_key=True)
    username: Mapped[str] = mapped_column(String(100))
    favourite_genres: Mapped[list[int]] = mapped_column(JSON, default=list)
    include_adult: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class ListEntry(Base):
    """A movie on one of a user's lists (watchlist, seen, favourites)."""

    __tablename__ = "recommendations_list_entries"

    user_id: Mapped[UUID] = mapped_column(Uuid, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    movie_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    added_at: Mapped[datetime] = mapped_column(UtcDateTime)


outbox = outbox_table(Base.metadata, SERVICE)
inbox = inbox_table(Base.metadata, SERVICE)
