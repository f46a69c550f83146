"""The TMDB 5000 credits CSV (``tmdb_5000_credits.csv``, the companion of the movies file).

Columns ``movie_id,title,cast,crew``; ``cast`` and ``crew`` are JSON lists of objects:
cast ``{"cast_id", "character", "credit_id", "gender", "id", "name", "order"}``, crew
``{"credit_id", "department", "gender", "id", "job", "name"}``.

Decisions (the same rules as :mod:`~movieverse.datasets.tmdb` where the files overlap):
- A row is all or nothing. Malformed JSON, a cell that is not a list of objects, or any member of
  the wrong shape makes the whole row bad (reported, skipped): a movie imported with half its
  credits would look complete and be wrong. An empty cell is an empty list, and a row with no cast
  and no crew is kept (TMDB knows the movie but no credits).
- ``movie_id`` must be a positive integer; a duplicated one is reported and skipped (the first
  good row wins). ``title`` is trimmed and must not be empty, as in the movies file; it is only
  informative, the movies file is joined by id.
- Every member needs a positive integer ``id`` (TMDB person id; JSON ``true`` is no id), a
  non-blank ``name`` and a non-blank string ``credit_id``. Cast members need a non-negative
  integer ``order``; crew members need non-blank ``department`` and ``job``. Text is trimmed.
- ``character`` that is missing or null becomes ``""`` (TMDB leaves many roles unnamed); another
  non-string ``character`` is a wrong shape.
- ``gender``: 0 unknown, 1 female, 2 male. Missing or null is 0. An integer outside 0..2 is read as
  0, not as a bad row: gender is no part of what a credit says, and TMDB's API has since added 3
  (non-binary), so a newer export would otherwise lose whole movies' credits over it. A
  non-integer gender (``"2"``, ``true``) is a wrong shape and makes the row bad.
- ``cast_id`` (TMDB's internal slot number) is not kept or checked: ``credit_id`` identifies a
  credit. Unknown keys are ignored.
- The same person may appear several times (several characters, or several jobs): every entry is
  kept, in the file's order. Cast is not sorted here; the importer sorts by ``order``.
- Referential checks (credits for a movie the movies file lacks) are the importer's.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from movieverse.datasets.delimited import csv_records
from movieverse.datasets.records import (
    BadRow,
    DatasetNotFoundError,
    Report,
    TmdbCastMember,
    TmdbCredits,
    TmdbCrewMember,
    raise_bad_row,
)
from movieverse.datasets.tmdb import json_objects, quote_json
from movieverse.datasets.values import parse_id

TMDB_CREDITS_FILE_NAME = "tmdb_5000_credits.csv"
COLUMNS = ("movie_id", "title", "cast", "crew")
# TMDB's gender codes; anything else reads as UNKNOWN_GENDER (see the module docstring).
UNKNOWN_GENDER = 0
KNOWN_GENDERS = frozenset({0, 1, 2})
_MISSING = object()


def read_tmdb_credits(
    path: str | os.PathLike[str], *, report: Report | None = None
) -> Iterator[TmdbCredits]:
    """Stream the credits of ``path``: the CSV file, or a directory holding
    tmdb_5000_credits.csv."""
    file = Path(path)
    if file.is_dir():
        file = file / TMDB_CREDITS_FILE_NAME
    if not file.is_file():
        raise DatasetNotFoundError(f"{file}: no such TMDB credits CSV")
    return _read(file, report if report is not None else raise_bad_row)


def _read(file: Path, report: Report) -> Iterator[TmdbCredits]:
    first_line: dict[int, int] = {}
    for line, (movie_id_text, title_text, cast_text, crew_text) in csv_records(
        file, columns=COLUMNS, report=report
    ):
        try:
            credits = _credits(movie_id_text, title_text, cast_text, crew_text, line)
        except ValueError as exc:
            report(BadRow(str(file), line, str(exc)))
            continue
        first = first_line.get(credits.tmdb_id)
        if first is not None:
            reason = (
                f"duplicate movie_id {credits.tmdb_id} (first at line {first}; the first is kept)"
            )
            report(BadRow(str(file), line, reason))
            continue
        first_line[credits.tmdb_id] = line
        yield credits


def _credits(
    movie_id_text: str, title_text: str, cast_text: str, crew_text: str, line: int
) -> TmdbCredits:
    tmdb_id = parse_id(movie_id_text, "movie_id")
    title = title_text.strip()
    if not title:
        raise ValueError("title: empty")
    return TmdbCredits(
        tmdb_id=tmdb_id,
        title=title,
        cast=tuple(
            _cast_member(element, f"cast[{index}]")
            for index, element in enumerate(json_objects(cast_text, "cast"))
        ),
        crew=tuple(
            _crew_member(element, f"crew[{index}]")
            for index, element in enumerate(json_objects(crew_text, "crew"))
        ),
        line=line,
    )


def _cast_member(element: dict[str, Any], where: str) -> TmdbCastMember:
    order = element.get("order", _MISSING)
    # bool is an int subclass; true/false is no billing position.
    if type(order) is not int or order < 0:
        raise _wrong(element, where, "order", "a non-negative integer")
    character = element.get("character")
    if character is None:
        character = ""
    elif not isinstance(character, str):
        raise _wrong(element, where, "character", "a string")
    return TmdbCastMember(
        person_id=_person_id(element, where),
        name=_text(element, where, "name"),
        character=character.strip(),
        order=order,
        gender=_gender(element, where),
        credit_id=_text(element, where, "credit_id"),
    )


def _crew_member(element: dict[str, Any], where: str) -> TmdbCrewMember:
    return TmdbCrewMember(
        person_id=_person_id(element, where),
        name=_text(element, where, "name"),
        department=_text(element, where, "department"),
        job=_text(element, where, "job"),
        gender=_gender(element, where),
        credit_id=_text(element, where, "credit_id"),
    )


def _person_id(element: dict[str, Any], where: str) -> int:
    person_id = element.get("id", _MISSING)
    if type(person_id) is not int or person_id <= 0:
        raise _wrong(element, where, "id", "a positive integer")
    return person_id


def _text(element: dict[str, Any], where: str, key: str) -> str:
    value = element.get(key, _MISSING)
    if not isinstance(value, str) or not value.strip():
        raise _wrong(element, where, key, "a non-empty string")
    return value.strip()


def _gender(element: dict[str, Any], where: str) -> int:
    gender = element.get("gender")
    if gender is None:
        return UNKNOWN_GENDER
    if type(gender) is not int:
        raise _wrong(element, where, "gender", "an integer")
    return gender if gender in KNOWN_GENDERS else UNKNOWN_GENDER


def _wrong(element: dict[str, Any], where: str, key: str, expected: str) -> ValueError:
    value = element.get(key, _MISSING)
    got = "nothing" if value is _MISSING else quote_json(value)
    # The member is quoted too: the index alone is hard to find in a 40 kB cell.
    return ValueError(f"{where}: {key}: expected {expected}, got {got} in {quote_json(element)}")
