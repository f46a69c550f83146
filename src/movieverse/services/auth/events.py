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


class SessionsRevoked(EventPayload):
    """Sessions that ended (logout, logout-all, password change, a replayed refresh token): every
    service refuses their access tokens until ``until`` (Unix time), when the last has expired."""

    event_type = "auth.session.revoked"

    user_id: UUID
    session_ids: list[str]
    until: float
    reason: str


class UserDeletedPayload(BaseModel):
    """What auth reads of ``users.user.deleted`` (tolerant: unknown fields are ignored)."""

    user_id: UUID


USERS_USER_DELETED = "users.user.deleted"
