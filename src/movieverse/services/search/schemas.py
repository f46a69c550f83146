"""The search service's response models."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field

from movieverse.platform.pagination import Page


class MovieHighlight(BaseModel):
    title: str | None = None
    original_title: str | None = None
    overview: str | None = None


# The movie's year as the movies service shows it (there: ``release_year``), from the indexed
# document: release_date's year, else the year the source gave.
_RELEASE_YEAR = (
    "The year of release_date, or the year the source gave when the exact date is unknown "
    "(MovieLens knows only years); null when neither is known"
)
_YEAR = "The same as release_year (the name search answered first; kept for existing clients)"


class MovieResult(BaseModel):
    media_type: Literal["movie"] = "movie"
    id: int
    title: str
    original_title: str | None
    overview: str | None
    release_date: date | None
    release_year: int | None = Field(description=_RELEASE_YEAR)
    year: int | None = Field(description=_YEAR, json_schema_extra={"deprecated": True})
    genres: list[str]
    original_language: str | None
    popularity: float
    vote_average: float
    vote_count: int
    adult: bool
    score: float
    highlight: MovieHighlight


class FacetCountRead(BaseModel):
    value: str
    count: int


class MovieFacetsRead(BaseModel):
    genres: list[FacetCountRead]
    decades: list[FacetCountRead]
    languages: list[FacetCountRead]


class MovieSearchPage(Page[MovieResult]):
    facets: MovieFacetsRead
    # True when no movie matched every word and the results match some of them.
    relaxed: bool


class SemanticSearchPage(Page[MovieResult]):
    # "semantic": nearest by meaning (score: cosine similarity); "hybrid": that ranking fused
    # with the text ranking by reciprocal rank fusion (score: the fused score).
    mode: Literal["semantic", "hybrid"]


class PersonHighlight(BaseModel):
    name: str | None = None


class PersonResult(BaseModel):
    media_type: Literal["person"] = "person"
    id: int
    name: str
    known_for_department: str | None
    popularity: float
    profile_path: str | None
    score: float
    highlight: PersonHighlight


class PersonSearchPage(Page[PersonResult]):
    relaxed: bool


class ReviewHighlight(BaseModel):
    title: str | None = None
    body: str | None = None  # left out of spoiler reviews unless asked for


class ReviewResult(BaseModel):
    id: str
    movie_id: int
    username: str
    title: str | None
    spoiler: bool
    language: str | None
    created_at: datetime | None
    score: float
    highlight: ReviewHighlight


class ReviewSearchPage(Page[ReviewResult]):
    relaxed: bool


class MultiSearchPage(Page[MovieResult | PersonResult]):
    pass


class SuggestionRead(BaseModel):
    type: Literal["movie", "person"]
    id: int
    text: str
    release_year: int | None = Field(description=_RELEASE_YEAR + "; null for a person")
    year: int | None = Field(description=_YEAR, json_schema_extra={"deprecated": True})
    highlight: str


class SuggestionList(BaseModel):
    query: str
    suggestions: list[SuggestionRead]
