"""Catalog reads at 32 connections: GET /movies/{id} and a 3-filter discover query, in
requests/s and latency, against the bare-endpoint ceiling measured the same way in the same run.

Three servers, one after the other, each a subprocess on a free 127.0.0.1 port under uvicorn with
the options ``movieverse up`` uses (uvloop + httptools, one worker, no access log):

1. the ceiling: ``bench/_baseline_app.py``, bare Starlette answering ``GET /`` with a small JSON
   object (the foundation benchmark's baseline, as in ``bench/users_me.py``);
2. and 3. the real all-in-one app (``movieverse up``) on a temporary MOVIEVERSE_VAR_DIR whose
   catalog was filled by the real importers first (``movieverse import tmdb-csv`` with TMDB 5000,
   then ``movieverse import movielens`` with ml-latest-small: about 11,000 movies).

Each target is loaded by ``wrk -t2 -c32`` with a Lua script that cycles through a list of
request paths (each thread from its own offset), so no single cached row or response is
measured:

* ``GET /movies/{id}``: every non-deleted movie id of the imported catalog, shuffled -- each page
  read about once in the run, so nearly every request misses the page cache;
* ``GET /movies/{id}``, skewed: 50,000 requests drawn from the same ids with Zipf weights
  (s = 1) by popularity rank, as traffic to a movie site concentrates on its popular titles;
* ``GET /discover/movies`` with three filters -- ``with_genres`` (one genre, or two joined by
  ``,`` or ``|``) + ``vote_count.gte`` + ``primary_release_year`` or a ``release_date`` range --
  over a fixed, seeded set of combinations (each probed once first: all must answer 200; how
  many match is reported);
* the ceiling: the same Lua machinery over ``/?id=N`` paths (Starlette ignores the query), so the
  generator's per-request work is the same for all three.

A short warm-up, then a measured phase of ``--duration`` seconds per target. Prints req/s,
p50/p90/p99 and the ratio of each catalog read to the ceiling; writes
``bench/results/catalog_reads.json``. The load generator shares the machine's 2 cores with the
server under test. Needs wrk (Debian: ``apt-get install wrk``) and ``../shared/data``::

    .venv/bin/python bench/catalog_reads.py [--duration 10] [--warmup 2] [--data ../shared/data]
"""

from __future__ import annotations

import argparse
import os
import random
import sqlite3
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._catalog import (
    WRK_THREADS,
    discover_path,
    import_real_catalog,
    movie_ids,
    probe_paths,
    require_catalog_data,
    require_wrk,
    wrk_rotating,
)
from bench._support import (
    BENCH_DIR,
    REPO_ROOT,
    free_port,
    log_problems,
    machine_info,
    movieverse_up,
    print_table,
    run_server,
    temporary_work_dir,
    write_results,
)

CONNECTIONS = 32
SEED = 20261201
DISCOVER_COMBINATIONS = 240
# Common TMDB genre ids (action, adventure, animation, comedy, crime, drama, fantasy, horror,
# mystery, romance, science fiction, thriller).
DISCOVER_GENRES = (28, 12, 16, 35, 80, 18, 14, 27, 9648, 10749, 878, 53)
DISCOVER_MIN_VOTES = (10, 50, 100, 250, 500, 1000)


ZIPF_REQUESTS = 50_000


def skewed_movie_paths(var_dir: Path) -> list[str]:
    """Movie pages requested as real traffic is: the n-th most popular about 1/n as often as
    the first (Zipf, s = 1), seeded."""
    connection = sqlite3.connect(var_dir / "movies.db")
    try:
        rows = connection.execute(
            "select id from movies_movies where deleted_at is null order by popularity desc, id"
        ).fetchall()
    finally:
        connection.close()
    ranked = [int(row[0]) for row in rows]
    weights = [1 / rank for rank in range(1, len(ranked) + 1)]
    picks = random.Random(SEED).choices(ranked, weights=weights, k=ZIPF_REQUESTS)
    return [f"/movies/{movie_id}" for movie_id in picks]


