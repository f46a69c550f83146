"""MovieLens datasets: the CSV layout (ml-latest-small, ml-25m, ml-32m) and ml-100k.

``read_movielens(path)`` checks which layout the directory holds; the dataset's ``movies()``,
``tags()`` and ``ratings()`` then stream records, re-reading the files on each call (nothing is
cached, so ml-25m's 25M ratings never sit in memory).

Decisions, per file:
- Bad rows (garbage or empty required values, wrong field count, unparsable CSV) are reported with
  file, line and reason and skipped. Without a ``report`` the first bad row raises BadRowError.
- A duplicated id is reported and skipped; the first occurrence wins (movies.csv/u.item movieId,
  links.csv movieId, a (userId, movieId) rating). Tags are events, not keyed, so repeats are kept.
- links.csv is required by ``movies()`` in the CSV layout: importing without it would create movies
  that can never be matched by external id. ``imdbId`` is normalised to ``tt`` + 7+ digits; an empty
  ``tmdbId``/``imdbId`` is None. A links row whose movieId is not in movies.csv is reported once
  ``movies()`` has been read to the end. Two movies sharing a tmdbId (ml-latest-small: 6003 and
  144606 both link 4912) are both kept with it: that is no malformed row, and deciding what two
  MovieLens entries for one TMDB movie mean belongs to the importer.
- Genres: ``(no genres listed)`` (CSV) and ``unknown`` (100k) are placeholders, so they give ``()``.
  ml-100k genre names come from ``u.genre`` (index → name); a row with a flag other than 0/1, a set
  flag at an index ``u.genre`` does not name, or more/fewer flags than ``u.genre`` defines is bad.
  Names are kept as each release spells them (100k ``Children's``, later ``Children``).
- Duplicate ratings: the CSV files are ordered by userId (their README says so), so a per-user set
  finds duplicates with memory bounded by one user's ratings. If a user's rows were split into
  separate runs, duplicates across runs would not be seen. ml-100k's u.data is unordered but small,
  so every (user, movie) pair is remembered.
- Referential checks (a rating or tag for a movie that is not in the movie file) are the importer's,
  which maps every MovieLens id to a catalog id anyway.
- Encodings: CSV files are UTF-8 (a BOM is dropped); ml-100k is Latin-1 unless it starts with a
  UTF-8 BOM. Undecodable bytes raise DatasetFormatError: the rest of the file cannot be trusted.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from movieverse.datasets.delimited import csv_records, sniff_encoding, split_lines
from movieverse.datasets.records import (
    BadRow,
    DatasetFormatError,
    DatasetNotFoundError,
    MovieLensMovie,
    MovieLensRating,
    MovieLensTag,
    Report,
    raise_bad_row,
)
from movieverse.datasets.titles import parse_movielens_title
from movieverse.datasets.values import (
    normalise_imdb_id,
    parse_id,
    parse_optional_id,
    parse_rating_fields,
    parse_timestamp,
)

Layout = Literal["csv", "100k"]

NO_GENRES = frozenset({"(no genres listed)", "unknown"})
# u.item: movie id | title | release date | video release date | IMDb URL | one flag per genre
ML100K_LEADING_FIELDS = 5
ML100K_ENCODING = "latin-1"


@dataclass(frozen=True, slots=True)
class _Link:
    imdb_id: str | None
    tmdb_id: int | None
    line: int


def detect_layout(path: Path) -> Layout:
    """``"csv"`` when the directory has movies.csv, ``"100k"`` when it has u.item."""
    if not path.is_dir():
        raise DatasetNotFoundError(f"{path}: not a directory with a MovieLens dataset")
    has_csv = (path / "movies.csv").is_file()
    has_100k = (path / "u.item").is_file()
    if has_csv and has_100k:
        raise DatasetFormatError(f"{path}: holds both movies.csv and u.item; which one to read?")
    if has_csv:
        return "csv"
    if has_100k:
        return "100k"
    raise DatasetNotFoundError(f"{path}: no movies.csv (ml-latest/25m/32m) or u.item (ml-100k)")


def read_movielens(
    path: str | os.PathLike[str], *, report: Report | None = None
) -> MovieLensDataset:
    """Open the MovieLens dataset in directory ``path``; bad rows go to ``report``."""
    directory = Path(path)
    return MovieLensDataset(
        directory, detect_layout(directory), report if report is not None else raise_bad_row
    )


class MovieLensDataset:
    """One MovieLens directory. Each iterator method re-reads its files lazily."""

    def __init__(self, path: Path, layout: Layout, report: Report) -> None:
        self.path = path
        self.layout: Layout = layout
        self._report = report

    def __repr__(self) -> str:
        return f"MovieLensDataset({str(self.path)!r}, layout={self.layout!r})"

    def movies(self) -> Iterator[MovieLensMovie]:
        if self.layout == "100k":
            return self._movies_100k(self._file("u.item"), self._file("u.genre"))
        return self._movies_csv(self._file("movies.csv"), self._file("links.csv"))

    def tags(self) -> Iterator[MovieLensTag]:
        """User tags (the importer's keywords). ml-100k has no tags: it yields nothing."""
        if self.layout == "100k":
            return iter(())
        return self._tags_csv(self._file("tags.csv"))

    def ratings(self) -> Iterator[MovieLensRating]:
        if self.layout == "100k":
            return self._ratings_100k(self._file("u.data"))
        return self._ratings_csv(self._file("ratings.csv"))

    # Checked when the method is called, not on the first next(), so a missing file fails early.
    def _file(self, name: str) -> Path:
        file = self.path / name
        if not file.is_file():
            raise DatasetNotFoundError(f"{file}: missing from the MovieLens {self.layout} layout")
        return file

    def _bad(self, file: Path, line: int, reason: str) -> None:
        self._report(BadRow(str(file), line, reason))

    # CSV layout -----------------------------------------------------------------------------

    def _movies_csv(self, movies_file: Path, links_file: Path) -> Iterator[MovieLensMovie]:
        links = self._read_links(links_file)
        first_line: dict[int, int] = {}
        records = csv_records(
            movies_file, columns=("movieId", "title", "genres"), report=self._report
        )
        for line, (movie_id_text, raw_title, genres_text) in records:
            try:
                movie_id = parse_id(movie_id_text, "movieId")
            except ValueError as exc:
                self._bad(movies_file, line, str(exc))
                continue
            if movie_id in first_line:
                self._bad(movies_file, line, _duplicate("movieId", movie_id, first_line[movie_id]))
                continue
            if not raw_title.strip():
                self._bad(movies_file, line, "title: empty")
                continue
            first_line[movie_id] = line
            link = links.pop(movie_id, None)
            yield _movie(
                movie_id,
                raw_title,
                _split_genres(genres_text),
                imdb_id=link.imdb_id if link else None,
                tmdb_id=link.tmdb_id if link else None,
            )
        for movie_id, link in links.items():
            self._bad(links_file, link.line, f"movieId {movie_id} is not in movies.csv")

    def _read_links(self, links_file: Path) -> dict[int, _Link]:
        # ml-32m has 87k links: small enough to hold while movies.csv streams past.
        links: dict[int, _Link] = {}
        records = csv_records(
            links_file, columns=("movieId", "imdbId", "tmdbId"), report=self._report
        )
        for line, (movie_id_text, imdb_text, tmdb_text) in records:
            try:
                movie_id = parse_id(movie_id_text, "movieId")
                imdb_id = normalise_imdb_id(imdb_text, "imdbId")
                tmdb_id = parse_optional_id(tmdb_text, "tmdbId")
            except ValueError as exc:
                self._bad(links_file, line, str(exc))
                continue
            if movie_id in links:
                self._bad(links_file, line, _duplicate("movieId", movie_id, links[movie_id].line))
                continue
            links[movie_id] = _Link(imdb_id, tmdb_id, line)
        return links

    def _tags_csv(self, tags_file: Path) -> Iterator[MovieLensTag]:
        records = csv_records(
            tags_file, columns=("userId", "movieId", "tag", "timestamp"), report=self._report
        )
        for line, (user_text, movie_text, tag_text, timestamp_text) in records:
            try:
                user_id = parse_id(user_text, "userId")
                movie_id = parse_id(movie_text, "movieId")
                timestamp = parse_timestamp(timestamp_text)
            except ValueError as exc:
                self._bad(tags_file, line, str(exc))
                continue
            tag = tag_text.strip()
            if not tag:
                self._bad(tags_file, line, "tag: empty")
                continue
            yield MovieLensTag(user_id, movie_id, tag, timestamp, line)

    def _ratings_csv(self, ratings_file: Path) -> Iterator[MovieLensRating]:
        current_user = 0
        first_line: dict[int, int] = {}  # movieId → line, for the current user's run of rows
        records = csv_records(
            ratings_file,
            columns=("userId", "movieId", "rating", "timestamp"),
            report=self._report,
        )
        for line, (user_text, movie_text, rating_text, timestamp_text) in records:
            try:
                user_id, movie_id, rating, timestamp = parse_rating_fields(
                    user_text, movie_text, rating_text, timestamp_text
                )
            except ValueError as exc:
                self._bad(ratings_file, line, str(exc))
                continue
            if user_id != current_user:
                current_user = user_id
                first_line = {}
            elif movie_id in first_line:
                reason = _duplicate_rating(user_id, movie_id, first_line[movie_id])
                self._bad(ratings_file, line, reason)
                continue
            first_line[movie_id] = line
            yield MovieLensRating(user_id, movie_id, rating, timestamp, line)

    # ml-100k layout -------------------------------------------------------------------------

    def _movies_100k(self, item_file: Path, genre_file: Path) -> Iterator[MovieLensMovie]:
        genre_names = _read_genres_100k(genre_file)
        width = ML100K_LEADING_FIELDS + len(genre_names)
        first_line: dict[int, int] = {}
        encoding = sniff_encoding(item_file, ML100K_ENCODING)
        for line, fields in split_lines(item_file, delimiter="|", encoding=encoding):
            if len(fields) != width:
                reason = f"expected {width} fields (u.genre defines {len(genre_names)} genre flags)"
                self._bad(item_file, line, f"{reason}, found {len(fields)}")
                continue
            try:
                movie_id = parse_id(fields[0], "movie id")
                genres = _flagged_genres(fields[ML100K_LEADING_FIELDS:], genre_names)
            except ValueError as exc:
                self._bad(item_file, line, str(exc))
                continue
            if movie_id in first_line:
                self._bad(item_file, line, _duplicate("movie id", movie_id, first_line[movie_id]))
                continue
            raw_title = fields[1]
            if not raw_title.strip():
                self._bad(item_file, line, "title: empty")
                continue
            first_line[movie_id] = line
            # ml-100k only has an IMDb *search* URL, no id: its movies carry no external ids.
            yield _movie(movie_id, raw_title, genres, imdb_id=None, tmdb_id=None)

    def _ratings_100k(self, data_file: Path) -> Iterator[MovieLensRating]:
        first_line: dict[tuple[int, int], int] = {}
        encoding = sniff_encoding(data_file, ML100K_ENCODING)
        for line, fields in split_lines(data_file, delimiter="\t", encoding=encoding):
            if len(fields) != 4:  # user id, item id, rating, timestamp
                self._bad(data_file, line, f"expected 4 tab-separated fields, found {len(fields)}")
                continue
            try:
                user_id, movie_id, rating, timestamp = parse_rating_fields(*fields)
            except ValueError as exc:
                self._bad(data_file, line, str(exc))
                continue
            key = (user_id, movie_id)
            if key in first_line:
                self._bad(data_file, line, _duplicate_rating(user_id, movie_id, first_line[key]))
                continue
            first_line[key] = line
            yield MovieLensRating(user_id, movie_id, rating, timestamp, line)


def _movie(
    movie_id: int,
    raw_title: str,
    genres: tuple[str, ...],
    *,
    imdb_id: str | None,
    tmdb_id: int | None,
) -> MovieLensMovie:
    parsed = parse_movielens_title(raw_title)
    return MovieLensMovie(
        movie_id=movie_id,
        title=parsed.title,
        raw_title=raw_title,
        year=parsed.year,
        genres=genres,
        imdb_id=imdb_id,
        tmdb_id=tmdb_id,
        alternate_titles=parsed.alternate_titles,
    )


def _split_genres(text: str) -> tuple[str, ...]:
    # dict.fromkeys drops a repeated genre but keeps the file's order.
    names = (name.strip() for name in text.split("|"))
    return tuple(dict.fromkeys(name for name in names if name and name not in NO_GENRES))


def _read_genres_100k(genre_file: Path) -> list[str | None]:
    """u.genre as a list indexed by genre flag position; None where no genre has that index.

    u.item cannot be read without it, so any problem here is a DatasetFormatError, not a bad row.
    """
    names: dict[int, str] = {}
    encoding = sniff_encoding(genre_file, ML100K_ENCODING)
    for line, fields in split_lines(genre_file, delimiter="|", encoding=encoding):
        name, index_text = fields[0].strip(), fields[-1].strip()
        if len(fields) != 2 or not name or not (index_text.isascii() and index_text.isdigit()):
            raise DatasetFormatError(f"{genre_file}:{line}: expected 'name|index'")
        index = int(index_text)
        if index in names:
            raise DatasetFormatError(f"{genre_file}:{line}: genre index {index} appears twice")
        names[index] = name
    if not names:
        raise DatasetFormatError(f"{genre_file}: names no genres")
    return [names.get(index) for index in range(max(names) + 1)]


def _flagged_genres(flags: list[str], genre_names: list[str | None]) -> tuple[str, ...]:
    genres: list[str] = []
    for index, flag in enumerate(flags):
        if flag == "0":
            continue
        if flag != "1":
            raise ValueError(f"genre flag {index}: expected 0 or 1, got {flag!r}")
        name = genre_names[index]
        if name is None:
            raise ValueError(f"genre flag {index} is set but u.genre names no genre {index}")
        if name not in NO_GENRES:
            genres.append(name)
    return tuple(genres)


def _duplicate(column: str, value: int, first_line: int) -> str:
    return f"duplicate {column} {value} (first at line {first_line}; the first is kept)"


def _duplicate_rating(user_id: int, movie_id: int, first_line: int) -> str:
    return (
        f"duplicate rating of movie {movie_id} by user {user_id} "
        f"(first at line {first_line}; the first is kept)"
    )
