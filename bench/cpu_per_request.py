"""Server CPU per request of the catalog's read routes at 32 connections, against the floor: a
bare FastAPI JSON route served the same way, measured in the same run (issue 18, "Fast paths").

The catalog is the one issue 18 names: TMDB 5000, then MovieLens latest-small, both through the
real importers (``movieverse import tmdb-csv``, ``movieverse import movielens``: about 11,000
movies and 100,836 ratings) into a temporary MOVIEVERSE_VAR_DIR. What the imports staged in the
outboxes is delivered before any server starts (``movieverse demo-data`` with its seeding off, as
``make run`` does), and before each route the server must have been idle for a second (under 5 %
of a core), so no backlog is measured.

Two servers, one after the other, each a subprocess on a free 127.0.0.1 port:

1. the floor: ``bench/_baseline_fastapi_app.py``, FastAPI answering ``GET /`` with a small JSON
   object, served by the function ``movieverse up`` serves with (uvicorn, uvloop + httptools,
   one worker, no access log);
2. ``movieverse up`` (the embedded shape, production's server options) on that catalog.

Each route family is loaded on its own by ``wrk -t2 -c32`` with a Lua script cycling through
seeded random request paths (``bench/_catalog.wrk_rotating``), so no single cached response is
measured; the warm-up draws its own paths:

* ``details``: ``GET /movies/{id}``, ids drawn uniformly from every movie;
* ``popular``, ``top_rated``, ``trending``: ``/movies/popular``, ``/movies/top_rated``,
  ``/trending/movies/week``, pages 1-5 (they take no genre or sort);
* ``discover``: ``/discover/movies?with_genres=G&sort_by=S&page=P`` -- a genre holding at least
  100 movies (so pages 1-5 hold 20 results), any of the 12 sorts, pages 1-5;
* ``search``: ``/search/movies?q=`` a whole title or one word (4+ letters) of a title;
* ``suggest``: ``/search/suggest?q=`` the first 2-8 characters of a title, or of one of its words,
  as typed;
* the floor: ``/?id=N`` (FastAPI ignores the query), so wrk's work per request is the same.

For each route, first the **first pass**: every distinct path of the measured stream once, 8 at
a time (httpx), with the server's CPU read around it -- what a response costs when no cache
holds it (the catalog's caches keep pages 60 s, longer than a measured run). Then a warm-up of
``--warmup`` seconds (not measured), then ``--duration`` seconds measured: the steady state,
where most answers come from the caches. The server's CPU is read from ``/proc/<pid>/stat``
(user + system, all its threads) just before and just after the measured wrk run, and divided
by the requests wrk completed in it; this holds steadier than req/s on a shared machine (wrk
runs on the same 2 cores). Prints req/s, p50 and p99 latency, CPU ms per request, its ratio to
the floor's, the first pass's CPU ms per request, and issue 18's goal beside the measured run's
figure (details <= 0.5 ms, lists and discover <= 1.0 ms, search <= 1.5 ms); writes
``bench/results/cpu_per_request.json``.

Semantic search and the AI service's training at start-up are off on both servers: neither serves
these routes, and embedding 11,000 movies or training a model would take the cores away in the
middle of a measure. The per-address search limit is raised (not switched off, so its check is
still paid) because one wrk address sends thousands of searches a second. Needs wrk (Debian:
``apt-get install wrk``) and ``../shared/data``::

    .venv/bin/python bench/cpu_per_request.py [--duration 10] [--warmup 2] [--routes details,search]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import re
import sqlite3
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._catalog import (
    WRK_THREADS,
    discover_path,
    import_real_catalog,
    movie_ids,
    probe_paths,
    require_catalog_data,
    require_wrk,
    settle_staged_events,
    wrk_rotating,
)
from bench._support import (
    BENCH_DIR,
    REPO_ROOT,
    ServerProcess,
    free_port,
    log_problems,
    machine_info,
    movieverse_env,
    movieverse_up,
    print_table,
    process_cpu_seconds,
    run_server,
    temporary_work_dir,
    write_results,
)

CONNECTIONS = 32
SEED = 20261218
# Paths per wrk run: more than a measured run completes at any rate seen here, so none repeats
# its own stream.
DRAWS = 50_000
PAGES = (1, 2, 3, 4, 5)
PER_PAGE = 20
SORTS = tuple(
    f"{field}.{direction}"
    for field in ("popularity", "release_date", "vote_average", "vote_count", "title", "revenue")
    for direction in ("desc", "asc")
)
# The first pass's concurrency: enough to keep the server busy, few enough that a path's first
# request is not answered while a twin of it is still being built.
FIRST_PASS_CONNECTIONS = 8
PROBED_PATHS = 40  # each route's first paths, requested once before the load: all must be 200

# A second under 5 % of a core: the server is idle, nothing is catching up.
QUIET_WINDOW_SECONDS = 1.0
QUIET_SHARE_OF_A_CORE = 0.05
QUIET_TIMEOUT_SECONDS = 180.0

SERVER_ENV = {
    "MOVIEVERSE_SEMANTIC_SEARCH": "false",
    "MOVIEVERSE_AI_TRAIN_ON_START": "false",
    "MOVIEVERSE_RATE_LIMIT_SEARCH_IP": "1000000000/minute",
}

GOAL_DETAILS_MS = 0.5
GOAL_LIST_MS = 1.0
GOAL_SEARCH_MS = 1.5


@dataclass(frozen=True)
class CatalogSample:
    """What request paths are drawn from: the catalog as the imports left it."""

    ids: list[int]
    genre_ids: list[int]
    titles: list[str]


@dataclass(frozen=True)
class Route:
    name: str  # for --routes
    label: str
    goal_ms: float
    draw: Callable[[CatalogSample, random.Random], str]


def _details(catalog: CatalogSample, rng: random.Random) -> str:
    return f"/movies/{rng.choice(catalog.ids)}"


def _paged(path: str) -> Callable[[CatalogSample, random.Random], str]:
    def draw(_: CatalogSample, rng: random.Random) -> str:
        return f"{path}?page={rng.choice(PAGES)}"

    return draw


def _discover(catalog: CatalogSample, rng: random.Random) -> str:
    return discover_path(
        {
            "with_genres": rng.choice(catalog.genre_ids),
            "sort_by": rng.choice(SORTS),
            "page": rng.choice(PAGES),
        }
    )


_WORD = re.compile(r"[^\W_]+")


def _search(catalog: CatalogSample, rng: random.Random) -> str:
    title = rng.choice(catalog.titles)
    words = [word for word in _WORD.findall(title) if len(word) >= 4]
    query = rng.choice(words) if words and rng.random() < 0.5 else title
    return f"/search/movies?q={quote(query, safe='')}"


def _suggest(catalog: CatalogSample, rng: random.Random) -> str:
    title = rng.choice(catalog.titles)
    words = _WORD.findall(title)
    typed = rng.choice(words) if words and rng.random() < 0.3 else title
    query = typed[: rng.randint(2, 8)].strip() or typed.strip()
    return f"/search/suggest?q={quote(query, safe='')}"


ROUTES = (
    Route("details", "GET /movies/{id}", GOAL_DETAILS_MS, _details),
    Route("popular", "/movies/popular", GOAL_LIST_MS, _paged("/movies/popular")),
    Route("top_rated", "/movies/top_rated", GOAL_LIST_MS, _paged("/movies/top_rated")),
    Route("trending", "/trending/movies/week", GOAL_LIST_MS, _paged("/trending/movies/week")),
    Route("discover", "/discover/movies", GOAL_LIST_MS, _discover),
    Route("search", "/search/movies", GOAL_SEARCH_MS, _search),
    Route("suggest", "/search/suggest", GOAL_SEARCH_MS, _suggest),
)


def catalog_sample(var_dir: Path) -> CatalogSample:
    """Movie ids, the genres that fill five pages, and every title, from the movies database."""
    connection = sqlite3.connect(var_dir / "movies.db")
    try:
        genres = connection.execute(
            "select mg.genre_id from movies_movie_genres mg"
            " join movies_movies m on m.id = mg.movie_id and m.deleted_at is null"
            " group by mg.genre_id having count(*) >= ? order by mg.genre_id",
            (len(PAGES) * PER_PAGE,),
        ).fetchall()
        titles = connection.execute(
            "select title from movies_movies where deleted_at is null and title != '' order by id"
        ).fetchall()
    finally:
        connection.close()
    return CatalogSample(
        ids=movie_ids(var_dir, seed=SEED),
        genre_ids=[int(row[0]) for row in genres],
        titles=[str(row[0]) for row in titles],
    )


def draw_paths(
    draw: Callable[[CatalogSample, random.Random], str], catalog: CatalogSample, *, seed: int
) -> list[str]:
    rng = random.Random(seed)
    return [draw(catalog, rng) for _ in range(DRAWS)]


def wait_until_quiet(pid: int) -> float:
    """Wait until the process spends under 5 % of a core for a whole second; returns that
    second's share of a core (raises if it never comes)."""
    deadline = time.monotonic() + QUIET_TIMEOUT_SECONDS
    while True:
        before = process_cpu_seconds(pid)
        time.sleep(QUIET_WINDOW_SECONDS)
        share = (process_cpu_seconds(pid) - before) / QUIET_WINDOW_SECONDS
        if share < QUIET_SHARE_OF_A_CORE:
            return share
        if time.monotonic() > deadline:
            raise RuntimeError(
                f"the server still uses {share:.0%} of a core after {QUIET_TIMEOUT_SECONDS:.0f} s"
            )


