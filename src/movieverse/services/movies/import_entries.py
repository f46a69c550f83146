"""Source records turned into import entries: the ids a record carries, the columns it provides,
its genres, and its keywords (TMDB keyword ids, or MovieLens tags as keyword names)."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from movieverse.datasets import BadRow, MovieLensMovie, MovieLensTag, Report, TmdbMovie
from movieverse.services.movies.genres import MOVIELENS_GENRES

# movies_keywords.name is a String(200).
MAX_KEYWORD_LENGTH = 200


@dataclass
class ImportEntry:
    """One source record, normalised."""

    source: str
    tmdb_id: int | None
    imdb_id: str | None
    movielens_id: int | None
    values: dict[str, Any]
    genres: dict[int, str]
    # Keywords the source names by id (TMDB) ...
    keywords: dict[int, str] = field(default_factory=dict)
    # ... and by name only (MovieLens tags); the importer finds or allocates their ids.
    tag_names: frozenset[str] = frozenset()
    # An ml-100k item id: not a MovieLens movie id (see Movie.ml100k_id).
    ml100k_id: int | None = None


def keyword_name(tag: str) -> str:
    """A tag as a keyword name: NFC, whitespace collapsed, lower case -- TMDB writes its
    keywords in lower case, so "Dystopia" and "dystopia " become the one keyword "dystopia"."""
    return " ".join(unicodedata.normalize("NFC", tag).split()).lower()


def tmdb_entry(movie: TmdbMovie) -> ImportEntry:
    values: dict[str, Any] = {
        "title": movie.title,
        "title_sort": movie.title.casefold(),
        "original_title": movie.original_title,
        "original_language": movie.original_language or None,
        "overview": movie.overview,
        "tagline": movie.tagline,
        "release_date": movie.release_date,
        "release_year": movie.release_date.year if movie.release_date else None,
        "runtime": movie.runtime,
        "status": movie.status or None,
        "budget": movie.budget,
        "revenue": movie.revenue,
        "homepage": movie.homepage,
        "popularity": movie.popularity,
        # The source's votes; the score lists show pools them with MovieVerse's ratings.
        "source_vote_average": movie.vote_average,
        "source_vote_count": movie.vote_count,
        "production_companies": [{"id": i, "name": n} for i, n in movie.production_companies],
        "production_countries": [
            {"iso_3166_1": c, "name": n} for c, n in movie.production_countries
        ],
        "spoken_languages": [{"iso_639_1": c, "name": n} for c, n in movie.spoken_languages],
    }
    return ImportEntry(
        source="tmdb",
        tmdb_id=movie.tmdb_id,
        imdb_id=None,
        movielens_id=None,
        values=values,
        genres=dict(movie.genres),
        keywords=dict(movie.keywords),
    )


def movielens_entry(
    movie: MovieLensMovie,
    genre_names: Mapping[int, str],
    tags: Iterable[str] = (),
    *,
    layout: str = "csv",
) -> ImportEntry:
    """A MovieLens movie; ``layout`` "100k" marks ml-100k, whose item ids are its own."""
    genres = {
        MOVIELENS_GENRES[name]: genre_names[MOVIELENS_GENRES[name]]
        for name in movie.genres
        if name in MOVIELENS_GENRES
    }
    return ImportEntry(
        source="movielens",
        tmdb_id=movie.tmdb_id,
        imdb_id=movie.imdb_id,
        movielens_id=movie.movie_id if layout != "100k" else None,
        ml100k_id=movie.movie_id if layout == "100k" else None,
        values={
            "title": movie.title,
            "title_sort": movie.title.casefold(),
            "release_year": movie.year,
            "alternative_titles": sorted(set(movie.alternate_titles) - {movie.title}) or None,
        },
        genres=genres,
        tag_names=frozenset(tags),
    )


class TagIndex:
    """MovieLens tags grouped by movie, as keyword names.

    Tags are read whole before the movies stream past (ml-32m has 2M tag rows, but far fewer
    distinct (movie, keyword) pairs). A tag that cannot be a keyword is reported and skipped; so
    is a tag of a movie the movie file does not have, once the movies have been read
    (:meth:`report_orphans`)."""

    def __init__(self, tags: Iterable[MovieLensTag], *, report: Report, file: str) -> None:
        self._file = file
        self._report = report
        self._by_movie: dict[int, set[str]] = {}
        self._first_line: dict[int, int] = {}
        self._claimed: set[int] = set()
        for tag in tags:
            name = keyword_name(tag.tag)
            if not name:
                report(BadRow(file, tag.line, "tag: empty once whitespace is removed"))
                continue
            if len(name) > MAX_KEYWORD_LENGTH:
                reason = f"tag: longer than {MAX_KEYWORD_LENGTH} characters, cannot be a keyword"
                report(BadRow(file, tag.line, reason))
                continue
            self._by_movie.setdefault(tag.movie_id, set()).add(name)
            self._first_line.setdefault(tag.movie_id, tag.line)

    def of(self, movielens_id: int) -> frozenset[str]:
        self._claimed.add(movielens_id)
        return frozenset(self._by_movie.get(movielens_id, ()))

    def report_orphans(self) -> None:
        """Report the tags of movies that :meth:`of` was never asked about."""
        for movie_id in sorted(self._by_movie.keys() - self._claimed):
            line = self._first_line[movie_id]
            self._report(BadRow(self._file, line, f"tags of movieId {movie_id}, not a movie"))
