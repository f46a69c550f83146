"""Notifications' request and response models."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from movieverse.services.notifications.models import Channel, DeliveryStatus, Kind

_WRITE = ConfigDict(extra="forbid")


def _without_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("text may not contain the NUL character")
    return value


SafeStr = Annotated[str, AfterValidator(_without_nul)]


class NotificationRead(BaseModel):
    id: UUID
    kind: Kind
    title: str
    body: str
    data: dict[str, Any]
    read: bool
    created_at: datetime


class NotificationFeed(BaseModel):
    """A page of a feed (DESIGN rule 7): newest first, ``next_cursor`` for the next page."""

    results: list[NotificationRead]
    next_cursor: str | None


class UnreadCount(BaseModel):
    unread: int


class BroadcastCreate(BaseModel):
    model_config = _WRITE

    title: SafeStr = Field(min_length=1, max_length=200)
    body: SafeStr = Field(min_length=1, max_length=5000)


class BroadcastRead(BaseModel):
    id: UUID
    recipients: int


class WebhookCreate(BaseModel):
    model_config = _WRITE

    url: SafeStr = Field(min_length=8, max_length=2000)
    kinds: list[Kind] = Field(default_factory=list, max_length=20, description="Empty: all")
    all_users: bool = Field(default=False, description="Every user's notifications (admins)")


class WebhookRead(BaseModel):
    id: UUID
    url: str
    kinds: list[Kind]
    all_users: bool
    active: bool
    consecutive_failures: int
    disabled_reason: str | None
    created_at: datetime


class WebhookCreated(WebhookRead):
    secret: str = Field(description="Signs every delivery; shown this once only")


class DeliveryRead(BaseModel):
    id: int
    notification_id: UUID
    channel: Channel
    status: DeliveryStatus
    attempts: int
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    finished_at: datetime | None
