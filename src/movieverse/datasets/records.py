"""The records the dataset parsers yield, the bad-row report, and the errors they raise.

Records are frozen, slotted dataclasses rather than pydantic models: parsers build millions of them
(ml-25m has 25M ratings) and validation already happened field by field while parsing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import NoReturn


@dataclass(frozen=True, slots=True)
class BadRow:
    """A row that was skipped: the file (as opened), the physical line where the row starts
    (1-based, counting ``\\n`` like ``wc -l``/``sed -n``), and why."""

    file: str
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.reason}"


# Where bad rows go. ``list.append`` fits, so collecting is ``report=bad_rows.append``.
Report = Callable[[BadRow], None]


class DatasetError(Exception):
    """Base class of every error the dataset parsers raise."""


class DatasetNotFoundError(DatasetError, FileNotFoundError):
    """A dataset, or a file a layout needs, is missing (or the dataset name is unknown)."""


class DatasetFormatError(DatasetError):
    """A whole file cannot be read: missing header columns, undecodable bytes, ambiguous layout."""


class BadRowError(DatasetError):
    """Raised for the first bad row when the caller passed no ``report`` (strict by default)."""

    def __init__(self, bad_row: BadRow) -> None:
        super().__init__(str(bad_row))
        self.bad_row = bad_row


def raise_bad_row(bad_row: BadRow) -> NoReturn:
    """The default report: stop at the first bad row, so nothing is ever skipped unnoticed."""
    raise BadRowError(bad_row)


@dataclass(frozen=True, slots=True)
class MovieLensMovie:
    movie_id: int
    # Display title: year and alternate titles removed, trailing article moved to the front.
    title: str
    raw_title: str
    year: int | None
    # "(no genres listed)" (latest/25m/32m) and "unknown" (100k) become an empty tuple.
    genres: tuple[str, ...]
    # "tt" + at least 7 digits; None when links.csv has none (and always for ml-100k).
    imdb_id: str | None
    tmdb_id: int | None
    # Titles MovieLens gives in trailing parentheses ("a.k.a." removed, articles moved).
    alternate_titles: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class MovieLensTag:
    user_id: int
    movie_id: int
    tag: str
    timestamp: datetime
    # Where the row starts in tags.csv, so a tag the importer cannot use is reported there.
    line: int = 0


@dataclass(frozen=True, slots=True)
class MovieLensRating:
    user_id: int
    movie_id: int
    rating: float
    timestamp: datetime
    # Where the row starts, so a rating the importer cannot place is reported there.
    line: int = 0


@dataclass(frozen=True, slots=True)
class TmdbMovie:
    tmdb_id: int
    title: str
    original_title: str
    original_language: str
    # Empty text columns become None.
    overview: str | None
    tagline: str | None
    release_date: date | None
    # TMDB writes 0 for "unknown" runtime, budget and revenue; those become None.
    runtime: int | None
    status: str
    budget: int | None
    revenue: int | None
    homepage: str | None
    popularity: float
    vote_average: float
    vote_count: int
    genres: tuple[tuple[int, str], ...]
    keywords: tuple[tuple[int, str], ...]
    production_companies: tuple[tuple[int, str], ...]
    # (iso_3166_1, name)
    production_countries: tuple[tuple[str, str], ...]
    # (iso_639_1, name); TMDB leaves some names empty, kept as "".
    spoken_languages: tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class TmdbCastMember:
    # TMDB person id: the same person has the same id in every movie's credits.
    person_id: int
    name: str
    # "" when TMDB names no character (common for uncredited and voice roles).
    character: str
    # Billing position, lower first. Members are kept in the file's order; the importer sorts.
    order: int
    # TMDB's codes: 0 unknown, 1 female, 2 male.
    gender: int
    # TMDB's id of this one credit (a person with two characters has two).
    credit_id: str


@dataclass(frozen=True, slots=True)
class TmdbCrewMember:
    person_id: int
    name: str
    department: str
    job: str
    gender: int
    credit_id: str


@dataclass(frozen=True, slots=True)
class TmdbCredits:
    """One row of tmdb_5000_credits.csv: a movie's whole cast and crew."""

    tmdb_id: int
    title: str
    cast: tuple[TmdbCastMember, ...]
    crew: tuple[TmdbCrewMember, ...]
    # Where the row starts in the file, so credits the importer cannot use (a movie missing from
    # the catalog, a member its schema refuses) are reported there.
    line: int = 0
