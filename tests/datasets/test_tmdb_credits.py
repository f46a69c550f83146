"""TMDB 5000 credits CSV parsing on small synthetic files: members, bad rows, line numbers."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from movieverse.datasets import (
    BadRow,
    BadRowError,
    DatasetFormatError,
    DatasetNotFoundError,
    TmdbCastMember,
    TmdbCredits,
    TmdbCrewMember,
    read_tmdb_credits,
)

HEADER = ["movie_id", "title", "cast", "crew"]

Member = dict[str, object]


def cast_member(**overrides: object) -> Member:
    member: Member = {
        "cast_id": 242,
        "character": "Jake Sully",
        "credit_id": "5602a8a7c3a3685532001c9a",
        "gender": 2,
        "id": 65731,
        "name": "Sam Worthington",
        "order": 0,
    }
    return member | overrides


def crew_member(**overrides: object) -> Member:
    member: Member = {
        "credit_id": "52fe48009251416c750ac9c3",
        "department": "Directing",
        "gender": 2,
        "id": 2710,
        "job": "Director",
        "name": "James Cameron",
    }
    return member | overrides


def members(*items: Member, one_per_line: bool = False) -> str:
    """A JSON cell. ``one_per_line`` puts a newline after ``[`` and after each member, so the
    quoted cell spans ``len(items) + 1`` extra physical lines."""
    if not one_per_line:
        return json.dumps(list(items))
    body = ",\n".join(json.dumps(item) for item in items)
    return f"[\n{body}\n]"


def credits_row(movie_id: str = "19995", title: str = "Avatar", **cells: str) -> dict[str, str]:
    row = {
        "movie_id": movie_id,
        "title": title,
        "cast": members(cast_member()),
        "crew": members(crew_member()),
    }
    return row | cells


def write_credits(path: Path, rows: list[dict[str, str]], header: list[str] = HEADER) -> Path:
    buffer = io.StringIO(newline="")
    writer = csv.DictWriter(buffer, fieldnames=header, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    path.write_text(buffer.getvalue(), encoding="utf-8", newline="")
    return path


def test_a_row_is_parsed_with_every_member_in_file_order(tmp_path: Path) -> None:
    cast = members(
        # Billing order 1 before 0: the file's order is kept, the importer sorts.
        cast_member(id=8691, name="Zoe Saldana", character="Neytiri", order=1, gender=1),
        cast_member(),
        # The same person twice, with two characters: both are kept.
        cast_member(character="Avatar Jake", credit_id="5602a8a7c3a3685532001c9b", order=2),
    )
    crew = members(
        crew_member(),
        crew_member(department="Writing", job="Screenplay", credit_id="52fe48009251416c750ac9c4"),
    )
    file = write_credits(tmp_path / "credits.csv", [credits_row(cast=cast, crew=crew)])

    assert list(read_tmdb_credits(file)) == [
        TmdbCredits(
            tmdb_id=19995,
            title="Avatar",
            cast=(
                TmdbCastMember(8691, "Zoe Saldana", "Neytiri", 1, 1, "5602a8a7c3a3685532001c9a"),
                TmdbCastMember(
                    65731, "Sam Worthington", "Jake Sully", 0, 2, "5602a8a7c3a3685532001c9a"
                ),
                TmdbCastMember(
                    65731, "Sam Worthington", "Avatar Jake", 2, 2, "5602a8a7c3a3685532001c9b"
                ),
            ),
            crew=(
                TmdbCrewMember(
                    2710, "James Cameron", "Directing", "Director", 2, "52fe48009251416c750ac9c3"
                ),
                TmdbCrewMember(
                    2710, "James Cameron", "Writing", "Screenplay", 2, "52fe48009251416c750ac9c4"
                ),
            ),
            line=2,
        )
    ]


def test_a_directory_means_the_kaggle_file_inside_it(tmp_path: Path) -> None:
    write_credits(tmp_path / "tmdb_5000_credits.csv", [credits_row()])
    assert [credits.tmdb_id for credits in read_tmdb_credits(tmp_path)] == [19995]
    # Beside the movies file only: the credits file is optional, so its absence is explicit.
    (tmp_path / "tmdb_5000_credits.csv").unlink()
    with pytest.raises(DatasetNotFoundError, match="no such TMDB credits CSV"):
        read_tmdb_credits(tmp_path)


def test_columns_are_found_by_name(tmp_path: Path) -> None:
    file = write_credits(tmp_path / "credits.csv", [credits_row()], header=HEADER[::-1])
    assert [credits.title for credits in read_tmdb_credits(file)] == ["Avatar"]


def test_empty_cells_lists_and_missing_optional_values(tmp_path: Path) -> None:
    rows = [
        credits_row(movie_id="1", cast="", crew="  "),
        credits_row(movie_id="2", cast="[]", crew="[]"),
        credits_row(
            movie_id="3",
            title="  Padded  ",
            cast=members(
                {k: v for k, v in cast_member().items() if k not in {"character", "gender"}},
                cast_member(character=None, gender=None, name="  Sam Worthington "),
                cast_member(character=" Jake ", gender=3),  # TMDB's later "non-binary"
                cast_member(gender=-1),
            ),
            crew=members(crew_member(gender=7, job=" Director ")),
        ),
    ]
    file = write_credits(tmp_path / "credits.csv", rows)
    empty, empty_lists, padded = read_tmdb_credits(file)

    assert (empty.cast, empty.crew, empty_lists.cast, empty_lists.crew) == ((), (), (), ())
    assert padded.title == "Padded"
    assert [(m.name, m.character, m.gender) for m in padded.cast] == [
        ("Sam Worthington", "", 0),
        ("Sam Worthington", "", 0),
        ("Sam Worthington", "Jake", 0),
        ("Sam Worthington", "Jake Sully", 0),
    ]
    assert [(m.job, m.gender) for m in padded.crew] == [("Director", 0)]


def test_bad_rows_are_reported_with_file_line_and_reason(tmp_path: Path) -> None:
    two_per_line = members(cast_member(), cast_member(order=1), one_per_line=True)
    rows = [
        credits_row(movie_id="1", cast=two_per_line),  # lines 2-5: good
        credits_row(movie_id="2", cast='[{"id": 1, "name": "broken"'),  # 6
        credits_row(movie_id="3", crew=json.dumps(crew_member())),  # 7: an object, not a list
        credits_row(movie_id="4", crew="[1]"),  # 8
        credits_row(movie_id="5", cast=members(cast_member(), cast_member(id=0))),  # 9
        credits_row(movie_id="6", cast=members(cast_member(id="65731"))),  # 10
        credits_row(movie_id="7", crew=members(crew_member(id=True))),  # 11
        credits_row(movie_id="8", cast=members(cast_member(name="  "))),  # 12
        # A bad member after a multi-line cell: the row starts at line 13 and ends at 16.
        credits_row(
            movie_id="9",
            cast=members(cast_member(), cast_member(order=-1), one_per_line=True),
        ),
        credits_row(movie_id="10", cast=members(cast_member(character=7))),  # 17
        credits_row(movie_id="11", cast=members(cast_member(gender="2"))),  # 18
        credits_row(
            movie_id="12",
            cast=members({k: v for k, v in cast_member().items() if k != "credit_id"}),
        ),  # 19
        credits_row(movie_id="13", crew=members(crew_member(department=""))),  # 20
        credits_row(
            movie_id="14",
            crew=members({k: v for k, v in crew_member().items() if k != "job"}),
        ),  # 21
        credits_row(movie_id="x15"),  # 22
        credits_row(movie_id="0"),  # 23
        credits_row(movie_id="16", title=" "),  # 24
        credits_row(movie_id="1"),  # 25: duplicate of line 2
        credits_row(movie_id="17", cast="[" * 100_000),  # 26
        credits_row(movie_id="18", cast=members(cast_member(order=True))),  # 27
        credits_row(movie_id="19", crew=members(crew_member(), one_per_line=True)),  # 28-30: good
    ]
    file = write_credits(tmp_path / "credits.csv", rows)
    with file.open("a", encoding="utf-8") as handle:
        handle.write("20,short row\n")  # 31
    bad: list[BadRow] = []
    parsed = list(read_tmdb_credits(file, report=bad.append))

    assert [(c.tmdb_id, len(c.cast), len(c.crew), c.line) for c in parsed] == [
        (1, 2, 1, 2),
        (19, 1, 1, 28),
    ]
    assert {row.file for row in bad} == {str(file)}
    reasons = {row.line: row.reason for row in bad}
    assert len(reasons) == len(bad)  # one report per bad row
    assert list(reasons) == [6, 7, 8, 9, 10, 11, 12, 13, *range(17, 28), 31]
    assert reasons[6].startswith("cast: malformed JSON (")
    assert reasons[7] == "crew: expected a JSON list, got dict"
    assert reasons[8] == "crew: expected JSON objects, got 1"
    assert reasons[9].startswith('cast[1]: id: expected a positive integer, got 0 in {"cast_id"')
    assert reasons[10].startswith('cast[0]: id: expected a positive integer, got "65731" in')
    assert reasons[11].startswith("crew[0]: id: expected a positive integer, got true in")
    assert reasons[12].startswith('cast[0]: name: expected a non-empty string, got "  " in')
    assert reasons[13].startswith("cast[1]: order: expected a non-negative integer, got -1 in")
    assert reasons[17].startswith("cast[0]: character: expected a string, got 7 in")
    assert reasons[18].startswith('cast[0]: gender: expected an integer, got "2" in')
    assert reasons[19].startswith("cast[0]: credit_id: expected a non-empty string, got nothing")
    assert reasons[20].startswith('crew[0]: department: expected a non-empty string, got "" in')
    assert reasons[21].startswith("crew[0]: job: expected a non-empty string, got nothing in")
    assert reasons[22] == "movie_id: expected a positive integer, got 'x15'"
    assert reasons[23] == "movie_id: expected a positive integer, got '0'"
    assert reasons[24] == "title: empty"
    assert reasons[25] == "duplicate movie_id 1 (first at line 2; the first is kept)"
    assert reasons[26] == "cast: malformed JSON (nested too deeply)"
    assert reasons[27].startswith("cast[0]: order: expected a non-negative integer, got true")
    assert reasons[31] == "expected 4 fields, found 2"


def test_a_long_member_is_quoted_shortly(tmp_path: Path) -> None:
    row = credits_row(cast=members(cast_member(id=-5, character="x" * 500)))
    bad: list[BadRow] = []
    list(read_tmdb_credits(write_credits(tmp_path / "c.csv", [row]), report=bad.append))
    (only,) = bad
    assert only.reason.startswith("cast[0]: id: expected a positive integer, got -5 in {")
    assert only.reason.endswith("…")
    assert len(only.reason) < 200


def test_a_duplicate_is_compared_with_the_first_good_row(tmp_path: Path) -> None:
    rows = [
        credits_row(movie_id="7", cast="[{"),  # line 2: bad, so it claims nothing
        credits_row(movie_id="7", title="Kept"),  # line 3
        credits_row(movie_id="7", title="Dropped"),  # line 4
    ]
    bad: list[BadRow] = []
    parsed = list(read_tmdb_credits(write_credits(tmp_path / "c.csv", rows), report=bad.append))
    assert [credits.title for credits in parsed] == ["Kept"]
    assert [(row.line, row.reason) for row in bad][1:] == [
        (4, "duplicate movie_id 7 (first at line 3; the first is kept)")
    ]


def test_without_a_report_the_first_bad_row_raises(tmp_path: Path) -> None:
    rows = [
        credits_row(movie_id="1", crew=members(crew_member(), one_per_line=True)),  # lines 2-4
        credits_row(movie_id="2", cast=members(cast_member(id=-1))),  # line 5
    ]
    file = write_credits(tmp_path / "credits.csv", rows)
    credits = read_tmdb_credits(file)
    assert next(credits).tmdb_id == 1
    with pytest.raises(BadRowError, match=r"credits\.csv:5: cast\[0\]: id: expected a positive"):
        next(credits)


def test_missing_columns_in_the_header_are_a_file_error(tmp_path: Path) -> None:
    file = write_credits(tmp_path / "credits.csv", [credits_row()], header=["movie_id", "title"])
    with pytest.raises(DatasetFormatError, match=r"credits\.csv:1: missing column\(s\) cast, crew"):
        list(read_tmdb_credits(file))


def test_a_bom_is_ignored(tmp_path: Path) -> None:
    file = write_credits(tmp_path / "credits.csv", [credits_row()])
    file.write_bytes(b"\xef\xbb\xbf" + file.read_bytes())
    assert [credits.tmdb_id for credits in read_tmdb_credits(file)] == [19995]


def test_crlf_line_endings_read_like_lf(tmp_path: Path) -> None:
    rows = [
        credits_row(movie_id="1", cast=members(cast_member(), one_per_line=True)),  # lines 2-4
        credits_row(movie_id="2", title=""),  # line 5
    ]
    file = write_credits(tmp_path / "credits.csv", rows)
    file.write_bytes(file.read_bytes().replace(b"\n", b"\r\n"))
    bad: list[BadRow] = []
    assert [c.tmdb_id for c in read_tmdb_credits(file, report=bad.append)] == [1]
    assert [(row.line, row.reason) for row in bad] == [(5, "title: empty")]
