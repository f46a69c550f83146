"""Catalog import speed: ml-latest-small plus tmdb-5000 into the embedded shape.

Runs ``movieverse import tmdb-csv`` then ``movieverse import movielens`` as a user would (fresh
SQLite files under a temporary MOVIEVERSE_VAR_DIR; process start-up included, and reported
apart), then, in the same run, the baseline: a raw ``sqlite3`` ``executemany`` of the same movie
rows (every TMDB and MovieLens movie, with the same columns) into a bare table in one transaction.
Prints seconds, rows/s and the ratio import_rows_per_s / baseline_rows_per_s (goal: under 10 s in
all, ratio >= 0.3). Writes ``bench/results/import_catalog.json``::

    .venv/bin/python bench/import_catalog.py [--data ../shared/data]
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._support import (
    REPO_ROOT,
    machine_info,
    movieverse_env,
    print_table,
    temporary_work_dir,
    venv_executable,
    write_results,
)
from movieverse.datasets import read_movielens, read_tmdb_csv


def _timed_import(cli: str, env: dict[str, str], *args: str) -> float:
    started = time.perf_counter()
    done = subprocess.run(  # noqa: S603 -- fixed argv
        [cli, "import", *args], cwd=REPO_ROOT, env=env, capture_output=True, text=True, check=False
    )
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"import {args} failed:\n{done.stdout}\n{done.stderr}")
    return elapsed


def _startup_seconds(cli: str, env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run([cli, "--help"], env=env, capture_output=True, check=True)  # noqa: S603
    return time.perf_counter() - started


def _baseline_rows(data: Path) -> list[tuple[Any, ...]]:
    rows: list[tuple[Any, ...]] = []
    for m in read_tmdb_csv(data / "tmdb-5000" / "tmdb_5000_movies.csv"):
        rows.append(
            (m.tmdb_id, None, None, m.title, m.title.casefold(), m.original_title,
             m.original_language, m.overview, m.tagline,
             m.release_date.isoformat() if m.release_date else None, m.runtime, m.status,
             m.budget, m.revenue, m.homepage, m.popularity, m.vote_average, m.vote_count,
             json.dumps([{"id": i, "name": n} for i, n in m.genres]))
        )  # fmt: skip
    for ml in read_movielens(data / "ml-latest-small").movies():
        rows.append(
            (ml.tmdb_id, ml.imdb_id, ml.movie_id, ml.title, ml.title.casefold(), None, None,
             None, None, None, None, None, None, None, None, 0.0, 0.0, 0, json.dumps(ml.genres))
        )  # fmt: skip
    return rows


def _baseline_seconds(rows: list[tuple[Any, ...]], folder: Path) -> float:
    connection = sqlite3.connect(folder / "baseline.db")
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute(
        "create table movies (id integer primary key, tmdb_id int, imdb_id text, ml_id int, "
        "title text, title_sort text, original_title text, original_language text, overview text,"
        " tagline text, release_date text, runtime int, status text, budget int, revenue int, "
        "homepage text, popularity real, vote_average real, vote_count int, genres text)"
    )
    started = time.perf_counter()
    with connection:
        connection.executemany(
            "insert into movies (tmdb_id, imdb_id, ml_id, title, title_sort, original_title, "
            "original_language, overview, tagline, release_date, runtime, status, budget, "
            "revenue, homepage, popularity, vote_average, vote_count, genres) "
            "values (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            rows,
        )
    elapsed = time.perf_counter() - started
    connection.close()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=REPO_ROOT.parent / "shared" / "data")
    args = parser.parse_args()
    cli = venv_executable("movieverse")
    with temporary_work_dir("mv-import-") as work:
        env = movieverse_env(work / "var")
        startup = _startup_seconds(cli, env)
        tmdb_s = _timed_import(cli, env, "tmdb-csv", str(args.data / "tmdb-5000"))
        ml_s = _timed_import(cli, env, "movielens", str(args.data / "ml-latest-small"))
        rerun_s = _timed_import(cli, env, "movielens", str(args.data / "ml-latest-small"))
        rows = _baseline_rows(args.data)
        baseline_s = _baseline_seconds(rows, work)
    total = tmdb_s + ml_s
    in_import = max(total - 2 * startup, 1e-9)
    rate = len(rows) / total
    baseline_rate = len(rows) / baseline_s
    ml_rows = len(rows) - 4803
    print_table(
        "Catalog import (embedded SQLite)",
        ["phase", "seconds", "rows", "rows/s"],
        [
            ["import tmdb-csv", f"{tmdb_s:.2f}", "4803", f"{4803 / tmdb_s:,.0f}"],
            ["import movielens", f"{ml_s:.2f}", str(ml_rows), f"{ml_rows / ml_s:,.0f}"],
            ["both (wall)", f"{total:.2f}", str(len(rows)), f"{rate:,.0f}"],
            [
                "both, less 2 process start-ups",
                f"{in_import:.2f}",
                str(len(rows)),
                f"{len(rows) / in_import:,.0f}",
            ],
            ["re-import movielens (no change)", f"{rerun_s:.2f}", str(ml_rows), "-"],
            [
                "baseline sqlite3 executemany",
                f"{baseline_s:.3f}",
                str(len(rows)),
                f"{baseline_rate:,.0f}",
            ],
        ],
    )
    ratio = rate / baseline_rate
    print(f"\nratio import_rows_per_s / baseline_rows_per_s = {ratio:.4f} (goal >= 0.3)")
    print(f"total import seconds = {total:.2f} (goal < 10)")
    write_results(
        "import_catalog",
        {
            "machine": machine_info(),
            "rows": len(rows),
            "tmdb_seconds": tmdb_s,
            "movielens_seconds": ml_s,
            "startup_seconds": startup,
            "reimport_seconds": rerun_s,
            "baseline_seconds": baseline_s,
            "ratio": ratio,
        },
    )


if __name__ == "__main__":
    main()
