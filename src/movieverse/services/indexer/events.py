"""What the indexer reads of other services' events (tolerant: unknown fields are ignored).

The indexer publishes no events of its own.
"""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from pydantic import BaseModel, Field

MOVIES_MOVIE_CREATED = "movies.movie.created"
MOVIES_MOVIE_UPDATED = "movies.movie.updated"
MOVIES_MOVIE_DELETED = "movies.movie.deleted"
METADATA_PERSON_CHANGED = "metadata.person.changed"
METADATA_PERSON_DELETED = "metadata.person.deleted"
REVIEWS_REVIEW_WRITTEN = "reviews.review.written"
REVIEWS_REVIEW_REMOVED = "reviews.review.removed"
REVIEWS_REVIEW_RESTORED = "reviews.review.restored"

MOVIE_EVENTS = frozenset({MOVIES_MOVIE_CREATED, MOVIES_MOVIE_UPDATED, MOVIES_MOVIE_DELETED})
PERSON_EVENTS = frozenset({METADATA_PERSON_CHANGED, METADATA_PERSON_DELETED})
REVIEW_EVENTS = frozenset({REVIEWS_REVIEW_WRITTEN, REVIEWS_REVIEW_REMOVED, REVIEWS_REVIEW_RESTORED})


class MovieSnapshot(BaseModel):
    movie_id: int
    title: str
    original_title: str | None = None
    alternative_titles: list[str] = Field(default_factory=list)
    original_language: str | None = None
    overview: str | None = None
    release_date: date | None = None
    release_year: int | None = None
    genres: list[str] = Field(default_factory=list)
    keywords: list[str] = Field(default_factory=list)
    popularity: float = 0.0
    vote_average: float = 0.0
    vote_count: int = 0
    adult: bool = False


class MovieDeleted(BaseModel):
    movie_id: int


class PersonChanged(BaseModel):
    person_id: int
    name: str
    known_for_department: str | None = None
    popularity: float = 0.0
    profile_path: str | None = None


class PersonDeleted(BaseModel):
    person_id: int


class ReviewWritten(BaseModel):
    review_id: UUID
    movie_id: int
    username: str
    title: str | None = None
    # Added to reviews' event after its first version; older events index without their text.
    body: str | None = None
    spoiler: bool = False
    language: str | None = None
    written_at: datetime | None = None


class ReviewRemoved(BaseModel):
    review_id: UUID
    reason: str  # "deleted" | "hidden"


class ReviewRestored(BaseModel):
    review_id: UUID
