"""`movieverse import` on the real datasets, checked against counts computed here, from the
source files, with nothing but csv and json."""

from __future__ import annotations

import csv
import json
import sqlite3
import unicodedata
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


def _tag_name(tag: str) -> str:
    return " ".join(unicodedata.normalize("NFC", tag).split()).lower()


def _expected(tmdb_file: Path, ml_dir: Path) -> dict[str, object]:
    tmdb_genres: dict[int, set[int]] = {}
    tmdb_keywords: dict[int, set[str]] = {}
    keyword_names: set[str] = set()
    with tmdb_file.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            tmdb_genres[int(row["id"])] = {g["id"] for g in json.loads(row["genres"])}
            names = {k["name"] for k in json.loads(row["keywords"])}
            tmdb_keywords[int(row["id"])] = names
            keyword_names |= {_tag_name(n) for n in names}
    tags: dict[int, set[str]] = {}
    with (ml_dir / "tags.csv").open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            tags.setdefault(int(row["movieId"]), set()).add(_tag_name(row["tag"]))
    links: dict[int, int | None] = {}
    with (ml_dir / "links.csv").open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            links[int(row["movieId"])] = int(row["tmdbId"]) if row["tmdbId"] else None
    genres_of_movie: list[set[int]] = []
    # Keyword names per movie, keyed by ("tmdb", id) or ("movielens", id).
    keywords_of_movie: dict[tuple[str, int], set[str]] = {}
    claimed: dict[int, tuple[set[int], set[str]]] = {}
    ml_count = 0
    with (ml_dir / "movies.csv").open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            ml_count += 1
            movie_id = int(row["movieId"])
            genres = {ML_GENRE_IDS[g] for g in row["genres"].split("|") if g in ML_GENRE_IDS}
            tmdb_id = links.get(movie_id)
            if tmdb_id in tmdb_genres and tmdb_id not in claimed:
                claimed[tmdb_id] = (genres, tags.get(movie_id, set()))  # merged into TMDB's
            else:
                genres_of_movie.append(genres)  # a movie of its own
                keywords_of_movie[("movielens", movie_id)] = tags.get(movie_id, set())
    for tmdb_id, genres in tmdb_genres.items():
        ml_genres, ml_tags = claimed.get(tmdb_id, (set(), set()))
        genres_of_movie.append(genres | ml_genres)
        keywords_of_movie[("tmdb", tmdb_id)] = tmdb_keywords[tmdb_id] | ml_tags
    per_genre = Counter(g for genres in genres_of_movie for g in genres)
    all_tags = {name for names in tags.values() for name in names}
    return {
        "movies": len(genres_of_movie),
        "tmdb": len(tmdb_genres),
        "movielens": ml_count,
        "both": len(claimed),
        "per_genre": dict(per_genre),
        "keywords_of_movie": {k: v for k, v in keywords_of_movie.items() if v},
        # TMDB keywords by id, plus one keyword per tag that names no TMDB keyword.
        "keywords": len({k["id"] for k in _all_tmdb_keywords(tmdb_file)})
        + len(all_tags - keyword_names),
    }


def _all_tmdb_keywords(tmdb_file: Path) -> list[dict[str, object]]:
    with tmdb_file.open(encoding="utf-8", newline="") as handle:
        return [k for row in csv.DictReader(handle) for k in json.loads(row["keywords"])]


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
        keywords = conn.execute("select count(*) from movies_keywords").fetchone()[0]
        keywords_of_movie: dict[tuple[str, int], set[str]] = {}
        rows = conn.execute(
            "select m.tmdb_id, m.movielens_id, m.sources, k.name from movies_movies m "
            "join movies_movie_keywords mk on mk.movie_id = m.id "
            "join movies_keywords k on k.id = mk.keyword_id"
        )
        for tmdb_id, movielens_id, sources, name in rows:
            from_tmdb = "tmdb" in json.loads(sources)
            key = ("tmdb", tmdb_id) if from_tmdb else ("movielens", movielens_id)
            keywords_of_movie.setdefault(key, set()).add(name)
    with sqlite3.connect(database.with_name("metadata.db")) as conn:
        keyword_documents = conn.execute(
            "select count(*) from metadata_documents where collection = 'keywords'"
        ).fetchone()[0]
        metadata_events = conn.execute("select count(*) from metadata_outbox").fetchone()[0]
    return {
        "movies": movies,
        "both": both,
        "per_genre": per_genre,
        "events": events,
        "at": stamps,
        "keywords": keywords,
        "keyword_documents": keyword_documents,
        "metadata_events": metadata_events,
        "keywords_of_movie": keywords_of_movie,
    }


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
    assert observed["keywords_of_movie"] == expected["keywords_of_movie"]
    assert observed["keywords"] == expected["keywords"]
    # Metadata holds a document for every keyword of the catalog.
    assert observed["keyword_documents"] == expected["keywords"]
    assert "conflict: MovieLens 144606 names tmdb id 4912" in first_ml.replace("\n", " ")
    assert "│ movies │    4803 │       0 │         0 │" in first_tmdb
    # A second run changes nothing: no row, no timestamp, no event, in either service.
    again_tmdb = _import(env, "tmdb-csv", str(tmdb_dir))
    again_ml = _import(env, "movielens", str(ml_dir))
    assert _observed(tmp_path / "var" / "movies.db") == observed
    assert "│ movies │       0 │       0 │      4803 │" in again_tmdb
    assert f"│ movies │       0 │       0 │      {expected['movielens']} │" in again_ml
    assert "0 written to metadata" in again_ml


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
