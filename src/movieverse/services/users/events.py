"""Events users publishes, and what it reads of the events it consumes."""

from __future__ import annotations

from uuid import UUID

from pydantic import BaseModel, Field

from movieverse.platform.events.envelope import EventPayload


class UserDeleted(EventPayload):
    event_type = "users.user.deleted"

    user_id: UUID
    username: str


class UserListChanged(EventPayload):
    """A movie went onto or off a personal list (trending and recommendations read these)."""

    event_type = "users.list.changed"

    user_id: UUID
    list: str
    movie_id: int
    action: str  # "added" | "removed"


class PreferencesChanged(EventPayload):
    """A user's preferences, after a change: notifications keeps their notification settings,
    recommendations their favourite genres and adult filter."""

    event_type = "users.preferences.changed"

    user_id: UUID
    notifications: dict[str, bool]
    # Added after version 1 (hence the defaults): what recommendations reads.
    favourite_genres: list[int] = Field(default_factory=list)
    include_adult: bool = False


class AccountRegistered(BaseModel):
    """What users reads of ``auth.user.registered`` (tolerant: unknown fields are ignored)."""

    user_id: UUID
    username: str


AUTH_USER_REGISTERED = "auth.user.registered"
