"""The event envelope (DESIGN rule 3) and typed payloads."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar, Self
from uuid import UUID

import uuid_utils
from pydantic import BaseModel, ConfigDict, Field

from movieverse.platform.db import utcnow


class EventPayload(BaseModel):
    """Base of every typed payload. Subclasses name their event type and version."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_type: ClassVar[str]
    event_version: ClassVar[int] = 1

    @classmethod
    def from_event(cls, event: Event) -> Self:
        if event.type != cls.event_type:
            raise ValueError(f"{event.type} is not {cls.event_type}")
        return cls.model_validate(event.payload)


class Event(BaseModel):
    """What travels on the bus: ``<service>.<entity>.<past-verb>`` with its payload."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: UUID
    type: str = Field(pattern=r"^[a-z_]+\.[a-z_]+\.[a-z_]+$")
    version: int = Field(default=1, ge=1)
    occurred_at: datetime
    producer: str
    key: str
    traceparent: str | None = None
    payload: dict[str, Any]

    @property
    def topic(self) -> str:
        """The aggregate stream (``auth.user``); order holds per ``key`` within it."""
        return self.type.rsplit(".", 1)[0]


def new_uuid7() -> UUID:
    """Time-ordered UUIDs keep index inserts local and sort events by creation."""
    return UUID(bytes=uuid_utils.uuid7().bytes)


# Event types already checked against the envelope's rules (see new_event).
_VALIDATED_TYPES: set[tuple[str, int]] = set()


def new_event(
    payload: EventPayload, *, producer: str, key: str, traceparent: str | None = None
) -> Event:
    fields: dict[str, Any] = {
        "id": new_uuid7(),
        "type": payload.event_type,
        "version": payload.event_version,
        "occurred_at": utcnow(),
        "producer": producer,
        "key": key,
        "traceparent": traceparent,
        "payload": payload.model_dump(mode="json"),
    }
    kind = (payload.event_type, payload.event_version)
    if kind in _VALIDATED_TYPES:
        # Every field is made right here from an already validated payload; only the type name
        # and version come from the payload class, and those were checked the first time.
        # Skipping the second validation matters to bulk imports (tens of thousands of events).
        return Event.model_construct(**fields)
    event = Event(**fields)
    _VALIDATED_TYPES.add(kind)
    return event
