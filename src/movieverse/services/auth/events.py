"""Events auth publishes, and its handlers for the events it consumes."""

from __future__ import annotations

from uuid import UUID

from pydantic import BaseModel

from movieverse.platform.events.envelope import EventPayload


class UserRegistered(EventPayload):
    event_type = "auth.user.registered"

    user_id: UUID
    username: str
    email: str


class PasswordChanged(EventPayload):
    event_type = "auth.user.password_changed"

    user_id: UUID


class UserDeletedPayload(BaseModel):
    """What auth reads of ``users.user.deleted`` (tolerant: unknown fields are ignored)."""

    user_id: UUID


USERS_USER_DELETED = "users.user.deleted"
