"""Movies' request and response models (TMDB-shaped, so TMDB clients feel at home)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AnyHttpUrl,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
)
from pydantic_core import PydanticCustomError

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


# What to send instead of null, for each field that cannot be null.
NOT_NULL = {
    "title": "every movie has a title",
    "adult": "send true or false",
    "genre_ids": "send [] for none",
    "keyword_ids": "send [] for none",
    "spoken_languages": "send [] for none",
    "production_countries": "send [] for none",
    "production_companies": "send [] for none",
    "popularity": "send 0 for none",
    "vote_average": "send 0 with vote_count 0 for no votes",
    "vote_count": "send 0 for no votes",
}


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
    homepage: AnyHttpUrl | None = Field(default=None, max_length=1000)
    poster_path: ImagePath | None = None
    backdrop_path: ImagePath | None = None
    # The fields below have no "unknown": every movie has a number, a flag or a list there, and
    # null is refused (a 422 naming the field) rather than stored as a made-up 0, false or [].
    # Writes apply only the fields sent, so these defaults are what a new movie starts from.
    adult: bool = False
    genre_ids: list[PositiveId] = Field(default_factory=list, max_length=20)
    keyword_ids: list[PositiveId] = Field(default_factory=list, max_length=500)
    spoken_languages: list[SpokenLanguage] = Field(default_factory=list, max_length=50)
    production_countries: list[ProductionCountry] = Field(default_factory=list, max_length=50)
    production_companies: list[ProductionCompany] = Field(default_factory=list, max_length=100)
    popularity: float = Field(default=0.0, ge=0, le=1e9)
    vote_average: float = Field(default=0.0, ge=0, le=10)
    vote_count: int = Field(default=0, ge=0, le=2**31 - 1)

    @field_validator(*NOT_NULL, mode="before", check_fields=False)
    @classmethod
    def _not_null(cls, value: object, info: ValidationInfo) -> object:
        if value is None:
            raise PydanticCustomError(
                "null_not_allowed",
                "{field} cannot be null: {instead}",
                {"field": info.field_name, "instead": NOT_NULL[str(info.field_name)]},
            )
        return value


class MovieCreate(_MovieFields):
    title: str = Field(min_length=1, max_length=300)


def _without_defaults(schema: dict[str, Any]) -> None:
    for field in schema.get("properties", {}).values():
        field.pop("default", None)


class MovieUpdate(_MovieFields):
    """Partial update: only the fields sent change; a field left out keeps its value."""

    # OpenAPI shows no defaults here: a PATCH never applies one, and "default: 0" would read as
    # "leaving popularity out sets it to 0".
    model_config = ConfigDict(extra="forbid", json_schema_extra=_without_defaults)

    # The default is never applied (see above); a title sent as null is refused like the fields
    # above, and an empty one by min_length.
    title: str = Field(default="", min_length=1, max_length=300)


ReleaseYear = Annotated[
    int | None,
    Field(
        description=(
            "The year of release_date, or the year the source gave when the exact date is "
            "unknown (MovieLens knows only years); null when neither is known"
        )
    ),
]


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
    release_year: ReleaseYear
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
    release_year: ReleaseYear
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
