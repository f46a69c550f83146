"""Events the notifications service publishes."""

from __future__ import annotations

from uuid import UUID

from movieverse.contracts.envelope import EventPayload


class NotificationCreated(EventPayload):
    event_type = "notifications.notification.created"

    notification_id: UUID
    user_id: UUID
    kind: str
