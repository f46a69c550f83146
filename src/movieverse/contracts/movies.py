"""Events the movies service publishes: the movie snapshot, built by one function of the movies
service (``service.movie_snapshot``), and deletions."""

from __future__ import annotations

from datetime import date

from pydantic import Field

from movieverse.contracts.envelope import Event, EventPayload


class MovieSnapshot(EventPayload):
    """What consumers (search, recommendations, notifications, ai) need of a movie, so they need
    not call back. Published as :class:`MovieCreated` or :class:`MovieUpdated`."""

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


class MovieCreated(MovieSnapshot):
    event_type = "movies.movie.created"


class MovieUpdated(MovieSnapshot):
    event_type = "movies.movie.updated"

    # The snapshot fields that changed, when the change is known to touch only these (a new
    # rating moves vote_average and vote_count alone); None: any field may have changed. Lets a
    # consumer pass over what does not concern it without a transaction of its own.
    changed: list[str] | None = None


class MovieDeleted(EventPayload):
    event_type = "movies.movie.deleted"

    movie_id: int


SNAPSHOT_EVENTS = frozenset({MovieCreated.event_type, MovieUpdated.event_type})
MOVIE_EVENTS = SNAPSHOT_EVENTS | {MovieDeleted.event_type}


def read_snapshot(event: Event) -> MovieCreated | MovieUpdated:
    """A ``movies.movie.created`` or ``movies.movie.updated`` event's snapshot."""
    if event.type == MovieUpdated.event_type:
        return MovieUpdated.from_event(event)
    return MovieCreated.from_event(event)


def changed_fields(event: Event) -> frozenset[str] | None:
    """The fields a movie update is known to touch alone, read without validating the payload
    (consumers use it to pass over an update before any transaction); None: any field."""
    changed = event.payload.get("changed") if event.type == MovieUpdated.event_type else None
    return frozenset(changed) if isinstance(changed, list) else None
