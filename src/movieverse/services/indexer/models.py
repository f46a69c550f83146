"""The tables the indexer owns: its copy of every searchable document, and reindex jobs.

The copy is what events said last about each movie, person and review, in the form the search
port takes. A reindex rebuilds the index from it without asking other services, and a hidden
review that is shown again comes back from it (its restore event carries no text).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import JSON, Boolean, Integer, LargeBinary, String, Uuid
from sqlalchemy.dialects import mysql, postgresql
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from movieverse.platform.db import UtcDateTime
from movieverse.platform.events.inbox import inbox_table
from movieverse.platform.events.outbox import outbox_table
from movieverse.platform.models import service_metadata

SERVICE = "indexer"
# Ids compared byte for byte, so keyset paging orders them the same on every database.
_KEY = (
    String(64)
    .with_variant(postgresql.VARCHAR(64, collation="C"), "postgresql")
    .with_variant(mysql.VARCHAR(64, charset="utf8mb4", collation="utf8mb4_bin"), "mysql", "mariadb")
)


class Base(DeclarativeBase):
    metadata = service_metadata()


class SearchDocument(Base):
    __tablename__ = "indexer_documents"

    kind: Mapped[str] = mapped_column(String(10), primary_key=True)
    # Movies' and people's integer ids are zero-padded so that text order is numeric order.
    doc_id: Mapped[str] = mapped_column(_KEY, primary_key=True)
    body: Mapped[dict[str, Any]] = mapped_column(
        JSON().with_variant(postgresql.JSONB(), "postgresql")
    )
    # False for a hidden review: kept, so that showing it again needs nothing from reviews.
    visible: Mapped[bool] = mapped_column(Boolean, default=True)
    # A movie's sentence embedding (embeddings.py) and which text it was made from: a change
    # that leaves title, overview and keywords alone keeps it.
    vector: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    vector_key: Mapped[str | None] = mapped_column(String(32), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class ReindexJob(Base):
    __tablename__ = "indexer_jobs"

    id: Mapped[UUID] = mapped_column(Uuid, primary_key=True)
    # Comma-separated kinds ("movies,people,reviews").
    kinds: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(20))  # queued | running | succeeded | failed
    total: Mapped[int] = mapped_column(Integer, default=0)
    done: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(String(500), nullable=True)
    requested_by: Mapped[UUID | None] = mapped_column(Uuid, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


outbox = outbox_table(Base.metadata, SERVICE)
inbox = inbox_table(Base.metadata, SERVICE)
