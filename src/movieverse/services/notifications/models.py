"""The tables notifications owns.

Besides the notifications and their deliveries, it keeps copies of what it must know of other
services, fed by their events: who each user is (name, email, notification settings), what is on
their watchlists, and the release dates of those movies.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    Enum,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from movieverse.platform.db import UtcDateTime
from movieverse.platform.erasure import erased_users_table
from movieverse.platform.events.inbox import inbox_table
from movieverse.platform.events.outbox import outbox_table
from movieverse.platform.models import service_metadata

SERVICE = "notifications"
_SEQ = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    metadata = service_metadata()


def _enum(kind: type[enum.StrEnum]) -> Enum:
    return Enum(kind, native_enum=False, length=30, values_callable=lambda e: [m.value for m in e])


class Recipient(Base):
    """What notifications knows of a user: from auth (name, email) and users (settings)."""

    __tablename__ = "notifications_recipients"

    user_id: Mapped[UUID] = mapped_column(Uuid, primary_key=True)
    username: Mapped[str | None] = mapped_column(String(30), nullable=True)
    email: Mapped[str | None] = mapped_column(String(320), nullable=True)
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class Watch(Base):
    """A movie on a user's watchlist (from ``users.list.changed``)."""

    __tablename__ = "notifications_watches"

    movie_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[UUID] = mapped_column(Uuid, primary_key=True, index=True)


class WatchedMovie(Base):
    """What the catalog said last of a movie (from ``movies.movie.*``): a release date that
    appears, or arrives, is news to its watchers."""

    __tablename__ = "notifications_movies"

    movie_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    title: Mapped[str] = mapped_column(String(300))
    release_date: Mapped[date | None] = mapped_column(Date, nullable=True, index=True)
    # Watchers were told it came out (once, on the day or when first known to be out).
    released_told: Mapped[bool] = mapped_column(Boolean, default=False)


class Kind(enum.StrEnum):
    REVIEW_LIKED = "review_liked"
    REVIEW_COMMENT = "review_comment"
    COMMENT_REPLY = "comment_reply"
    WATCHLIST_REVIEWS = "watchlist_reviews"
    RELEASE_DATE = "release_date"
    RELEASED = "released"
    BROADCAST = "broadcast"


class Notification(Base):
    __tablename__ = "notifications_notifications"

    # A sequence, not the UUID, orders notifications: cursors and the live stream's event ids.
    seq: Mapped[int] = mapped_column(_SEQ, primary_key=True)
    id: Mapped[UUID] = mapped_column(Uuid, unique=True)
    user_id: Mapped[UUID] = mapped_column(Uuid)
    kind: Mapped[Kind] = mapped_column(_enum(Kind))
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # What made it (an event id, a digest window): the same cause never notifies twice.
    dedupe_key: Mapped[str] = mapped_column(String(120))
    # Shown in the list and the live stream (the user's in-app setting); one that is not still
    # goes by email or webhook.
    in_app: Mapped[bool] = mapped_column(Boolean, default=True)
    read_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)

    __table_args__ = (
        UniqueConstraint("user_id", "dedupe_key"),
        Index("ix_notifications_notifications_user_seq", "user_id", "seq"),
        Index("ix_notifications_notifications_user_unread", "user_id", "read_at"),
    )


class RepeatMark(Base):
    """When a user was last told that another did something they can undo and redo (liked a
    review): the same again within the window (a like undone and redone) tells them nothing new.
    Written in the notification's own transaction; the key makes concurrent consumers agree."""

    __tablename__ = "notifications_repeats"

    user_id: Mapped[UUID] = mapped_column(Uuid, primary_key=True)  # the one told
    kind: Mapped[str] = mapped_column(String(30), primary_key=True)
    actor_id: Mapped[UUID] = mapped_column(Uuid, primary_key=True, index=True)  # who did it
    subject: Mapped[str] = mapped_column(String(100), primary_key=True)  # to what: "review:<id>"
    notified_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)


class PendingDigest(Base):
    """A new review of a watched movie, waiting for its watcher's next digest."""

    __tablename__ = "notifications_pending_digests"

    user_id: Mapped[UUID] = mapped_column(Uuid, primary_key=True)
    review_id: Mapped[UUID] = mapped_column(Uuid, primary_key=True)
    movie_id: Mapped[int] = mapped_column(Integer)
    movie_title: Mapped[str | None] = mapped_column(String(300), nullable=True)
    author: Mapped[str] = mapped_column(String(30))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)


class Webhook(Base):
    """A URL told of notifications: a user's own, or (an admin's) everyone's."""

    __tablename__ = "notifications_webhooks"

    id: Mapped[UUID] = mapped_column(Uuid, primary_key=True)
    owner_id: Mapped[UUID] = mapped_column(Uuid, index=True)
    # True: every user's notifications (admins only); False: the owner's.
    all_users: Mapped[bool] = mapped_column(Boolean, default=False)
    url: Mapped[str] = mapped_column(String(2000))
    secret: Mapped[str] = mapped_column(String(100))
    kinds: Mapped[list[str]] = mapped_column(JSON, default=list)  # empty: every kind
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    disabled_reason: Mapped[str | None] = mapped_column(String(300), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class Channel(enum.StrEnum):
    EMAIL = "email"
    WEBHOOK = "webhook"


class DeliveryStatus(enum.StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"  # gave up after every attempt
    CANCELLED = "cancelled"  # its webhook was disabled or removed first


class Delivery(Base):
    """One notification to send by email or to one webhook; the worker works through them,
    retrying with back-off. Kept after the end as the delivery history."""

    __tablename__ = "notifications_deliveries"

    id: Mapped[int] = mapped_column(_SEQ, primary_key=True)
    notification_id: Mapped[UUID] = mapped_column(Uuid)
    channel: Mapped[Channel] = mapped_column(_enum(Channel))
    webhook_id: Mapped[UUID | None] = mapped_column(Uuid, nullable=True, index=True)
    status: Mapped[DeliveryStatus] = mapped_column(_enum(DeliveryStatus))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime)
    last_status_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    last_error: Mapped[str | None] = mapped_column(String(500), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)

    __table_args__ = (
        UniqueConstraint("notification_id", "channel", "webhook_id"),
        Index("ix_notifications_deliveries_due", "status", "next_attempt_at"),
    )


outbox = outbox_table(Base.metadata, SERVICE)
inbox = inbox_table(Base.metadata, SERVICE)
# Deleted users whose data was erased, for the late second pass (platform/erasure.py).
erased_users = erased_users_table(Base.metadata, SERVICE)
