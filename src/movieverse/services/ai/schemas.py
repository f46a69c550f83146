"""The ai service's request and response models."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from movieverse.ml.sentiment import MAX_TEXT_CHARS

ModelKind = Literal["popularity", "itemknn", "ease", "session_ease", "als", "content", "hybrid"]
MovieId = int
MAX_RESULTS = 500
MAX_EXCLUDED = 20_000


class TrainCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # The service's configured kind when left out.
    kind: ModelKind | None = None


class TrainingJobRead(BaseModel):
    id: UUID
    kind: str
    status: Literal["queued", "running", "succeeded", "failed"]
    stage: str | None
    trigger: str
    version: str | None
    interactions: int
    details: dict[str, Any]
    error: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class ModelRead(BaseModel):
    version: str
    kind: str
    params: dict[str, Any]
    created_at: str
    data: dict[str, Any]
    metrics: dict[str, Any]
    current: bool


class AiStatus(BaseModel):
    model: ModelRead | None
    warning: str | None
    interactions: int
    movies: int
    jobs: list[TrainingJobRead]


class RecommendRequest(BaseModel):
    """What the recommendations service asks for one user."""

    model_config = ConfigDict(extra="forbid")

    user_id: UUID
    count: int = Field(default=20, ge=1, le=MAX_RESULTS)
    exclude: list[MovieId] = Field(default_factory=list, max_length=MAX_EXCLUDED)
    # Only movies in any of these genres (ids).
    genres: list[int] = Field(default_factory=list, max_length=50)
    favourite_genres: list[int] = Field(default_factory=list, max_length=50)
    exclude_rated: bool = True
    include_adult: bool = False


class ReasonRead(BaseModel):
    kind: Literal["rated", "similar", "popular_in_genre", "popular"]
    text: str
    movie_id: int | None = None
    genre_id: int | None = None


class ScoredMovie(BaseModel):
    movie_id: int
    title: str
    score: float
    reason: ReasonRead


class ModelRef(BaseModel):
    version: str
    kind: str
    trained_at: str


class RecommendationsRead(BaseModel):
    # "model": personal, from the current model; "fallback": popular in the user's genres.
    source: Literal["model", "fallback"]
    model: ModelRef | None
    known_user: bool
    genres: list[int]
    # When the user's ratings last changed, as this answer saw them (None: never, or not a
    # user's answer).
    as_of: datetime | None = None
    results: list[ScoredMovie]


class SentimentText(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=MAX_TEXT_CHARS)


class SentimentRead(BaseModel):
    compound: float
    positive: float
    neutral: float
    negative: float
    label: Literal["positive", "neutral", "negative"]
    model: str
