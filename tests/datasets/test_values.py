"""Single-value parsing: external ids, ids, ratings, timestamps, TMDB numbers."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from movieverse.datasets import normalise_imdb_id
from movieverse.datasets.values import (
    parse_id,
    parse_iso_date,
    parse_rating,
    parse_rating_fields,
    parse_timestamp,
    parse_unknown_if_zero,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("114709", "tt0114709"),  # links.csv without padding
        ("0114709", "tt0114709"),  # links.csv as shipped
        ("00114709", "tt0114709"),  # over-padded
        ("tt0114709", "tt0114709"),  # already canonical
        ("1", "tt0000001"),
        ("10872600", "tt10872600"),  # eight-digit ids are not truncated
        ("", None),
    ],
)
def test_normalise_imdb_id(text: str, expected: str | None) -> None:
    assert normalise_imdb_id(text) == expected


@pytest.mark.parametrize(
    "text", ["tt", "abc", "0", "0000000", "-114709", " 114709", "11.5", "\uff11\uff12\uff13"]
)
def test_normalise_imdb_id_rejects_garbage(text: str) -> None:
    with pytest.raises(ValueError, match="imdbId"):
        normalise_imdb_id(text)


@pytest.mark.parametrize("text", ["", "0", "-3", "+3", " 3", "3_0", "3.0", "x", "\u0663"])
def test_parse_id_accepts_plain_positive_ascii_digits_only(text: str) -> None:
    with pytest.raises(ValueError, match="movieId: expected a positive integer"):
        parse_id(text, "movieId")
    assert parse_id("3", "movieId") == 3


@pytest.mark.parametrize("text", ["0", "0.0", "5.5", "4.25", "nan", "inf", "", "four"])
def test_parse_rating_rejects_out_of_scale(text: str) -> None:
    with pytest.raises(ValueError, match="rating"):
        parse_rating(text)


def test_rating_fields_fast_path_agrees_with_the_strict_parsers() -> None:
    when = datetime(2000, 7, 30, 18, 45, 3, tzinfo=UTC)
    assert parse_rating_fields("1", "31", "2.5", "964982703") == (1, 31, 2.5, when)
    assert parse_rating_fields("1", "31", "4", "964982703")[2] == 4.0  # ml-100k style
    assert parse_rating_fields("1", "31", "4.50", "964982703")[2] == 4.5  # off the fast path
    for fields, column in [
        (("x", "31", "2.5", "964982703"), "userId"),
        (("0", "31", "2.5", "964982703"), "userId"),
        (("1", "", "2.5", "964982703"), "movieId"),
        (("1", "31", "9", "964982703"), "rating"),
        (("1", "31", "2.5", ""), "timestamp"),
        (("1", "31", "2.5", "99999999999999999999"), "timestamp"),
    ]:
        with pytest.raises(ValueError, match=column):
            parse_rating_fields(*fields)


def test_timestamps_are_aware_utc() -> None:
    parsed = parse_timestamp("964982703")
    assert parsed == datetime(2000, 7, 30, 18, 45, 3, tzinfo=UTC)
    assert parsed.utcoffset() is not None
    assert parsed.utcoffset() == UTC.utcoffset(None)


def test_tmdb_zero_means_unknown() -> None:
    assert parse_unknown_if_zero("", "runtime") is None
    assert parse_unknown_if_zero("0", "runtime") is None
    assert parse_unknown_if_zero("94", "runtime") == 94
    assert parse_unknown_if_zero("94.0", "runtime") == 94
    for garbage in ["94.5", "-1", "ninety", "nan"]:
        with pytest.raises(ValueError, match="runtime"):
            parse_unknown_if_zero(garbage, "runtime")


def test_iso_dates_only() -> None:
    assert parse_iso_date("2009-12-10", "release_date") == date(2009, 12, 10)
    assert parse_iso_date("", "release_date") is None
    for garbage in ["20091210", "2009-W50-4", "2009-13-01", "10/12/2009"]:
        with pytest.raises(ValueError, match="release_date"):
            parse_iso_date(garbage, "release_date")