@dataclass(frozen=True)
class LoadSettings:
    wrk: str
    duration: float
    warmup: float
    work_dir: Path


def _load(
    server: ServerProcess, paths: Sequence[str], load: LoadSettings, *, seconds: float, label: str
) -> dict[str, Any]:
    # The warm-up is a wrk run of its own, so the CPU read around the measured one holds no
    # warm-up request.
    return wrk_rotating(
        load.wrk,
        server.base_url,
        paths,
        duration=seconds,
        warmup=0,
        connections=CONNECTIONS,
        work_dir=load.work_dir,
        label=label,
    )


def first_pass(server: ServerProcess, paths: Sequence[str]) -> dict[str, Any]:
    """Each distinct path once, ``FIRST_PASS_CONNECTIONS`` at a time, with the server's CPU
    read around it: what a response costs when no cache holds it (every path must answer 200)."""
    distinct = list(dict.fromkeys(paths))
    pid = server.process.pid
    cpu_before = process_cpu_seconds(pid)
    started = time.perf_counter()
    asyncio.run(get_each_once(server.base_url, distinct))
    seconds = time.perf_counter() - started
    cpu_seconds = process_cpu_seconds(pid) - cpu_before
    return {
        "requests": len(distinct),
        "seconds": seconds,
        "cpu_ms_per_request": cpu_seconds * 1000 / len(distinct),
    }


