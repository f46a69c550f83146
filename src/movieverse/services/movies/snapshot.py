"""The movie snapshot its events carry, built in one place for every write path: the API's
writes, the rating totals, and bulk imports (``importer.py``) all publish exactly this."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from movieverse.contracts.movies import MovieCreated, MovieUpdated

Snapshot = MovieCreated | MovieUpdated

# The movie's own columns a snapshot copies, by their names in the movies table.
COLUMNS = (
    "tmdb_id",
    "imdb_id",
    "title",
    "original_title",
    "alternative_titles",
    "original_language",
    "overview",
    "release_date",
    "release_year",
    "popularity",
    "vote_average",
    "vote_count",
    "adult",
)


def movie_snapshot(
    kind: type[MovieCreated] | type[MovieUpdated],
    *,
    movie_id: int,
    columns: Mapping[str, Any],
    genres: Iterable[tuple[int, str]],
    keywords: Iterable[str],
    changed: list[str] | None = None,
) -> Snapshot:
    """``columns`` by name (a row, or an ORM movie's attributes; absent ones are empty),
    ``genres`` as (id, name). Genres are listed by name, their ids in the same order, keywords
    by name: every path orders them alike. Validated (about 3 us a movie)."""
    ordered = sorted(genres, key=lambda genre: (genre[1], genre[0]))
    extra = {"changed": changed} if changed is not None else {}
    return kind(
        movie_id=movie_id,
        tmdb_id=columns.get("tmdb_id"),
        imdb_id=columns.get("imdb_id"),
        title=columns["title"],
        original_title=columns.get("original_title"),
        alternative_titles=columns.get("alternative_titles") or [],
        original_language=columns.get("original_language"),
        overview=columns.get("overview"),
        release_date=columns.get("release_date"),
        release_year=columns.get("release_year"),
        genres=[name for _, name in ordered],
        genre_ids=[genre_id for genre_id, _ in ordered],
        keywords=sorted(keywords),
        popularity=columns.get("popularity") or 0.0,
        vote_average=columns.get("vote_average") or 0.0,
        vote_count=columns.get("vote_count") or 0,
        adult=bool(columns.get("adult")),
        **extra,
    )
