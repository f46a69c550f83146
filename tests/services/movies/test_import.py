"""`movieverse import` on the real datasets, checked against counts computed here, from the
source files, with nothing but csv and json."""

from __future__ import annotations

import csv
import json
import sqlite3
from collections import Counter
from pathlib import Path

from typer.testing import CliRunner

from movieverse.cli import app
from tests.datasets.conftest import require_dataset

runner = CliRunner()

# MovieLens genre -> catalog genre id, written out independently of the importer's table.
ML_GENRE_IDS = {
    "Action": 28, "Adventure": 12, "Animation": 16, "Children": 10751, "Comedy": 35,
    "Crime": 80, "Documentary": 99, "Drama": 18, "Fantasy": 14, "Film-Noir": 100001,
    "Horror": 27, "IMAX": 100003, "Musical": 100002, "Mystery": 9648, "Romance": 10749,
    "Sci-Fi": 878, "Thriller": 53, "War": 10752, "Western": 37,
}  # fmt: skip


def _expected(tmdb_file: Path, ml_dir: Path) -> dict[str, object]:
    tmdb_genres: dict[int, set[int]] = {}
    with tmdb_file.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            tmdb_genres[int(row["id"])] = {g["id"] for g in json.loads(row["genres"])}
    links: dict[int, int | None] = {}
    with (ml_dir / "links.csv").open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            links[int(row["movieId"])] = int(row["tmdbId"]) if row["tmdbId"] else None
    genres_of_movie: list[set[int]] = []
    claimed: dict[int, set[int]] = {}
    ml_count = 0
    with (ml_dir / "movies.csv").open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            ml_count += 1
            genres = {ML_GENRE_IDS[g] for g in row["genres"].split("|") if g in ML_GENRE_IDS}
            tmdb_id = links.get(int(row["movieId"]))
            if tmdb_id in tmdb_genres and tmdb_id not in claimed:
                claimed[tmdb_id] = genres  # merged into the TMDB movie
            else:
                genres_of_movie.append(genres)  # a movie of its own
    for tmdb_id, genres in tmdb_genres.items():
        genres_of_movie.append(genres | claimed.get(tmdb_id, set()))
    per_genre = Counter(g for genres in genres_of_movie for g in genres)
    return {
        "movies": len(genres_of_movie),
        "tmdb": len(tmdb_genres),
        "movielens": ml_count,
        "both": len(claimed),
        "per_genre": dict(per_genre),
    }


def _observed(database: Path) -> dict[str, object]:
    with sqlite3.connect(database) as conn:
        movies = conn.execute("select count(*) from movies_movies").fetchone()[0]
        both = conn.execute(
            "select count(*) from movies_movies where sources like '%tmdb%' "
            "and sources like '%movielens%'"
        ).fetchone()[0]
        per_genre = dict(
            conn.execute("select genre_id, count(*) from movies_movie_genres group by genre_id")
        )
        events = conn.execute("select count(*) from movies_outbox").fetchone()[0]
        stamps = conn.execute("select max(updated_at) from movies_movies").fetchone()[0]
    return {"movies": movies, "both": both, "per_genre": per_genre, "events": events, "at": stamps}


def _import(env: dict[str, str], *args: str) -> str:
    result = runner.invoke(app, ["import", *args], env=env)
    assert result.exit_code == 0, result.output
    return result.output


def test_importing_tmdb_and_movielens_gives_the_independent_counts(tmp_path: Path) -> None:
    tmdb_dir = require_dataset("tmdb-5000", "tmdb_5000_movies.csv")
    ml_dir = require_dataset("ml-latest-small", "movies.csv")
    env = {"MOVIEVERSE_VAR_DIR": str(tmp_path / "var"), "COLUMNS": "200"}
    first_tmdb = _import(env, "tmdb-csv", str(tmdb_dir / "tmdb_5000_movies.csv"))
    first_ml = _import(env, "movielens", str(ml_dir))
    expected = _expected(tmdb_dir / "tmdb_5000_movies.csv", ml_dir)
    observed = _observed(tmp_path / "var" / "movies.db")
    assert observed["movies"] == expected["movies"]
    assert observed["both"] == expected["both"] == 3536
    assert observed["per_genre"] == expected["per_genre"]
    assert "conflict: MovieLens 144606 names tmdb id 4912" in first_ml.replace("\n", " ")
    assert "4803" in first_tmdb
    # A second run changes nothing: no row, no timestamp, no event.
    again_tmdb = _import(env, "tmdb-csv", str(tmdb_dir))
    again_ml = _import(env, "movielens", str(ml_dir))
    assert _observed(tmp_path / "var" / "movies.db") == observed
    assert "│       0 │       0 │      4803 │" in again_tmdb
    assert f"│       0 │       0 │      {expected['movielens']} │" in again_ml


def test_bad_rows_are_reported_and_skipped(tmp_path: Path) -> None:
    source = tmp_path / "tmdb.csv"
    header = (
        "budget,genres,homepage,id,keywords,original_language,original_title,overview,"
        "popularity,production_companies,production_countries,release_date,revenue,runtime,"
        "spoken_languages,status,tagline,title,vote_average,vote_count"
    )
    drama = '"[{""id"": 18, ""name"": ""Drama""}]"'
    good = f"0,{drama},,101,[],en,Good,,1.5,[],[],2001-01-01,0,90,[],Released,,Good,7.0,10"
    bad_json = '0,"[{broken",,102,[],en,Bad,,1.5,[],[],2001-01-01,0,90,[],Released,,Bad,7.0,10'
    bad_id = "0,[],,abc,[],en,Worse,,1.5,[],[],2001-01-01,0,90,[],Released,,Worse,7.0,10"
    source.write_text("\n".join([header, good, bad_json, bad_id]) + "\n", encoding="utf-8")
    env = {"MOVIEVERSE_VAR_DIR": str(tmp_path / "var"), "COLUMNS": "200"}
    output = _import(env, "tmdb-csv", str(source))
    assert "tmdb.csv:3:" in output
    assert "tmdb.csv:4:" in output
    with sqlite3.connect(tmp_path / "var" / "movies.db") as conn:
        titles = [t for (t,) in conn.execute("select title from movies_movies")]
    assert titles == ["Good"]


def test_unknown_dataset_name_is_a_clear_error(tmp_path: Path) -> None:
    env = {"MOVIEVERSE_VAR_DIR": str(tmp_path / "var"), "MOVIEVERSE_DATASETS_DIR": str(tmp_path)}
    result = runner.invoke(app, ["import", "movielens", "ml-latest-small"], env=env)
    assert result.exit_code == 2
    assert "ml-latest-small" in result.output
