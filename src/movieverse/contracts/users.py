"""Events the users service publishes."""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from pydantic import Field

from movieverse.contracts.envelope import EventPayload


class UserDeleted(EventPayload):
    """A user deleted their account: every service erases what it holds of them."""

    event_type = "users.user.deleted"

    user_id: UUID
    username: str


class UserListChanged(EventPayload):
    """A movie went onto or off a personal list (trending, notifications and recommendations)."""

    event_type = "users.list.changed"

    user_id: UUID
    list: str
    movie_id: int
    action: Literal["added", "removed"]


class PreferencesChanged(EventPayload):
    """A user's preferences, after a change: notifications keeps their notification settings,
    recommendations their favourite genres and adult filter."""

    event_type = "users.preferences.changed"

    user_id: UUID
    notifications: dict[str, bool]
    # Added after version 1 shipped (hence the defaults): what recommendations reads.
    favourite_genres: list[int] = Field(default_factory=list)
    include_adult: bool = False
