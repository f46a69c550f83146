"""The TMDB 5000 movies CSV (Kaggle export of TMDB metadata, ``tmdb_5000_movies.csv``).

Decisions:
- Genres, keywords and production companies are JSON lists of ``{"id", "name"}``; countries and
  spoken languages are lists of ``{"iso_3166_1"|"iso_639_1", "name"}``. Malformed JSON, a value that
  is not a list, or an element of the wrong shape makes the row bad (reported, skipped): a movie
  imported without its genres would look complete and be wrong. An empty cell is an empty list.
- ``id`` must be a positive integer; a duplicated id is reported and skipped (the first wins).
- Empty ``runtime``/``budget``/``revenue`` and TMDB's 0 ("unknown") become None; other garbage in
  any numeric or date column makes the row bad. ``release_date`` is ``YYYY-MM-DD`` or empty (None).
- ``title`` must not be empty. Other text columns are trimmed; empty overview, tagline and
  homepage become None; ``original_title``, ``original_language`` and ``status`` are kept as
  written (trimmed).
- There is no ``imdb_id`` column in this export: the importer matches it by ``tmdb_id`` only.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from movieverse.datasets.delimited import csv_records
from movieverse.datasets.records import (
    BadRow,
    DatasetNotFoundError,
    Report,
    TmdbMovie,
    raise_bad_row,
)
from movieverse.datasets.values import (
    optional_text,
    parse_count,
    parse_float,
    parse_id,
    parse_iso_date,
    parse_unknown_if_zero,
)

TMDB_FILE_NAME = "tmdb_5000_movies.csv"
COLUMNS = (
    "id",
    "title",
    "original_title",
    "original_language",
    "overview",
    "tagline",
    "release_date",
    "runtime",
    "status",
    "budget",
    "revenue",
    "homepage",
    "popularity",
    "vote_average",
    "vote_count",
    "genres",
    "keywords",
    "production_companies",
    "production_countries",
    "spoken_languages",
)
# How much of an offending JSON element a bad-row reason quotes.
QUOTE_LIMIT = 80


def read_tmdb_csv(
    path: str | os.PathLike[str], *, report: Report | None = None
) -> Iterator[TmdbMovie]:
    """Stream the movies of ``path`` (the CSV file, or a directory holding tmdb_5000_movies.csv)."""
    file = Path(path)
    if file.is_dir():
        file = file / TMDB_FILE_NAME
    if not file.is_file():
        raise DatasetNotFoundError(f"{file}: no such TMDB movies CSV")
    return _read(file, report if report is not None else raise_bad_row)


def _read(file: Path, report: Report) -> Iterator[TmdbMovie]:
    first_line: dict[int, int] = {}
    for line, fields in csv_records(file, columns=COLUMNS, report=report):
        try:
            movie = _movie(dict(zip(COLUMNS, fields, strict=True)))
        except ValueError as exc:
            report(BadRow(str(file), line, str(exc)))
            continue
        if movie.tmdb_id in first_line:
            reason = f"duplicate id {movie.tmdb_id} (first at line {first_line[movie.tmdb_id]}"
            report(BadRow(str(file), line, f"{reason}; the first is kept)"))
            continue
        first_line[movie.tmdb_id] = line
        yield movie


def _movie(row: dict[str, str]) -> TmdbMovie:
    title = row["title"].strip()
    if not title:
        raise ValueError("title: empty")
    return TmdbMovie(
        tmdb_id=parse_id(row["id"], "id"),
        title=title,
        original_title=row["original_title"].strip(),
        original_language=row["original_language"].strip(),
        overview=optional_text(row["overview"]),
        tagline=optional_text(row["tagline"]),
        release_date=parse_iso_date(row["release_date"], "release_date"),
        runtime=parse_unknown_if_zero(row["runtime"], "runtime"),
        status=row["status"].strip(),
        budget=parse_unknown_if_zero(row["budget"], "budget"),
        revenue=parse_unknown_if_zero(row["revenue"], "revenue"),
        homepage=optional_text(row["homepage"]),
        popularity=parse_float(row["popularity"], "popularity"),
        vote_average=parse_float(row["vote_average"], "vote_average"),
        vote_count=parse_count(row["vote_count"], "vote_count"),
        genres=_id_name_pairs(row["genres"], "genres"),
        keywords=_id_name_pairs(row["keywords"], "keywords"),
        production_companies=_id_name_pairs(row["production_companies"], "production_companies"),
        production_countries=_code_name_pairs(
            row["production_countries"], "production_countries", "iso_3166_1"
        ),
        spoken_languages=_code_name_pairs(row["spoken_languages"], "spoken_languages", "iso_639_1"),
    )


def json_objects(text: str, column: str) -> list[dict[str, Any]]:
    """A JSON cell holding a list of objects; an empty cell is an empty list.

    Shared with :mod:`~movieverse.datasets.tmdb_credits`, whose cast and crew cells have the same
    shape, so both files word their bad-row reasons alike.
    """
    if not text.strip():
        return []
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{column}: malformed JSON ({exc.msg} at character {exc.pos})") from exc
    except RecursionError as exc:
        # json.loads recurses per nesting level: "[[[[…" a few thousand deep would otherwise
        # escape as a RecursionError and end the whole read instead of skipping one row.
        raise ValueError(f"{column}: malformed JSON (nested too deeply)") from exc
    if not isinstance(value, list):
        raise ValueError(f"{column}: expected a JSON list, got {type(value).__name__}")
    for element in value:
        if not isinstance(element, dict):
            raise ValueError(f"{column}: expected JSON objects, got {quote_json(element)}")
    return value


def _id_name_pairs(text: str, column: str) -> tuple[tuple[int, str], ...]:
    pairs: list[tuple[int, str]] = []
    for element in json_objects(text, column):
        ident, name = element.get("id"), element.get("name")
        # bool is an int subclass; true/false is not an id.
        if type(ident) is not int or not isinstance(name, str):
            raise ValueError(
                f"{column}: expected integer id and string name in {quote_json(element)}"
            )
        pairs.append((ident, name))
    return tuple(pairs)


def _code_name_pairs(text: str, column: str, code_key: str) -> tuple[tuple[str, str], ...]:
    pairs: list[tuple[str, str]] = []
    for element in json_objects(text, column):
        code, name = element.get(code_key), element.get("name")
        if not isinstance(code, str) or not code or not isinstance(name, str):
            raise ValueError(
                f"{column}: expected string {code_key} and name in {quote_json(element)}"
            )
        pairs.append((code, name))
    return tuple(pairs)


def quote_json(value: object) -> str:
    """A JSON element as a bad-row reason quotes it: compact, cut at QUOTE_LIMIT characters."""
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= QUOTE_LIMIT else f"{text[: QUOTE_LIMIT - 1]}…"
