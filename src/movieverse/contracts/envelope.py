"""The event envelope (DESIGN rule 3) and the base of typed payloads: the wire format every
service speaks, so it sits with the payloads, below the platform that carries it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar, Self
from uuid import UUID

import uuid_utils
from pydantic import BaseModel, ConfigDict, Field


class EventPayload(BaseModel):
    """Base of every typed payload (the published ones live in ``movieverse.contracts``).
    Subclasses name their event type and version.

    Unknown fields are ignored on reading, so a producer may add an optional field without a
    version bump and consumers not yet redeployed still read its events. Producers cannot slip a
    misspelt field through: mypy's pydantic plugin checks their keyword arguments.
    """

    model_config = ConfigDict(frozen=True, extra="ignore")

    event_type: ClassVar[str]
    event_version: ClassVar[int] = 1

    @classmethod
    def from_event(cls, event: Event) -> Self:
        """The event's payload, read as this version. A newer version is a breaking change this
        consumer does not know: refused (dead-lettered), never misread."""
        if event.type != cls.event_type:
            raise ValueError(f"{event.type} is not {cls.event_type}")
        if event.version > cls.event_version:
            raise ValueError(
                f"{event.type} version {event.version} is newer than the {cls.event_version} "
                "this consumer reads"
            )
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
        "occurred_at": datetime.now(UTC),
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
