"""Events movies publishes."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field

from movieverse.platform.events.envelope import EventPayload


class _MovieSnapshot(EventPayload):
    """What consumers (search, recommendations) need of a movie, so they need not call back."""

    movie_id: int
    tmdb_id: int | None
    imdb_id: str | None
    title: str
    original_title: str | None
    # Other names it goes by (added after version 1, hence the default).
    alternative_titles: list[str] = Field(default_factory=list)
    original_language: str | None
    overview: str | None
    release_date: date | None
    # The year alone, when the day is unknown (MovieLens gives only years); added after
    # version 1, hence the default.
    release_year: int | None = None
    genres: list[str]
    # The same genres by id (what users' favourite genres and discover filters use), in the
    # order of ``genres``; added after version 1, hence the default.
    genre_ids: list[int] = Field(default_factory=list)
    # Keyword names (added after version 1 shipped, hence the default for older events).
    keywords: list[str] = Field(default_factory=list)
    popularity: float
    vote_average: float
    vote_count: int
    adult: bool


class MovieCreated(_MovieSnapshot):
    event_type = "movies.movie.created"


class MovieUpdated(_MovieSnapshot):
    event_type = "movies.movie.updated"

    # The snapshot fields that changed, when the change is known to touch only these (a new
    # rating moves vote_average and vote_count alone); None: any field may have changed. Lets a
    # consumer pass over what does not concern it without a transaction of its own.
    changed: list[str] | None = None


class ListChanged(BaseModel):
    """What movies reads of ``users.list.changed`` (tolerant: unknown fields are ignored)."""

    movie_id: int
    list: str
    action: str


USERS_LIST_CHANGED = "users.list.changed"


class CreditedPerson(BaseModel):
    person_id: int
    role: str


class CreditsChanged(BaseModel):
    """What movies reads of ``metadata.credits.changed``: who is in a movie, as cast or crew."""

    movie_id: int
    people: list[CreditedPerson]


METADATA_CREDITS_CHANGED = "metadata.credits.changed"


class MovieDeleted(EventPayload):
    event_type = "movies.movie.deleted"

    movie_id: int


class KeywordChanged(BaseModel):
    """What movies reads of ``metadata.keyword.changed``: the vocabulary's owner named a
    keyword; movies keeps its copy (for filters and ``append_to_response=keywords``) in step."""

    keyword_id: int
    name: str


METADATA_KEYWORD_CHANGED = "metadata.keyword.changed"


class MovieRatingsChanged(BaseModel):
    """What movies reads of ``reviews.movie_ratings.changed``: MovieVerse's ratings of a movie."""

    movie_id: int
    count: int
    average: float
    version: int


class ReviewActivity(BaseModel):
    """What trending reads of ``reviews.rating.changed`` and ``reviews.review.written``."""

    movie_id: int
    value: float | None = None  # a rating's; None when it was removed
    created: bool = True  # a review's; an edit is no new interest


REVIEWS_MOVIE_RATINGS_CHANGED = "reviews.movie_ratings.changed"
REVIEWS_RATING_CHANGED = "reviews.rating.changed"
REVIEWS_REVIEW_WRITTEN = "reviews.review.written"