async def get_each_once(
    base_url: str, paths: Sequence[str], *, connections: int = FIRST_PASS_CONNECTIONS
) -> None:
    """GET every path once, ``connections`` at a time; anything but a 200 stops the run."""
    queue = iter(paths)
    limits = httpx.Limits(max_connections=connections)
    async with httpx.AsyncClient(base_url=base_url, timeout=60.0, limits=limits) as client:

        async def worker() -> None:
            for path in queue:  # the workers share one iterator: each path is sent once
                response = await client.get(path)
                if response.status_code != 200:
                    raise RuntimeError(f"GET {path}: HTTP {response.status_code}")

        await asyncio.gather(*(worker() for _ in range(connections)))


def measure(
    server: ServerProcess,
    label: str,
    warmup_paths: Sequence[str],
    paths: Sequence[str],
    load: LoadSettings,
    *,
    cold: bool = True,
) -> dict[str, Any]:
    """The first pass over ``paths`` (what a miss costs), a probe, a quiet second, a warm-up,
    then ``paths`` loaded with the server's CPU read around the measured run only."""
    pid = server.process.pid
    wait_until_quiet(pid)
    result: dict[str, Any] = {"first_pass": first_pass(server, paths) if cold else None}
    result["probe"] = probe_paths(server.base_url, paths[:PROBED_PATHS])
    result["idle_share_of_a_core"] = wait_until_quiet(pid)
    if load.warmup > 0:
        _load(server, warmup_paths, load, seconds=load.warmup, label=f"{label}-warmup")
    cpu_before = process_cpu_seconds(pid)
    result |= _load(server, paths, load, seconds=load.duration, label=label)
    cpu_seconds = process_cpu_seconds(pid) - cpu_before
    result["server_cpu_seconds"] = cpu_seconds
    result["cpu_ms_per_request"] = cpu_seconds * 1000 / max(1, result["requests"])
    result["server_cores_used"] = cpu_seconds / result["seconds"]
    result["examples"] = list(paths[:3])
    return result


