"""Catalog import speed: ml-latest-small plus tmdb-5000 into the embedded shape.

Three measurements, one run:

1. **The commands**, as a user runs them: ``movieverse import tmdb-csv`` then ``movieverse import
   movielens`` on fresh SQLite files (wall time, process start-up included and also shown apart),
   and a second ``import movielens`` that must change nothing.
2. **The import itself**, in-process: the same two steps through :class:`CatalogImport` (what the
   commands run), on fresh databases -- parsing, matching, keyword resolution, both services'
   writes and their outbox events.
3. **The baseline**: a raw ``sqlite3`` ``executemany`` of exactly the rows step 2 wrote (read back
   from its databases, every table of both services, outbox included) into fresh databases with
   the same schema and indexes, one transaction per database. Shown also with the time the same
   parsers take to read the source files, for a baseline that has to read its input too.

Prints seconds, rows/s and the ratio baseline_seconds / import_seconds (= import rows/s over
baseline rows/s). Goals: both commands under 10 s, ratio >= 0.3. Writes
``bench/results/import_catalog.json``::

    .venv/bin/python bench/import_catalog.py [--data ../shared/data]
"""

from __future__ import annotations

import argparse
import asyncio
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
from movieverse.ingest import CatalogImport
from movieverse.platform.settings import PlatformSettings

DATABASES = ("movies.db", "metadata.db")


def _timed_command(cli: str, env: dict[str, str], *args: str) -> float:
    started = time.perf_counter()
    done = subprocess.run(  # noqa: S603 -- fixed argv
        [cli, *args], cwd=REPO_ROOT, env=env, capture_output=True, text=True, check=False
    )
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"{args} failed:\n{done.stdout}\n{done.stderr}")
    return elapsed


