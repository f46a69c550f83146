"""The search service owns no data of its own: the index is the indexer's. It keeps the outbox and
inbox every service has, so that it can publish and consume like the others when it needs to."""

from __future__ import annotations

from sqlalchemy.orm import DeclarativeBase

from movieverse.platform.events.inbox import inbox_table
from movieverse.platform.events.outbox import outbox_table
from movieverse.platform.models import service_metadata

SERVICE = "search"


class Base(DeclarativeBase):
    metadata = service_metadata()


outbox = outbox_table(Base.metadata, SERVICE)
inbox = inbox_table(Base.metadata, SERVICE)