def discover_paths(count: int) -> list[str]:
    """Seeded 3-filter discover queries: genres + minimum votes + a year or a date range."""
    rng = random.Random(SEED)
    paths: list[str] = []
    for index in range(count):
        first, second = rng.sample(DISCOVER_GENRES, 2)
        genres = rng.choice([str(first), f"{first},{second}", f"{first}|{second}"])
        params: dict[str, str | int] = {
            "with_genres": genres,
            "vote_count.gte": rng.choice(DISCOVER_MIN_VOTES),
        }
        if index % 2 == 0:
            params["primary_release_year"] = rng.randint(1975, 2016)
        else:
            start = rng.randint(1970, 2012)
            params["release_date.gte"] = f"{start}-01-01"
            params["release_date.lte"] = f"{start + rng.choice((1, 3, 5))}-12-31"
        paths.append(discover_path(params))
    return paths


def bench_ceiling(
    wrk: str, *, duration: float, warmup: float, work_dir: Path, paths: Sequence[str]
) -> dict[str, Any]:
    port = free_port()
    command = [sys.executable, str(BENCH_DIR / "_baseline_app.py"), "--port", str(port)]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with run_server("starlette", command, port=port, env=env, log_dir=work_dir) as server:
        result: dict[str, Any] = {"probe": probe_paths(server.base_url, paths[:20])}
        result |= wrk_rotating(
            wrk,
            server.base_url,
            paths,
            duration=duration,
            warmup=warmup,
            connections=CONNECTIONS,
            work_dir=work_dir,
            label="ceiling",
        )
        result["server_log_problems"] = log_problems(server)[:20]
    return result


def bench_catalog(
    wrk: str, *, duration: float, warmup: float, work_dir: Path, data_dir: Path
) -> dict[str, Any]:
    var_dir = work_dir / "var"
    var_dir.mkdir(parents=True, exist_ok=True)
    print("  importing the catalog (tmdb-csv, then movielens) ...", flush=True)
    imports = import_real_catalog(var_dir, data_dir)
    ids = movie_ids(var_dir, seed=SEED)
    movie_paths = [f"/movies/{i}" for i in ids]
    discover = discover_paths(DISCOVER_COMBINATIONS)
    result: dict[str, Any] = {"imports": imports, "catalog_movies": len(ids)}
    with movieverse_up(work_dir) as server:
        result["movie"] = {"probe": probe_paths(server.base_url, movie_paths[:200])}
        result["discover"] = {"probe": probe_paths(server.base_url, discover)}
        print(f"  GET /movies/{{id}} over {len(movie_paths):,} ids ...", flush=True)
        result["movie"] |= wrk_rotating(
            wrk,
            server.base_url,
            movie_paths,
            duration=duration,
            warmup=warmup,
            connections=CONNECTIONS,
            work_dir=work_dir,
            label="movie",
        )
        skewed = skewed_movie_paths(var_dir)
        print(f"  GET /movies/{{id}}, Zipf-skewed by popularity ({len(skewed):,} draws) ...")
        result["movie_skewed"] = wrk_rotating(
            wrk,
            server.base_url,
            skewed,
            duration=duration,
            warmup=warmup,
            connections=CONNECTIONS,
            work_dir=work_dir,
            label="movie-skewed",
        )
        print(f"  GET /discover/movies over {len(discover)} filter combinations ...", flush=True)
        result["discover"] |= wrk_rotating(
            wrk,
            server.base_url,
            discover,
            duration=duration,
            warmup=warmup,
            connections=CONNECTIONS,
            work_dir=work_dir,
            label="discover",
        )
        result["discover"]["examples"] = discover[:5]
        problems = log_problems(server)
        result["server_log_problems"] = problems[:20]
        result["server_log_problem_count"] = len(problems)
    return result


