"""Events the auth service publishes."""

from __future__ import annotations

from uuid import UUID

from movieverse.contracts.envelope import EventPayload


class UserRegistered(EventPayload):
    """An account was made; users gives it a profile, notifications and recommendations note it."""

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
