"""The indexer's request and response models."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

KindName = Literal["movies", "people", "reviews"]


class ReindexCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Which indexes to rebuild; all three when left out.
    kinds: list[KindName] = Field(default_factory=list, max_length=3)


class ReindexJobRead(BaseModel):
    id: UUID
    kinds: list[str]
    status: Literal["queued", "running", "succeeded", "failed"]
    total: int
    done: int
    error: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class IndexStatus(BaseModel):
    engine: str
    documents: dict[str, int]
    generations: dict[str, str]
    stale: list[str]
    jobs: list[ReindexJobRead]
