"""TMDB 5000 CSV parsing on small synthetic files: JSON columns, numbers, bad rows, line numbers."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from pathlib import Path

import pytest

from movieverse.datasets import (
    BadRow,
    BadRowError,
    DatasetFormatError,
    DatasetNotFoundError,
    TmdbMovie,
    read_tmdb_csv,
)

# The Kaggle file's column order, reversed: columns are found by name, not position.
HEADER = [
    "vote_count",
    "vote_average",
    "title",
    "tagline",
    "status",
    "spoken_languages",
    "runtime",
    "revenue",
    "release_date",
    "production_countries",
    "production_companies",
    "popularity",
    "overview",
    "original_title",
    "original_language",
    "keywords",
    "id",
    "homepage",
    "genres",
    "budget",
]


def movie_row(**overrides: str) -> dict[str, str]:
    row = {
        "id": "19995",
        "title": "Avatar",
        "original_title": "Avatar",
        "original_language": "en",
        "overview": "In the 22nd century, a paraplegic Marine is dispatched to the moon Pandora.",
        "tagline": "Enter the World of Pandora.",
        "release_date": "2009-12-10",
        "runtime": "162",
        "status": "Released",
        "budget": "237000000",
        "revenue": "2787965087",
        "homepage": "http://www.avatarmovie.com/",
        "popularity": "150.437577",
        "vote_average": "7.2",
        "vote_count": "11800",
        "genres": json.dumps(
            [{"id": 28, "name": "Action"}, {"id": 878, "name": "Science Fiction"}]
        ),
        "keywords": json.dumps([{"id": 1463, "name": "culture clash"}]),
        "production_companies": json.dumps([{"name": "Lightstorm Entertainment", "id": 574}]),
        "production_countries": json.dumps([{"iso_3166_1": "US", "name": "United States"}]),
        "spoken_languages": json.dumps([{"iso_639_1": "en", "name": "English"}]),
    }
    return row | overrides


def write_tmdb(path: Path, rows: list[dict[str, str]], header: list[str] = HEADER) -> Path:
    buffer = io.StringIO(newline="")
    writer = csv.DictWriter(buffer, fieldnames=header, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    path.write_text(buffer.getvalue(), encoding="utf-8", newline="")
    return path


def test_a_row_is_parsed_with_its_json_columns(tmp_path: Path) -> None:
    file = write_tmdb(tmp_path / "tmdb.csv", [movie_row()])
    assert list(read_tmdb_csv(file)) == [
        TmdbMovie(
            tmdb_id=19995,
            title="Avatar",
            original_title="Avatar",
            original_language="en",
            overview="In the 22nd century, a paraplegic Marine is dispatched to the moon Pandora.",
            tagline="Enter the World of Pandora.",
            release_date=date(2009, 12, 10),
            runtime=162,
            status="Released",
            budget=237000000,
            revenue=2787965087,
            homepage="http://www.avatarmovie.com/",
            popularity=150.437577,
            vote_average=7.2,
            vote_count=11800,
            genres=((28, "Action"), (878, "Science Fiction")),
            keywords=((1463, "culture clash"),),
            production_companies=((574, "Lightstorm Entertainment"),),
            production_countries=(("US", "United States"),),
            spoken_languages=(("en", "English"),),
        )
    ]


def test_a_directory_means_the_kaggle_file_inside_it(tmp_path: Path) -> None:
    write_tmdb(tmp_path / "tmdb_5000_movies.csv", [movie_row()])
    assert [movie.tmdb_id for movie in read_tmdb_csv(tmp_path)] == [19995]
    with pytest.raises(DatasetNotFoundError, match="no such TMDB movies CSV"):
        read_tmdb_csv(tmp_path / "absent.csv")


def test_empty_and_zero_values_mean_unknown(tmp_path: Path) -> None:
    row = movie_row(
        runtime="",
        budget="0",
        revenue="",
        release_date="",
        tagline="",
        homepage="  ",
        overview="",
        keywords="[]",
        production_companies="",
    )
    (movie,) = read_tmdb_csv(write_tmdb(tmp_path / "tmdb.csv", [row]))
    assert (movie.runtime, movie.budget, movie.revenue, movie.release_date) == (None,) * 4
    assert (movie.tagline, movie.homepage, movie.overview) == (None, None, None)
    assert (movie.keywords, movie.production_companies) == ((), ())


def test_bad_rows_are_reported_with_file_line_and_reason(tmp_path: Path) -> None:
    rows = [
        movie_row(id="1", overview="Two\nlines, quoted"),  # lines 2-3
        movie_row(id="2", keywords='[{"id": 1, "name": "broken"'),  # 4: malformed JSON
        movie_row(id="3", genres='{"id": 28, "name": "Action"}'),  # 5: not a list
        movie_row(id="4", genres='[{"id": "28", "name": "Action"}]'),  # 6: id is a string
        movie_row(id="5", spoken_languages='[{"name": "English"}]'),  # 7: no iso_639_1
        movie_row(id="abc"),  # 8: non-numeric id
        movie_row(id="1"),  # 9: duplicated id
        movie_row(id="9", runtime="long"),  # 10
        movie_row(id="10", release_date="2009-13-45"),  # 11
        movie_row(id="11", popularity="nan"),  # 12
        movie_row(id="12", title=" "),  # 13
        movie_row(id="13", overview="A lone\rcarriage return, quoted"),  # 14
    ]
    file = write_tmdb(tmp_path / "tmdb.csv", rows)
    with file.open("a", encoding="utf-8") as handle:
        handle.write("14,short row\n")  # 15: missing columns
    bad: list[BadRow] = []
    movies = list(read_tmdb_csv(file, report=bad.append))

    assert [(movie.tmdb_id, movie.overview) for movie in movies] == [
        (1, "Two\nlines, quoted"),
        (13, "A lone\rcarriage return, quoted"),
    ]
    name = str(file)
    assert [(row.file, row.line) for row in bad] == [(name, line) for line in range(4, 14)] + [
        (name, 15)
    ]
    reasons = [row.reason for row in bad]
    assert reasons[0].startswith("keywords: malformed JSON (")
    assert reasons[1:] == [
        "genres: expected a JSON list, got dict",
        'genres: expected integer id and string name in {"id": "28", "name": "Action"}',
        'spoken_languages: expected string iso_639_1 and name in {"name": "English"}',
        "id: expected a positive integer, got 'abc'",
        "duplicate id 1 (first at line 2; the first is kept)",
        "runtime: expected a number, got 'long'",
        "release_date: expected YYYY-MM-DD, got '2009-13-45'",
        "popularity: expected a number, got 'nan'",
        "title: empty",
        "expected 20 fields, found 2",
    ]


def test_without_a_report_the_first_bad_row_raises(tmp_path: Path) -> None:
    file = write_tmdb(tmp_path / "tmdb.csv", [movie_row(id="1"), movie_row(id="2", genres="[")])
    with pytest.raises(BadRowError, match=r"tmdb\.csv:3: genres: malformed JSON"):
        list(read_tmdb_csv(file))


def test_missing_columns_in_the_header_are_a_file_error(tmp_path: Path) -> None:
    header = [column for column in HEADER if column not in {"genres", "vote_count"}]
    file = write_tmdb(tmp_path / "tmdb.csv", [movie_row()], header=header)
    with pytest.raises(DatasetFormatError, match=r"tmdb\.csv:1: missing column\(s\) vote_count, "):
        list(read_tmdb_csv(file))


def test_a_bom_is_ignored(tmp_path: Path) -> None:
    file = write_tmdb(tmp_path / "tmdb.csv", [movie_row()])
    file.write_bytes(b"\xef\xbb\xbf" + file.read_bytes())
    assert [movie.title for movie in read_tmdb_csv(file)] == ["Avatar"]
