"""Reviews' request and response models.

Text may not hold NUL (PostgreSQL cannot store it), so a NUL is a 422 here, not a 500 later.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, Strict, StringConstraints

from movieverse.services.reviews.models import ReportReason, ReportStatus, ReportTarget

_WRITE = ConfigDict(extra="forbid")
MAX_REVIEW_TEXT = 10_000
MAX_COMMENT_TEXT = 2_000


def _without_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("text may not contain the NUL character")
    return value


SafeStr = Annotated[str, AfterValidator(_without_nul)]
# 0.5 to 10 in steps of 0.5 (half stars on a ten-point scale). Strict: true or "8" is no rating.
RatingValue = Annotated[float, Strict(), Field(ge=0.5, le=10, multiple_of=0.5)]
Language = Annotated[str, StringConstraints(pattern=r"^[a-z]{2,3}(-[A-Z]{2})?$")]


class RatingWrite(BaseModel):
    model_config = _WRITE

    value: RatingValue


class RatingRead(BaseModel):
    movie_id: int
    value: float
    rated_at: datetime


class ReviewCreate(BaseModel):
    """A review; its text is optional (a rating with a title is a review too). ``rating`` also
    sets the author's rating of the movie."""

    model_config = _WRITE

    title: SafeStr | None = Field(default=None, min_length=1, max_length=200)
    body: SafeStr | None = Field(default=None, max_length=MAX_REVIEW_TEXT)
    spoiler: bool = False
    language: Language | None = None
    rating: RatingValue | None = None


class ReviewUpdate(BaseModel):
    """Only the fields sent change; ``null`` clears title, body or language."""

    model_config = _WRITE

    title: SafeStr | None = Field(default=None, min_length=1, max_length=200)
    body: SafeStr | None = Field(default=None, max_length=MAX_REVIEW_TEXT)
    spoiler: bool | None = None
    language: Language | None = None


class ReviewRead(BaseModel):
    id: UUID
    movie_id: int
    username: str
    title: str | None
    body: str | None
    spoiler: bool
    language: str | None
    rating: float | None = Field(description="The author's rating of the movie, if any")
    likes_count: int
    comments_count: int
    hidden: bool
    created_at: datetime
    updated_at: datetime


class CommentCreate(BaseModel):
    model_config = _WRITE

    body: SafeStr = Field(min_length=1, max_length=MAX_COMMENT_TEXT)
    parent_id: UUID | None = Field(default=None, description="The comment this one replies to")


class CommentRead(BaseModel):
    id: UUID
    review_id: UUID
    parent_id: UUID | None
    username: str
    body: str
    hidden: bool
    created_at: datetime
    replies: list[CommentRead] = Field(default_factory=list)


class ReportCreate(BaseModel):
    model_config = _WRITE

    reason: ReportReason
    note: SafeStr | None = Field(default=None, max_length=500)


class ReportRead(BaseModel):
    id: UUID
    target_type: ReportTarget
    target_id: UUID
    reason: ReportReason
    note: str | None
    status: ReportStatus
    created_at: datetime
    resolved_at: datetime | None
