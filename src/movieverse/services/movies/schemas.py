"""Movies' request and response models (TMDB-shaped, so TMDB clients feel at home)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, StringConstraints

_WRITE = ConfigDict(extra="forbid")

Status = Literal["Rumored", "Planned", "In Production", "Post Production", "Released", "Canceled"]
ImagePath = Annotated[str, StringConstraints(pattern=r"^/[A-Za-z0-9._-]{1,290}$")]
LanguageCode = Annotated[str, StringConstraints(pattern=r"^[a-z]{2,3}$")]
ImdbId = Annotated[str, StringConstraints(pattern=r"^tt\d{7,10}$")]
PositiveId = Annotated[int, Field(ge=1, le=2**31 - 1)]
Money = Annotated[int, Field(ge=0, le=10**13)]


class SpokenLanguage(BaseModel):
    model_config = _WRITE

    iso_639_1: LanguageCode
    name: str = Field(max_length=100)


class ProductionCountry(BaseModel):
    model_config = _WRITE

    iso_3166_1: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]
    name: str = Field(max_length=100)


class ProductionCompany(BaseModel):
    model_config = _WRITE

    id: int | None = None
    name: str = Field(max_length=200)


class _MovieFields(BaseModel):
    model_config = _WRITE

    tmdb_id: PositiveId | None = None
    imdb_id: ImdbId | None = None
    original_title: str | None = Field(default=None, max_length=300)
    original_language: LanguageCode | None = None
    overview: str | None = Field(default=None, max_length=10_000)
    tagline: str | None = Field(default=None, max_length=500)
    release_date: date | None = None
    runtime: Annotated[int, Field(ge=0, le=10_000)] | None = None
    status: Status | None = None
    budget: Money | None = None
    revenue: Money | None = None
    adult: bool | None = None
    homepage: AnyHttpUrl | None = Field(default=None, max_length=1000)
    poster_path: ImagePath | None = None
    backdrop_path: ImagePath | None = None
    genre_ids: list[PositiveId] | None = Field(default=None, max_length=20)
    keyword_ids: list[PositiveId] | None = Field(default=None, max_length=500)
    spoken_languages: list[SpokenLanguage] | None = Field(default=None, max_length=50)
    production_countries: list[ProductionCountry] | None = Field(default=None, max_length=50)
    production_companies: list[ProductionCompany] | None = Field(default=None, max_length=100)
    popularity: Annotated[float, Field(ge=0, le=1e9)] | None = None
    vote_average: Annotated[float, Field(ge=0, le=10)] | None = None
    vote_count: Annotated[int, Field(ge=0, le=2**31 - 1)] | None = None


class MovieCreate(_MovieFields):
    title: str = Field(min_length=1, max_length=300)


class MovieUpdate(_MovieFields):
    """Partial update: only the fields sent change."""

    title: str | None = Field(default=None, min_length=1, max_length=300)


class GenreRead(BaseModel):
    id: int
    name: str


class KeywordRead(BaseModel):
    id: int
    name: str


class MovieRead(BaseModel):
    id: int
    tmdb_id: int | None
    imdb_id: str | None
    title: str
    original_title: str | None
    original_language: str | None
    overview: str | None
    tagline: str | None
    release_date: date | None
    runtime: int | None
    status: str | None
    budget: int | None
    revenue: int | None
    adult: bool
    homepage: str | None
    poster_path: str | None
    backdrop_path: str | None
    genres: list[GenreRead]
    spoken_languages: list[dict[str, object]]
    production_countries: list[dict[str, object]]
    production_companies: list[dict[str, object]]
    popularity: float
    vote_average: float
    vote_count: int
    updated_at: datetime


class MovieSummary(BaseModel):
    """A movie in a list: what a poster grid needs."""

    id: int
    title: str
    original_title: str | None
    original_language: str | None
    overview: str | None
    release_date: date | None
    genre_ids: list[int]
    popularity: float
    vote_average: float
    vote_count: int
    poster_path: str | None
    backdrop_path: str | None
    adult: bool


class MovieChange(BaseModel):
    id: int
    updated_at: datetime
    deleted: bool


class ChangesPage(BaseModel):
    results: list[MovieChange]
    next_cursor: str | None = Field(
        description="Pass as `since` to continue; null when you are up to date"
    )


class FindResult(BaseModel):
    movie_results: list[MovieSummary]
