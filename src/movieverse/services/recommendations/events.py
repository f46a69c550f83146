"""What recommendations reads of other services' events (tolerant readers). It publishes none."""

from __future__ import annotations

from uuid import UUID

from pydantic import BaseModel, Field

AUTH_USER_REGISTERED = "auth.user.registered"
USERS_USER_DELETED = "users.user.deleted"
USERS_LIST_CHANGED = "users.list.changed"
USERS_PREFERENCES_CHANGED = "users.preferences.changed"
REVIEWS_RATING_CHANGED = "reviews.rating.changed"
AI_MODEL_PUBLISHED = "ai.model.published"

ACCOUNT_EVENTS = frozenset({AUTH_USER_REGISTERED, USERS_USER_DELETED, USERS_PREFERENCES_CHANGED})


class AccountRegistered(BaseModel):
    user_id: UUID
    username: str


class UserDeleted(BaseModel):
    user_id: UUID


class ListChanged(BaseModel):
    user_id: UUID
    list: str
    movie_id: int
    action: str  # "added" | "removed"


class PreferencesChanged(BaseModel):
    user_id: UUID
    favourite_genres: list[int] = Field(default_factory=list)
    include_adult: bool = False


class RatingChanged(BaseModel):
    user_id: UUID
    movie_id: int
    value: float | None = None  # None: the rating was removed


class ModelPublished(BaseModel):
    version: str