def _startup_seconds(cli: str, env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run([cli, "--help"], env=env, capture_output=True, check=True)  # noqa: S603
    return time.perf_counter() - started


def _snapshot(var: Path) -> dict[str, dict[str, list[tuple[Any, ...]]]]:
    """Every row of every table (Alembic's bookkeeping aside), per database."""
    tables: dict[str, dict[str, list[tuple[Any, ...]]]] = {}
    for name in DATABASES:
        with sqlite3.connect(var / name) as conn:
            names = [
                t
                for (t,) in conn.execute("select name from sqlite_master where type = 'table'")
                if not t.startswith(("sqlite_", "alembic"))
            ]
            tables[name] = {t: conn.execute(f'select * from "{t}"').fetchall() for t in names}  # noqa: S608
    return tables


def _written(
    before: dict[str, dict[str, list[tuple[Any, ...]]]],
    after: dict[str, dict[str, list[tuple[Any, ...]]]],
) -> dict[str, dict[str, list[tuple[Any, ...]]]]:
    """Rows the import added: the migration's own (seeded genres) are left out."""
    return {
        db: {
            t: [r for r in rows if r not in set(before[db].get(t, []))]
            for t, rows in tables.items()
        }
        for db, tables in after.items()
    }


async def _in_process(var: Path, data: Path) -> tuple[float, float]:
    settings = PlatformSettings(var_dir=var)
    async with CatalogImport(settings) as catalog:
        started = time.perf_counter()
        await catalog.tmdb_movies(data / "tmdb-5000" / "tmdb_5000_movies.csv")
        tmdb_done = time.perf_counter()
        await catalog.movielens(data / "ml-latest-small")
        finished = time.perf_counter()
    return tmdb_done - started, finished - tmdb_done


def _baseline_seconds(rows: dict[str, dict[str, list[tuple[Any, ...]]]], var: Path) -> float:
    """executemany of ``rows`` into the empty, migrated databases under ``var``."""
    elapsed = 0.0
    for name, tables in rows.items():
        connection = sqlite3.connect(var / name, isolation_level=None)
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=NORMAL")  # what the service's engine sets
        started = time.perf_counter()
        connection.execute("BEGIN")
        for table, values in tables.items():
            if values:
                marks = ",".join("?" * len(values[0]))
                connection.executemany(f'insert into "{table}" values ({marks})', values)  # noqa: S608
        connection.execute("COMMIT")
        elapsed += time.perf_counter() - started
        connection.close()
    return elapsed


def _parse_seconds(data: Path) -> float:
    started = time.perf_counter()
    sum(1 for _ in read_tmdb_csv(data / "tmdb-5000" / "tmdb_5000_movies.csv"))
    dataset = read_movielens(data / "ml-latest-small")
    sum(1 for _ in dataset.movies())
    sum(1 for _ in dataset.tags())
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=REPO_ROOT.parent / "shared" / "data")
    args = parser.parse_args()
    cli = venv_executable("movieverse")
    with temporary_work_dir("mv-import-") as work:
        env = movieverse_env(work / "cli")
        startup = _startup_seconds(cli, env)
        _timed_command(cli, env, "migrate")
        tmdb_cli = _timed_command(cli, env, "import", "tmdb-csv", str(args.data / "tmdb-5000"))
        ml_cli = _timed_command(cli, env, "import", "movielens", str(args.data / "ml-latest-small"))
        rerun = _timed_command(cli, env, "import", "movielens", str(args.data / "ml-latest-small"))

        inproc, baseline_var = work / "inproc" / "var", work / "baseline" / "var"
        for var in (inproc, baseline_var):
            _timed_command(cli, movieverse_env(var), "migrate")
        before = _snapshot(inproc)
        tmdb_s, ml_s = asyncio.run(_in_process(inproc, args.data))
        written = _written(before, _snapshot(inproc))
        baseline_s = _baseline_seconds(written, baseline_var)
        parse_s = _parse_seconds(args.data)
    rows = sum(len(v) for tables in written.values() for v in tables.values())
    import_s = tmdb_s + ml_s
    per_table = {
        f"{db.removesuffix('.db')}.{t}": len(v)
        for db, tables in written.items()
        for t, v in tables.items()
        if v
    }
    print_table(
        "Catalog import, ml-latest-small + tmdb-5000 (embedded SQLite)",
        ["measurement", "seconds", "rows", "rows/s"],
        [
            ["movieverse import tmdb-csv (wall)", f"{tmdb_cli:.2f}", "", ""],
            ["movieverse import movielens (wall)", f"{ml_cli:.2f}", "", ""],
            ["both commands (wall)", f"{tmdb_cli + ml_cli:.2f}", str(rows), ""],
            ["  of which process start-up (x2)", f"{2 * startup:.2f}", "", ""],
            ["re-import movielens (changes nothing)", f"{rerun:.2f}", "0", ""],
            ["import in-process: tmdb", f"{tmdb_s:.3f}", "", ""],
            ["import in-process: movielens + tags", f"{ml_s:.3f}", "", ""],
            ["import in-process: both", f"{import_s:.3f}", str(rows), f"{rows / import_s:,.0f}"],
            [
                "baseline executemany, same rows", f"{baseline_s:.3f}", str(rows),
                f"{rows / baseline_s:,.0f}",
            ],
            ["  + parsing the same files", f"{baseline_s + parse_s:.3f}", str(rows), ""],
        ],
    )  # fmt: skip
    print("\nrows written per table: " + ", ".join(f"{t} {n}" for t, n in per_table.items()))
    ratio = baseline_s / import_s
    ratio_with_parsing = (baseline_s + parse_s) / import_s
    print(f"\nratio baseline_s / import_s = {ratio:.3f} (goal >= 0.3)")
    print(f"ratio with the baseline also parsing = {ratio_with_parsing:.3f}")
    print(f"both commands = {tmdb_cli + ml_cli:.2f} s wall (goal < 10)")
    write_results(
        "import_catalog",
        {
            "machine": machine_info(),
            "rows": rows,
            "rows_per_table": per_table,
            "tmdb_command_seconds": tmdb_cli,
            "movielens_command_seconds": ml_cli,
            "startup_seconds": startup,
            "reimport_seconds": rerun,
            "import_tmdb_seconds": tmdb_s,
            "import_movielens_seconds": ml_s,
            "baseline_seconds": baseline_s,
            "parse_seconds": parse_s,
            "ratio": ratio,
            "ratio_with_parsing": ratio_with_parsing,
        },
    )


if __name__ == "__main__":
    main()
