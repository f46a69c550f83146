"""Events notifications publishes, and what it reads of the events it consumes (tolerant:
unknown fields are ignored, so producers may add to their payloads)."""

from __future__ import annotations

from datetime import date
from uuid import UUID

from pydantic import BaseModel

from movieverse.platform.events.envelope import EventPayload


class NotificationCreated(EventPayload):
    event_type = "notifications.notification.created"

    notification_id: UUID
    user_id: UUID
    kind: str


class AccountRegistered(BaseModel):
    user_id: UUID
    username: str
    email: str | None = None


class PreferencesChanged(BaseModel):
    user_id: UUID
    notifications: dict[str, bool]


class UserDeleted(BaseModel):
    user_id: UUID


class ListChanged(BaseModel):
    user_id: UUID
    list: str
    movie_id: int
    action: str


class ReviewLiked(BaseModel):
    review_id: UUID
    movie_id: int
    author_id: UUID
    liker_id: UUID
    liker_username: str | None = None


class CommentPosted(BaseModel):
    comment_id: UUID
    review_id: UUID
    movie_id: int
    review_author_id: UUID
    parent_author_id: UUID | None = None
    user_id: UUID
    username: str


class ReviewWritten(BaseModel):
    review_id: UUID
    movie_id: int
    user_id: UUID
    username: str
    created: bool


class MovieSnapshot(BaseModel):
    movie_id: int
    title: str
    release_date: date | None = None


class MovieDeleted(BaseModel):
    movie_id: int


AUTH_USER_REGISTERED = "auth.user.registered"
USERS_PREFERENCES_CHANGED = "users.preferences.changed"
USERS_USER_DELETED = "users.user.deleted"
USERS_LIST_CHANGED = "users.list.changed"
REVIEWS_REVIEW_LIKED = "reviews.review.liked"
REVIEWS_COMMENT_POSTED = "reviews.comment.posted"
REVIEWS_REVIEW_WRITTEN = "reviews.review.written"
MOVIES_MOVIE_CREATED = "movies.movie.created"
MOVIES_MOVIE_UPDATED = "movies.movie.updated"
MOVIES_MOVIE_DELETED = "movies.movie.deleted"
