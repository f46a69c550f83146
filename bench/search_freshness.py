"""Freshness: from a catalog write's commit to the change being searchable, in the embedded shape.

``movieverse up`` runs as a subprocess on 127.0.0.1 (SQLite, in-process bus, tantivy), an admin
made with ``movieverse users create-admin``. For each of ``--movies`` movies, one at a time with
``--gap`` seconds between them: POST /movies with a unique word in its title; the clock starts
when the 201 arrives (the write has committed) and stops at the first /search/movies answer
that holds it (polled every 5 ms). Then the same for renaming each one (PATCH, the new word
searched) and deleting it (DELETE, until the old word finds nothing). The time includes the
outbox relay's hand-off, the indexer's batch and commit, and the search side noticing the
commit. Run twice: semantic search on (the default when the extra is installed: a new title is
also embedded) and off.

Goal: p99 < 1 s. Writes ``bench/results/search_freshness.json``::

    .venv/bin/python bench/search_freshness.py [--movies 100] [--gap 0.1]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._ratings import ADMIN_USERNAME, create_admin
from bench._support import (
    BENCH_PASSWORD,
    RESULTS_DIR,
    latency_summary_ms,
    machine_info,
    movieverse_env,
    movieverse_up,
    temporary_work_dir,
)

POLL_SECONDS = 0.005
GIVE_UP_SECONDS = 30.0


def _ids(client: httpx.Client, word: str) -> list[int]:
    response = client.get("/search/movies", params={"q": word})
    response.raise_for_status()
    return [r["id"] for r in response.json()["results"]]


def _wait(client: httpx.Client, word: str, *, present: int | None) -> float:
    """Seconds until ``word`` finds movie ``present`` (or, with None, finds nothing)."""
    started = time.perf_counter()
    while True:
        found = _ids(client, word)
        if (present in found) if present is not None else not found:
            return time.perf_counter() - started
        if time.perf_counter() - started > GIVE_UP_SECONDS:
            raise RuntimeError(f"{word!r} not as expected after {GIVE_UP_SECONDS} s")
        time.sleep(POLL_SECONDS)


def _measure(client: httpx.Client, movies: int, gap: float) -> dict[str, list[float]]:
    lags: dict[str, list[float]] = {"create": [], "update": [], "delete": []}
    login = client.post("/auth/login", json={"login": ADMIN_USERNAME, "password": BENCH_PASSWORD})
    login.raise_for_status()
    headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
    made: list[int] = []
    for _ in range(movies):
        word = f"probe{uuid.uuid4().hex[:10]}"
        response = client.post("/movies", json={"title": f"Fresh {word}"}, headers=headers)
        response.raise_for_status()
        movie_id = response.json()["id"]
        lags["create"].append(_wait(client, word, present=movie_id))
        made.append(movie_id)
        time.sleep(gap)
    for movie_id in made:
        renamed = f"renamed{uuid.uuid4().hex[:10]}"
        response = client.patch(
            f"/movies/{movie_id}", json={"title": f"Fresh {renamed}"}, headers=headers
        )
        response.raise_for_status()
        lags["update"].append(_wait(client, renamed, present=movie_id))
        time.sleep(gap)
        client.delete(f"/movies/{movie_id}", headers=headers).raise_for_status()
        lags["delete"].append(_wait(client, renamed, present=None))
        time.sleep(gap)
    return lags


def run(movies: int, gap: float, *, semantic: bool) -> dict[str, Any]:
    extra = {"MOVIEVERSE_SEMANTIC_SEARCH": "true" if semantic else "false"}
    with (
        temporary_work_dir("mv-search-fresh-") as work,
        movieverse_up(work, extra_env=extra) as server,
        httpx.Client(base_url=server.base_url, timeout=30) as client,
    ):
        create_admin(movieverse_env(work / "var", extra))
        lags = _measure(client, movies, gap)
    return {kind: latency_summary_ms(values) for kind, values in lags.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--movies", type=int, default=100)
    parser.add_argument("--gap", type=float, default=0.1)
    args = parser.parse_args()
    results: dict[str, Any] = {"machine": machine_info(), "movies": args.movies, "runs": {}}
    for semantic in (True, False):
        name = "semantic on" if semantic else "semantic off"
        results["runs"][name] = run(args.movies, args.gap, semantic=semantic)
        print(f"\n{name}: commit -> searchable, ms ({args.movies} movies, goal p99 < 1000)")
        for kind, summary in results["runs"][name].items():
            print(
                f"  {kind:7} p50 {summary['p50_ms']:7.1f}  p99 {summary['p99_ms']:7.1f}  "
                f"max {summary['max_ms']:7.1f}"
            )
    RESULTS_DIR.mkdir(exist_ok=True)
    (RESULTS_DIR / "search_freshness.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
