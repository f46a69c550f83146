"""Metadata's request and response models (TMDB-shaped where TMDB has the resource).

Write models forbid unknown fields and refuse text that a document store cannot hold: PostgreSQL's
JSONB rejects the NUL character, so a NUL must be a 422 here rather than a 500 at the database.
"""

from __future__ import annotations

import math
from datetime import date, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

import orjson
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    JsonValue,
    RootModel,
    StringConstraints,
    model_validator,
)

_WRITE = ConfigDict(extra="forbid")

MAX_CREDITS = 2000
MAX_ANALYSIS_BYTES = 64 * 1024
# Deeper than any real analysis; also keeps the checks below from recursing without bound.
MAX_ANALYSIS_DEPTH = 32
_INT64 = 2**63


def _without_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("text may not contain the NUL character")
    return value


SafeStr = Annotated[str, AfterValidator(_without_nul)]
PositiveId = Annotated[int, Field(ge=1, le=2**31 - 1)]
ImagePath = Annotated[str, StringConstraints(pattern=r"^/[A-Za-z0-9._-]{1,290}$")]
PersonImdbId = Annotated[str, StringConstraints(pattern=r"^nm\d{7,10}$")]
# TMDB's codes: 0 not specified, 1 female, 2 male, 3 non-binary.
Gender = Annotated[int, Field(ge=0, le=3)]


class GenreRead(BaseModel):
    id: int
    name: str


class GenreList(BaseModel):
    genres: list[GenreRead]


class PersonWrite(BaseModel):
    """A whole person: PUT creates or replaces, so fields left out are cleared."""

    model_config = _WRITE

    name: SafeStr = Field(min_length=1, max_length=300)
    also_known_as: list[Annotated[SafeStr, Field(min_length=1, max_length=300)]] = Field(
        default_factory=list, max_length=100
    )
    biography: SafeStr | None = Field(default=None, max_length=20_000)
    birthday: date | None = None
    deathday: date | None = None
    place_of_birth: SafeStr | None = Field(default=None, max_length=300)
    profile_path: ImagePath | None = None
    known_for_department: SafeStr | None = Field(default=None, min_length=1, max_length=60)
    gender: Gender = 0
    popularity: float = Field(default=0.0, ge=0, le=1e9)
    imdb_id: PersonImdbId | None = None
    tmdb_id: PositiveId | None = None

    @model_validator(mode="after")
    def _dates_in_order(self) -> PersonWrite:
        if self.birthday and self.deathday and self.deathday < self.birthday:
            raise ValueError("deathday is before birthday")
        return self


class PersonRead(BaseModel):
    id: int
    name: str
    also_known_as: list[str]
    biography: str | None
    birthday: date | None
    deathday: date | None
    place_of_birth: str | None
    profile_path: str | None
    known_for_department: str | None
    # Documents written before the field existed have none: "not specified".
    gender: int = 0
    popularity: float
    imdb_id: str | None
    tmdb_id: int | None
    updated_at: datetime


class PersonSummary(BaseModel):
    """A person in a list: what a result row needs."""

    id: int
    name: str
    known_for_department: str | None
    popularity: float
    profile_path: str | None


class CastCredit(BaseModel):
    """One role in a movie's cast, as written and as stored."""

    model_config = _WRITE

    person_id: PositiveId
    character: SafeStr = Field(default="", max_length=500)
    order: int = Field(ge=0, le=100_000, description="Billing position; lower comes first")


class CrewCredit(BaseModel):
    model_config = _WRITE

    person_id: PositiveId
    department: SafeStr = Field(min_length=1, max_length=60)
    job: SafeStr = Field(min_length=1, max_length=120)


class CreditsWrite(BaseModel):
    """A movie's whole credits: PUT replaces them. A person may hold several roles."""

    model_config = _WRITE

    cast: list[CastCredit] = Field(default_factory=list, max_length=MAX_CREDITS)
    crew: list[CrewCredit] = Field(default_factory=list, max_length=MAX_CREDITS)


