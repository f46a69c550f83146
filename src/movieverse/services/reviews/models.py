"""The tables reviews owns.

Users and movies are referred to by id only (rule 1). A review keeps its author's username as
written when it was made: usernames never change, and lists by author need no other service.
"""

from __future__ import annotations

import enum
from datetime import datetime
from uuid import UUID

from sqlalchemy import (
    BigInteger,
    Boolean,
    Enum,
    ForeignKey,
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

SERVICE = "reviews"


class Base(DeclarativeBase):
    metadata = service_metadata()


def _enum(kind: type[enum.StrEnum]) -> Enum:
    return Enum(kind, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e])


class Rating(Base):
    """One per user per movie. The value is kept in half points (1-20 for 0.5-10), exact on
    every database; the API shows it as 0.5-10."""

    __tablename__ = "reviews_ratings"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True
    )
    user_id: Mapped[UUID] = mapped_column(Uuid)
    movie_id: Mapped[int] = mapped_column(Integer, index=True)
    half_points: Mapped[int] = mapped_column(Integer)
    # "user" (rated here) or the dataset an import brought it from ("movielens").
    source: Mapped[str] = mapped_column(String(20), default="user")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)

    __table_args__ = (
        UniqueConstraint("user_id", "movie_id"),
        # A user's ratings, newest first (GET /users/me/ratings).
        Index("ix_reviews_ratings_user_updated", "user_id", "updated_at"),
    )


class MovieRatings(Base):
    """A movie's totals over its ratings, kept in the transaction that changes a rating, with a
    version that only grows: the events that carry them can be applied in any order."""

    __tablename__ = "reviews_movie_ratings"

    movie_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    count: Mapped[int] = mapped_column(Integer, default=0)
    half_points_sum: Mapped[int] = mapped_column(BigInteger, default=0)
    version: Mapped[int] = mapped_column(BigInteger, default=0)


class Review(Base):
    __tablename__ = "reviews_reviews"

    id: Mapped[UUID] = mapped_column(Uuid, primary_key=True)
    movie_id: Mapped[int] = mapped_column(Integer)
    user_id: Mapped[UUID] = mapped_column(Uuid)
    username: Mapped[str] = mapped_column(String(30), index=True)
    title: Mapped[str | None] = mapped_column(String(200), nullable=True)
    body: Mapped[str | None] = mapped_column(Text, nullable=True)
    has_text: Mapped[bool] = mapped_column(Boolean, default=False)
    spoiler: Mapped[bool] = mapped_column(Boolean, default=False)
    language: Mapped[str | None] = mapped_column(String(8), nullable=True)
    likes_count: Mapped[int] = mapped_column(Integer, default=0)
    comments_count: Mapped[int] = mapped_column(Integer, default=0)
    hidden: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)

    __table_args__ = (
        # One review per user per movie; a second is an edit of the first.
        UniqueConstraint("user_id", "movie_id"),
        # A movie's reviews by each sort the list offers.
        Index("ix_reviews_reviews_movie_created", "movie_id", "hidden", "created_at"),
        Index("ix_reviews_reviews_movie_likes", "movie_id", "hidden", "likes_count"),
    )


class Like(Base):
    __tablename__ = "reviews_likes"

    review_id: Mapped[UUID] = mapped_column(
        ForeignKey("reviews_reviews.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[UUID] = mapped_column(Uuid, primary_key=True, index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class Comment(Base):
    """A comment on a review, or a reply to such a comment (one level deep: replies have none)."""

    __tablename__ = "reviews_comments"

    id: Mapped[UUID] = mapped_column(Uuid, primary_key=True)
    review_id: Mapped[UUID] = mapped_column(ForeignKey("reviews_reviews.id", ondelete="CASCADE"))
    parent_id: Mapped[UUID | None] = mapped_column(
        ForeignKey("reviews_comments.id", ondelete="CASCADE"), nullable=True
    )
    user_id: Mapped[UUID] = mapped_column(Uuid, index=True)
    username: Mapped[str] = mapped_column(String(30))
    body: Mapped[str] = mapped_column(Text)
    hidden: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)

    __table_args__ = (Index("ix_reviews_comments_review_created", "review_id", "created_at"),)


class ReportTarget(enum.StrEnum):
    REVIEW = "review"
    COMMENT = "comment"


class ReportReason(enum.StrEnum):
    SPAM = "spam"
    ABUSE = "abuse"
    SPOILER = "spoiler"
    OFF_TOPIC = "off_topic"
    OTHER = "other"


class ReportStatus(enum.StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"


class Report(Base):
    __tablename__ = "reviews_reports"

    id: Mapped[UUID] = mapped_column(Uuid, primary_key=True)
    target_type: Mapped[ReportTarget] = mapped_column(_enum(ReportTarget))
    target_id: Mapped[UUID] = mapped_column(Uuid)
    reporter_id: Mapped[UUID] = mapped_column(Uuid)
    reason: Mapped[ReportReason] = mapped_column(_enum(ReportReason))
    note: Mapped[str | None] = mapped_column(String(500), nullable=True)
    status: Mapped[ReportStatus] = mapped_column(_enum(ReportStatus), default=ReportStatus.OPEN)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)

    __table_args__ = (
        # One report per reporter per target: reporting again changes nothing.
        UniqueConstraint("target_type", "target_id", "reporter_id"),
        Index("ix_reviews_reports_status_created", "status", "created_at"),
    )


outbox = outbox_table(Base.metadata, SERVICE)
inbox = inbox_table(Base.metadata, SERVICE)
# Deleted users whose data was erased, for the late second pass (platform/erasure.py).
erased_users = erased_users_table(Base.metadata, SERVICE)