def bench_floor(load: LoadSettings, var_dir: Path) -> dict[str, Any]:
    port = free_port()
    command = [sys.executable, str(BENCH_DIR / "_baseline_fastapi_app.py"), "--port", str(port)]
    env = movieverse_env(var_dir, SERVER_ENV)
    with run_server("fastapi-floor", command, port=port, env=env, log_dir=load.work_dir) as server:
        paths = [f"/?id={n}" for n in range(1, DRAWS + 1)]
        result = measure(server, "floor", paths, paths, load, cold=False)  # nothing to cache
        result["server_log_problems"] = log_problems(server)[:20]
    return result


def bench_routes(
    load: LoadSettings, catalog: CatalogSample, routes: Sequence[Route]
) -> dict[str, Any]:
    results: dict[str, Any] = {}
    with movieverse_up(load.work_dir, extra_env=SERVER_ENV) as server:
        for index, route in enumerate(routes):
            print(f"  {route.label} ...", flush=True)
            warmup_paths = draw_paths(route.draw, catalog, seed=SEED + 2 * index)
            paths = draw_paths(route.draw, catalog, seed=SEED + 2 * index + 1)
            results[route.name] = measure(server, route.name, warmup_paths, paths, load)
        problems = log_problems(server)
    return {"routes": results, "server_log_problems": problems[:20], "problem_count": len(problems)}


def _row(label: str, r: Mapping[str, Any], floor_ms: float, goal_ms: float | None) -> list[str]:
    lat = r["latency_ms"]
    cpu_ms = r["cpu_ms_per_request"]
    met = "" if goal_ms is None else ("met" if cpu_ms <= goal_ms else "missed")
    return [
        label,
        f"{r['requests_per_second']:,.0f}",
        f"{lat['p50']:.2f}",
        f"{lat['p99']:.2f}",
        f"{cpu_ms:.3f}",
        f"{cpu_ms / floor_ms:.1f}x",
        f"{r['first_pass']['cpu_ms_per_request']:.3f}" if r["first_pass"] else "",
        "" if goal_ms is None else f"<= {goal_ms:g}",
        met,
        f"{r['server_cores_used']:.2f}",
        str(r["non_2xx_3xx"] + r["socket_errors"]),
        f"{r['distinct_paths']:,}",
    ]


def parse_routes(raw: str) -> list[Route]:
    known = {route.name: route for route in ROUTES}
    names = [name.strip() for name in raw.split(",") if name.strip()]
    unknown = [name for name in names if name not in known]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"unknown route(s) {', '.join(unknown) or '(none given)'}; known: {', '.join(known)}"
        )
    return [route for route in ROUTES if route.name in names]


