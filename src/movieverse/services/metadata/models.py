"""The tables metadata owns: its documents (people, credits, keywords, analyses, genres) and the
outbox and inbox every service has."""

from __future__ import annotations

from sqlalchemy.orm import DeclarativeBase

from movieverse.platform.docs import documents_table
from movieverse.platform.events.inbox import inbox_table
from movieverse.platform.events.outbox import outbox_table
from movieverse.platform.models import service_metadata

SERVICE = "metadata"


class Base(DeclarativeBase):
    metadata = service_metadata()


# Used by the SQL documents adapter (the embedded shape, and PostgreSQL JSONB when distributed);
# with a MongoDB documents URL it stays empty.
documents = documents_table(Base.metadata, SERVICE)
outbox = outbox_table(Base.metadata, SERVICE)
inbox = inbox_table(Base.metadata, SERVICE)
