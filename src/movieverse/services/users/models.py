"""The tables users owns."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import JSON, Boolean, Enum, Integer, String, Text, Uuid
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from movieverse.platform.db import UtcDateTime
from movieverse.platform.events.inbox import inbox_table
from movieverse.platform.events.outbox import outbox_table
from movieverse.platform.models import service_metadata

SERVICE = "users"


class Base(DeclarativeBase):
    metadata = service_metadata()


class Profile(Base):
    __tablename__ = "users_profiles"

    # The account id issued by auth; users refers to it by id only (rule 1).
    user_id: Mapped[UUID] = mapped_column(Uuid, primary_key=True)
    username: Mapped[str] = mapped_column(String(30), unique=True)
    display_name: Mapped[str | None] = mapped_column(String(80), nullable=True)
    bio: Mapped[str | None] = mapped_column(Text, nullable=True)
    avatar_url: Mapped[str | None] = mapped_column(String(2048), nullable=True)
    country: Mapped[str | None] = mapped_column(String(2), nullable=True)
    language: Mapped[str | None] = mapped_column(String(35), nullable=True)
    favourite_genres: Mapped[list[int]] = mapped_column(JSON, default=list)
    preferred_languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    include_adult: Mapped[bool] = mapped_column(Boolean, default=False)
    notification_settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class ListKind(enum.StrEnum):
    WATCHLIST = "watchlist"
    FAVOURITES = "favourites"
    SEEN = "seen"


class ListItem(Base):
    __tablename__ = "users_list_items"

    user_id: Mapped[UUID] = mapped_column(Uuid, primary_key=True)
    kind: Mapped[ListKind] = mapped_column(
        Enum(
            ListKind, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e]
        ),
        primary_key=True,
    )
    movie_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    added_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)


class Tombstone(Base):
    """Deleted accounts: their still-valid access tokens must not resurrect a profile. Also the
    erasure ledger (platform/erasure.py): ``swept_at`` is set by the late second pass."""

    __tablename__ = "users_tombstones"

    user_id: Mapped[UUID] = mapped_column(Uuid, primary_key=True)
    deleted_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    swept_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


outbox = outbox_table(Base.metadata, SERVICE)
inbox = inbox_table(Base.metadata, SERVICE)
