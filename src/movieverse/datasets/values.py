"""Parsing of single field values. Every function raises ``ValueError`` with a message naming the
column and the offending text; the row parsers turn that message into a :class:`BadRow` reason.

Python's ``int()`` and ``float()`` are too lenient for ids: they accept ``" 7"``, ``"+7"``,
``"7_0"``, ``"nan"`` and non-ASCII digits. An id is therefore checked to be plain ASCII digits.
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime

IMDB_PREFIX = "tt"
# IMDb ids are "tt" and at least seven digits (zero-padded); newer titles have eight.
IMDB_MIN_DIGITS = 7
MIN_RATING = 0.5
MAX_RATING = 5.0


def parse_id(text: str, column: str) -> int:
    """A required positive integer id."""
    if not (text.isascii() and text.isdigit()) or int(text) == 0:
        raise ValueError(f"{column}: expected a positive integer, got {text!r}")
    return int(text)


def parse_optional_id(text: str, column: str) -> int | None:
    """A positive integer id, or None when the field is empty (links.csv tmdbId may be)."""
    if text == "":
        return None
    return parse_id(text, column)


def normalise_imdb_id(text: str, column: str = "imdbId") -> str | None:
    """Canonical IMDb id: ``"114709"``, ``"0114709"`` and ``"tt0114709"`` all give ``"tt0114709"``.

    links.csv stores the digits only, mostly but not always padded to seven; the catalog and TMDB
    use the ``tt`` form, so ids are compared in that form only. Empty means "no IMDb id" (None).
    """
    if text == "":
        return None
    digits = text[len(IMDB_PREFIX) :] if text.startswith(IMDB_PREFIX) else text
    if not (digits.isascii() and digits.isdigit()) or int(digits) == 0:
        raise ValueError(f"{column}: expected IMDb digits or tt-id, got {text!r}")
    # Through int() so that over-padded digits ("00114709") normalise to the same id.
    return f"{IMDB_PREFIX}{int(digits):0{IMDB_MIN_DIGITS}d}"


def parse_timestamp(text: str, column: str = "timestamp") -> datetime:
    """Unix seconds as an aware UTC datetime."""
    if not (text.isascii() and text.isdigit()):
        raise ValueError(f"{column}: expected Unix seconds, got {text!r}")
    try:
        return datetime.fromtimestamp(int(text), UTC)
    except (OverflowError, OSError, ValueError) as exc:
        raise ValueError(f"{column}: timestamp out of range: {text!r}") from exc


def parse_rating(text: str, column: str = "rating") -> float:
    """A MovieLens rating: 0.5 to 5.0 in half stars (ml-100k only uses whole stars)."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    # NaN fails every comparison, so "nan" and garbage land here too.
    if not (MIN_RATING <= value <= MAX_RATING and (value * 2).is_integer()):
        raise ValueError(f"{column}: expected 0.5 to 5.0 in steps of 0.5, got {text!r}")
    return value


# The ratings MovieLens writes, by their exact text: a dict lookup is several times cheaper than
# float() plus range checks, and ratings are most of the rows there are (25M in ml-25m).
_RATING_BY_TEXT: dict[str, float] = {
    **{f"{half / 2:.1f}": half / 2 for half in range(1, 11)},  # "0.5" … "5.0" (CSV layout)
    **{str(whole): float(whole) for whole in range(1, 6)},  # "1" … "5" (ml-100k)
}


def parse_rating_fields(
    user_text: str, movie_text: str, rating_text: str, timestamp_text: str
) -> tuple[int, int, float, datetime]:
    """One rating row's values: (user id, movie id, rating, timestamp).

    The fast path covers well-formed rows with the same rules as the strict parsers; anything else
    goes through those parsers, so the error names the offending column.
    """
    rating = _RATING_BY_TEXT.get(rating_text)
    digits = user_text + movie_text + timestamp_text
    if (
        rating is not None
        and user_text
        and movie_text
        and timestamp_text
        and digits.isascii()
        and digits.isdigit()
    ):
        user_id = int(user_text)
        movie_id = int(movie_text)
        if user_id and movie_id:
            try:
                return user_id, movie_id, rating, datetime.fromtimestamp(int(timestamp_text), UTC)
            except (OverflowError, OSError, ValueError):
                pass  # out-of-range timestamp: parse_timestamp below says so
    return (
        parse_id(user_text, "userId"),
        parse_id(movie_text, "movieId"),
        parse_rating(rating_text),
        parse_timestamp(timestamp_text),
    )


def parse_float(text: str, column: str) -> float:
    """A required finite float (``"nan"`` and ``"inf"`` are not data)."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise ValueError(f"{column}: expected a number, got {text!r}")
    return value


def parse_count(text: str, column: str) -> int:
    """A required non-negative integer (vote counts)."""
    if not (text.isascii() and text.isdigit()):
        raise ValueError(f"{column}: expected a non-negative integer, got {text!r}")
    return int(text)


def parse_unknown_if_zero(text: str, column: str) -> int | None:
    """TMDB budget, revenue and runtime: empty or 0 means unknown (None).

    Integral floats (``"94.0"``) are accepted because pandas writes integer columns that contain a
    missing value as floats, and re-exported copies of the Kaggle file often went through pandas.
    """
    if text == "":
        return None
    if text.isascii() and text.isdigit():
        value = int(text)
    else:
        number = parse_float(text, column)
        if number < 0 or not number.is_integer():
            raise ValueError(f"{column}: expected a non-negative whole number, got {text!r}")
        value = int(number)
    return value or None


def parse_iso_date(text: str, column: str) -> date | None:
    """``YYYY-MM-DD`` or empty (None)."""
    if text == "":
        return None
    # date.fromisoformat alone would also take "20091210" and week dates ("2009-W50-4").
    if len(text) != len("YYYY-MM-DD") or text[4] != "-" or text[7] != "-":
        raise ValueError(f"{column}: expected YYYY-MM-DD, got {text!r}")
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise ValueError(f"{column}: expected YYYY-MM-DD, got {text!r}") from exc


def optional_text(text: str) -> str | None:
    """Empty or blank text is absent; other text is kept as written, only trimmed."""
    stripped = text.strip()
    return stripped or None