def main() -> int:
    started = time.monotonic()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=10.0, help="measured seconds (1-60)")
    parser.add_argument("--warmup", type=float, default=2.0, help="unmeasured seconds first")
    parser.add_argument("--data", type=Path, default=REPO_ROOT.parent / "shared" / "data")
    parser.add_argument(
        "--routes", type=parse_routes, default=list(ROUTES),
        help=f"comma-separated subset of: {', '.join(r.name for r in ROUTES)} (the floor always)",
    )  # fmt: skip
    args = parser.parse_args()
    if not 1 <= args.duration <= 60 or not 0 <= args.warmup <= 30:
        parser.error("--duration must be 1..60 and --warmup 0..30")
    require_catalog_data(args.data)
    routes: list[Route] = args.routes
    wrk = require_wrk()
    info = machine_info()
    print(f"load generator: wrk -t{WRK_THREADS} -c{CONNECTIONS} with a path-rotating Lua script")
    print(
        f"{info['cpus']} CPUs shared by wrk and the server under test; "
        f"{args.warmup:g}s warm-up + {args.duration:g}s measured per route"
    )
    with temporary_work_dir("movieverse-bench-cpu-per-request-") as work_dir:
        load = LoadSettings(wrk, args.duration, args.warmup, work_dir)
        var_dir = work_dir / "var"
        var_dir.mkdir()
        print("importing the catalog (tmdb-csv, then movielens) ...", flush=True)
        imports = import_real_catalog(var_dir, args.data)
        print("delivering the events the imports staged ...", flush=True)
        imports["settle_seconds"] = settle_staged_events(var_dir, SERVER_ENV)
        catalog = catalog_sample(var_dir)
        print("the floor: bare FastAPI GET / (served as movieverse up serves)", flush=True)
        floor = bench_floor(load, var_dir)
        print(f"movieverse up, {len(catalog.ids):,} movies:", flush=True)
        measured = bench_routes(load, catalog, routes)

    floor_ms = floor["cpu_ms_per_request"]
    rows = [_row("floor: FastAPI GET /", floor, floor_ms, None)]
    rows += [
        _row(route.label, measured["routes"][route.name], floor_ms, route.goal_ms)
        for route in routes
    ]
    print_table(
        f"Server CPU per request at {CONNECTIONS} connections, {args.duration:g}s each, "
        f"wrk -t{WRK_THREADS} (latency in ms; {len(catalog.ids):,} imported movies)",
        [
            "route",
            "req/s",
            "p50",
            "p99",
            "CPU ms/req",
            "/floor",
            "first pass",
            "goal ms",
            "",
            "cores",
            "errors",
            "paths",
        ],
        rows,
    )
    missed = [
        r.name for r in routes if measured["routes"][r.name]["cpu_ms_per_request"] > r.goal_ms
    ]
    print(f"\ngoals met: {len(routes) - len(missed)} of {len(routes)}", end="")
    print(f" (missed: {', '.join(missed)})" if missed else "")
    print(
        "CPU ms/req: the server process's user + system CPU during the measured run over the "
        "requests wrk completed; cores: that CPU over the run's seconds."
    )
    if measured["problem_count"]:
        print(f"server log error lines: {measured['problem_count']}")
        for line in measured["server_log_problems"][:5]:
            print(f"  {line}")
    elapsed = time.monotonic() - started
    print(f"whole run: {elapsed:.0f} s; note: wrk runs on the same 2 cores as the server.")

    path = write_results(
        "cpu_per_request",
        {
            "benchmark": "cpu_per_request",
            "machine": info,
            "generator": f"wrk -t{WRK_THREADS} -c{CONNECTIONS}, Lua path rotation",
            "connections": CONNECTIONS,
            "duration_seconds": args.duration,
            "warmup_seconds": args.warmup,
            "server_options": "movieverse.cli.servers.serve_app: uvicorn, loop=uvloop, "
            "http=httptools, 1 worker, access_log off",
            "server_env": SERVER_ENV,
            "catalog": {
                "movies": len(catalog.ids),
                "genres_drawn": catalog.genre_ids,
                "imports": imports,
            },
            "floor": floor,
            "routes": measured["routes"],
            "goals_ms": {r.name: r.goal_ms for r in routes},
            "ratio_to_floor": {
                r.name: measured["routes"][r.name]["cpu_ms_per_request"] / floor_ms for r in routes
            },
            "goals_missed": missed,
            "server_log_problems": measured["server_log_problems"],
            "run_seconds": elapsed,
        },
    )
    print(f"wrote {path}")
    results = [floor, *measured["routes"].values()]
    failed = any(r["non_2xx_3xx"] or r["socket_errors"] for r in results)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
