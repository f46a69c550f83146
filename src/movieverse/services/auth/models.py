"""The tables auth owns."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import JSON, ForeignKey, String, Uuid
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from movieverse.platform.db import UtcDateTime
from movieverse.platform.events.inbox import inbox_table
from movieverse.platform.events.outbox import outbox_table
from movieverse.platform.models import service_metadata

SERVICE = "auth"


class Base(DeclarativeBase):
    metadata = service_metadata()


class Account(Base):
    __tablename__ = "auth_accounts"

    id: Mapped[UUID] = mapped_column(Uuid, primary_key=True)
    # Stored normalised (lower-case), so the unique index enforces case-insensitive uniqueness.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    username: Mapped[str] = mapped_column(String(30), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    roles: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    password_changed_at: Mapped[datetime] = mapped_column(UtcDateTime)


class RefreshFamily(Base):
    """A login session: every refresh token rotated from one login belongs to one family."""

    __tablename__ = "auth_refresh_families"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    account_id: Mapped[UUID] = mapped_column(Uuid, index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    revoked_reason: Mapped[str | None] = mapped_column(String(40), nullable=True)


class RefreshToken(Base):
    __tablename__ = "auth_refresh_tokens"

    # SHA-256 of the opaque token: a database leak does not leak usable tokens.
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    family_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("auth_refresh_families.id", ondelete="CASCADE"), index=True
    )
    account_id: Mapped[UUID] = mapped_column(Uuid, index=True)
    issued_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class ReleasedUsername(Base):
    """The username of a deleted account, held back for a while: whoever takes it next must not
    be mistaken for the old owner while anything of theirs may still be about (a late write
    erased only by the second pass, links and mentions elsewhere)."""

    __tablename__ = "auth_released_usernames"

    username: Mapped[str] = mapped_column(String(30), primary_key=True)
    released_at: Mapped[datetime] = mapped_column(UtcDateTime)


outbox = outbox_table(Base.metadata, SERVICE)
inbox = inbox_table(Base.metadata, SERVICE)