class CastRead(BaseModel):
    person_id: int
    name: str
    character: str
    order: int
    profile_path: str | None


class CrewRead(BaseModel):
    person_id: int
    name: str
    department: str
    job: str
    profile_path: str | None


class CreditsRead(BaseModel):
    id: int = Field(description="The movie id")
    cast: list[CastRead]
    crew: list[CrewRead]


class MovieCast(BaseModel):
    """A person's role in one movie (the person's side of a cast credit)."""

    movie_id: int
    character: str
    order: int


class MovieCrew(BaseModel):
    movie_id: int
    department: str
    job: str


class MovieCredits(BaseModel):
    """The movies a person is credited in: ``append_to_response=movie_credits``."""

    cast: list[MovieCast] = Field(default_factory=list)
    crew: list[MovieCrew] = Field(default_factory=list)


class KeywordWrite(BaseModel):
    model_config = _WRITE

    name: SafeStr = Field(min_length=1, max_length=200)


class KeywordRead(BaseModel):
    id: int
    name: str


class AnalysisWrite(RootModel[dict[str, JsonValue]]):
    """Any JSON object of at most 64 KiB (compact), storable by every documents adapter."""

    @model_validator(mode="after")
    def _storable(self) -> AnalysisWrite:
        _check_json(self.root, depth=1)
        size = len(orjson.dumps(self.root))
        if size > MAX_ANALYSIS_BYTES:
            raise ValueError(
                f"the analysis is {size} bytes as compact JSON; at most {MAX_ANALYSIS_BYTES}"
            )
        return self


class AnalysisRead(BaseModel):
    id: int = Field(description="The movie id")
    analysis: dict[str, JsonValue]
    updated_at: datetime


def _check_json(value: Any, *, depth: int) -> None:
    """Refuse what some documents adapter cannot store faithfully."""
    if depth > MAX_ANALYSIS_DEPTH:
        raise ValueError(f"the analysis nests deeper than {MAX_ANALYSIS_DEPTH} levels")
    if isinstance(value, dict):
        for key, item in value.items():
            _without_nul(key)
            # MongoDB gives "$"-prefixed names operator meaning.
            if key.startswith("$"):
                raise ValueError(f"a key may not start with '$': {key[:40]!r}")
            _check_json(item, depth=depth + 1)
    elif isinstance(value, list):
        for item in value:
            _check_json(item, depth=depth + 1)
    elif isinstance(value, str):
        _without_nul(value)
    elif isinstance(value, float) and not math.isfinite(value):
        raise ValueError("numbers must be finite (no NaN or Infinity)")
    elif isinstance(value, int) and not isinstance(value, bool) and not -_INT64 <= value < _INT64:
        # MongoDB stores at most 64-bit integers.
        raise ValueError("integers must fit in 64 bits")


class ReviewAnalysisRead(BaseModel):
    """The sentiment the ai service found in one review, and whether the review is public."""

    review_id: UUID
    movie_id: int
    compound: float = Field(description="VADER's overall score, from -1 (negative) to 1")
    positive: float = Field(description="Share of the text read as positive, 0 to 1")
    neutral: float
    negative: float
    label: Literal["positive", "neutral", "negative"]
    model: str = Field(description="What scored it, e.g. vader-3.3.2")
    scored_at: datetime
    visible: bool = Field(
        description="False while the review is removed (hidden or deleted); such reviews are "
        "left out of the movie's review sentiment"
    )
    updated_at: datetime


class ReviewSentimentRead(BaseModel):
    """A movie's sentiment over its visible review analyses. A movie none of whose reviews was
    analysed has ``count`` 0 and nulls: metadata does not own movies, so it cannot tell an
    unknown movie from one nobody reviewed and answers both alike."""

    movie_id: int
    count: int = Field(description="Visible reviews with an analysis")
    mean_compound: float | None = Field(description="Mean compound score, to 4 decimals")
    positive_count: int
    neutral_count: int
    negative_count: int
    model: str | None = Field(
        description="The model that scored every counted review; null when there are none, or "
        "while reviews scored by different models are mixed (during a rescoring)"
    )