def _row(name: str, r: Mapping[str, Any], ceiling_rps: float) -> list[str]:
    lat = r["latency_ms"]
    return [
        name,
        f"{r['requests_per_second']:,.0f}",
        f"{r['requests']:,}",
        f"{lat['p50']:.2f}",
        f"{lat['p90']:.2f}",
        f"{lat['p99']:.2f}",
        f"{lat['max']:.1f}",
        str(r["non_2xx_3xx"]),
        str(r["socket_errors"]),
        f"{r['response_bytes_per_request']:,.0f}",
        f"{r['distinct_paths']:,}",
        f"{r['requests_per_second'] / ceiling_rps:.3f}",
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=10.0, help="measured seconds (1-60)")
    parser.add_argument("--warmup", type=float, default=2.0, help="unmeasured seconds first")
    parser.add_argument("--data", type=Path, default=REPO_ROOT.parent / "shared" / "data")
    args = parser.parse_args()
    if not 1 <= args.duration <= 60 or not 0 <= args.warmup <= 30:
        parser.error("--duration must be 1..60 and --warmup 0..30")
    require_catalog_data(args.data)
    wrk = require_wrk()
    info = machine_info()
    print(f"load generator: wrk -t{WRK_THREADS} -c{CONNECTIONS} with a path-rotating Lua script")
    print(
        f"{info['cpus']} CPUs shared by wrk and the server under test; "
        f"{args.warmup:g}s warm-up + {args.duration:g}s measured per target"
    )
    with temporary_work_dir("movieverse-bench-catalog-reads-") as work_dir:
        print("phase 1: the ceiling, bare Starlette GET / (uvicorn, uvloop + httptools)")
        ceiling_paths = [f"/?id={i}" for i in range(1, 11_001)]
        ceiling = bench_ceiling(
            wrk,
            duration=args.duration,
            warmup=args.warmup,
            work_dir=work_dir,
            paths=ceiling_paths,
        )
        print("phase 2: catalog reads on movieverse up (uvicorn, uvloop + httptools)")
        catalog = bench_catalog(
            wrk, duration=args.duration, warmup=args.warmup, work_dir=work_dir, data_dir=args.data
        )

    ceiling_rps = ceiling["requests_per_second"]
    movie, discover = catalog["movie"], catalog["discover"]
    skewed = catalog["movie_skewed"]
    print_table(
        f"GET at {CONNECTIONS} connections, {args.duration:g}s each, wrk -t{WRK_THREADS} "
        f"(latency in ms; catalog of {catalog['catalog_movies']:,} imported movies)",
        [
            "target",
            "req/s",
            "requests",
            "p50",
            "p90",
            "p99",
            "max",
            "non-2xx",
            "sock err",
            "resp B",
            "paths",
            "/ceiling",
        ],
        [
            _row("ceiling: starlette GET /", ceiling, ceiling_rps),
            _row("GET /movies/{id}, each id once", movie, ceiling_rps),
            _row("GET /movies/{id}, Zipf by popularity", skewed, ceiling_rps),
            _row("GET /discover/movies (3 filters)", discover, ceiling_rps),
        ],
    )
    totals = discover["probe"]["total_results"]
    print(
        f"\ndiscover combinations: {discover['distinct_paths']}, matches per query "
        f"min {totals['min']}, median {totals['p50']:.0f}, max {totals['max']}, "
        f"empty {totals['empty_share']:.0%}; e.g. {discover['examples'][0]}"
    )
    print(
        f"ratio movie_rps / ceiling_rps = {movie['requests_per_second'] / ceiling_rps:.3f} "
        f"(skewed {skewed['requests_per_second'] / ceiling_rps:.3f}); "
        f"discover_rps / ceiling_rps = {discover['requests_per_second'] / ceiling_rps:.3f}"
    )
    if catalog["server_log_problem_count"]:
        print(f"server log error lines: {catalog['server_log_problem_count']}")
        for line in catalog["server_log_problems"][:5]:
            print(f"  {line}")
    print("note: wrk runs on the same 2 cores as the server under test.")

    path = write_results(
        "catalog_reads",
        {
            "benchmark": "catalog_reads",
            "machine": info,
            "generator": f"wrk -t{WRK_THREADS} -c{CONNECTIONS}, Lua path rotation",
            "connections": CONNECTIONS,
            "duration_seconds": args.duration,
            "warmup_seconds": args.warmup,
            "server_options": "uvicorn, loop=uvloop, http=httptools, 1 worker, access_log off",
            "ceiling": ceiling,
            "catalog": catalog,
            "ratio_movie_to_ceiling": movie["requests_per_second"] / ceiling_rps,
            "ratio_movie_skewed_to_ceiling": skewed["requests_per_second"] / ceiling_rps,
            "ratio_discover_to_ceiling": discover["requests_per_second"] / ceiling_rps,
        },
    )
    print(f"wrote {path}")
    failed = (
        ceiling["non_2xx_3xx"]
        or movie["non_2xx_3xx"]
        or skewed["non_2xx_3xx"]
        or discover["non_2xx_3xx"]
    )
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
