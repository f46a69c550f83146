"""Events ai publishes, and what it reads of the events it consumes (tolerant readers)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, Field

from movieverse.platform.events.envelope import EventPayload

REVIEWS_RATING_CHANGED = "reviews.rating.changed"
REVIEWS_REVIEW_WRITTEN = "reviews.review.written"
MOVIES_MOVIE_CREATED = "movies.movie.created"
MOVIES_MOVIE_UPDATED = "movies.movie.updated"
MOVIES_MOVIE_DELETED = "movies.movie.deleted"
USERS_USER_DELETED = "users.user.deleted"

MOVIE_EVENTS = frozenset({MOVIES_MOVIE_CREATED, MOVIES_MOVIE_UPDATED, MOVIES_MOVIE_DELETED})
# What a movie update must touch for the ai service to care (a new vote alone does not).
MOVIE_FIELDS = frozenset(
    {"title", "genres", "genre_ids", "keywords", "overview", "popularity", "adult"}
)


class RatingChanged(BaseModel):
    movie_id: int
    user_id: UUID
    value: float | None


class MovieSnapshot(BaseModel):
    movie_id: int
    title: str
    overview: str | None = None
    genres: list[str] = Field(default_factory=list)
    genre_ids: list[int] = Field(default_factory=list)
    keywords: list[str] = Field(default_factory=list)
    popularity: float = 0.0
    vote_count: int = 0
    adult: bool = False
    changed: list[str] | None = None


class MovieDeleted(BaseModel):
    movie_id: int


class UserDeleted(BaseModel):
    user_id: UUID


class ReviewWritten(BaseModel):
    review_id: UUID
    movie_id: int
    title: str | None = None
    body: str | None = None


class ModelPublished(EventPayload):
    """A newly trained model is current. Every ai process swaps to it (they share the models
    directory); recommendations drops what it cached from the old one."""

    event_type = "ai.model.published"

    version: str
    kind: str
    interactions: int


class ReviewSentimentScored(EventPayload):
    """A review's sentiment; metadata keeps it as the review's analysis. Keyed by movie."""

    event_type = "ai.review_sentiment.scored"

    review_id: UUID
    movie_id: int
    compound: float
    positive: float
    neutral: float
    negative: float
    label: str
    model: str
    scored_at: datetime
