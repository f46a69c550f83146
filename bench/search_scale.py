"""Search at scale: /search/movies latency on synthetic catalogs of 10k, 100k and 1M movies,
beside an SQLite FTS5 baseline on the same documents and queries; suggest latency; full
reindex throughput.

Catalog: seeded synthetic movies (titles of 1-5 words from a 6,000-word vocabulary drawn
Zipf-like, overviews of 15-40 words from 20,000 words, 1-3 genres, years 1920-2025, long-tailed
popularity, 1% adult); the 10k catalog is the first 10k movies of the 100k one. Queries: 300
titles of the catalog, each typed four ways -- whole, with one typo in its longest word (two
letters swapped), half typed (the last word cut to its first half), and two words of it.

For each size:

* the tantivy index is built through the search port (``rebuild``: the reindex path) and the
  docs/s reported; the FTS5 table (title and overview, ``unicode61 remove_diacritics 2``, the
  same folded text) is filled in one transaction;
* port level, in this process: every query through ``search_movies`` (ranked page of 20, total,
  facets) and through FTS5 (``MATCH`` with every word, the last as a prefix, ``bm25`` order,
  LIMIT 20, and the ``count(*)``); p50/p99 and the ratio; also how often the intended movie is
  in the first 10 (FTS5 forgives no typo);
* HTTP: ``movieverse serve search`` on the built index (a subprocess on 127.0.0.1, uvicorn),
  the same queries one at a time with httpx (keep-alive, no concurrency): /search/movies and
  /search/suggest p50/p99.

Goal: suggest p99 < 10 ms at 100k titles in the embedded shape. Writes
``bench/results/search_scale.json``::

    .venv/bin/python bench/search_scale.py [--sizes 10k,100k,1m]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sqlite3
import sys
import time
from collections.abc import Iterator, Sequence
from datetime import date
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._support import (
    HOST,
    RESULTS_DIR,
    free_port,
    latency_summary_ms,
    machine_info,
    movieverse_env,
    run_server,
    temporary_work_dir,
    venv_executable,
)
from movieverse.platform.search.documents import MovieDocument
from movieverse.platform.search.port import Batch, MovieFilters
from movieverse.platform.search.query import parse_query, words
from movieverse.platform.search.tantivy_index import TantivySearchIndex

SIZES = {"10k": 10_000, "100k": 100_000, "1m": 1_000_000}
GENRES = ("Drama", "Comedy", "Thriller", "Action", "Romance", "Horror", "Crime",
          "Science Fiction", "Adventure", "Family", "Fantasy", "Mystery", "Animation",
          "Documentary", "War")  # fmt: skip
LANGUAGES = ("en",) * 12 + ("fr", "es", "de", "ja", "it", "ko", "hi", "zh")
SYLLABLES = ("ka", "lo", "mi", "ra", "to", "ne", "shi", "va", "de", "lu", "bo", "ri", "sa",
             "ten", "gor", "mar", "ell", "ion", "ast", "ver", "quin", "dor", "fen", "tal",
             "ory")  # fmt: skip
QUERIES = 300
BATCH = 5_000


def _vocabulary(rng: random.Random, size: int) -> list[str]:
    found: dict[str, None] = {}
    while len(found) < size:
        found["".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4)))] = None
    return list(found)


def synthetic_movies(count: int, seed: int = 7) -> Iterator[MovieDocument]:
    rng = random.Random(seed)
    title_words = _vocabulary(rng, 6_000)
    overview_words = _vocabulary(rng, 20_000)
    # Zipf-like: the k-th word drawn with weight 1/k.
    title_weights = [1 / (k + 1) for k in range(len(title_words))]
    overview_weights = [1 / (k + 1) for k in range(len(overview_words))]
    for movie_id in range(1, count + 1):
        title = " ".join(rng.choices(title_words, title_weights, k=rng.randint(1, 5))).title()
        overview = " ".join(rng.choices(overview_words, overview_weights, k=rng.randint(15, 40)))
        year = min(2025, int(1920 + 105 * rng.random() ** 0.6))
        yield MovieDocument(
            id=movie_id,
            title=title,
            overview=overview.capitalize() + ".",
            genres=tuple(rng.sample(GENRES, rng.randint(1, 3))),
            release_date=date(year, rng.randint(1, 12), rng.randint(1, 28)),
            original_language=rng.choice(LANGUAGES),
            popularity=round(rng.paretovariate(1.5), 2),
            vote_average=round(min(10.0, max(0.0, rng.gauss(6.3, 1.2))), 1),
            vote_count=int(rng.paretovariate(1.2) * 10),
            adult=rng.random() < 0.01,
        )


def _typo(word: str, rng: random.Random) -> str:
    if len(word) < 4:
        return word
    i = rng.randrange(len(word) - 1)
    return word[:i] + word[i + 1] + word[i] + word[i + 2 :]


def queries_for(movies: Sequence[MovieDocument], seed: int = 11) -> list[tuple[str, int]]:
    """``(query, intended movie id)``: titles typed whole, with a typo, half typed, partial."""
    rng = random.Random(seed)
    chosen = rng.sample([m for m in movies if not m.adult], QUERIES)
    out: list[tuple[str, int]] = []
    for movie in chosen:
        found = words(movie.title)
        longest = max(range(len(found)), key=lambda i: len(found[i]))
        typo = [_typo(w, rng) if i == longest else w for i, w in enumerate(found)]
        half = [*found[:-1], found[-1][: max(2, len(found[-1]) // 2)]]
        out += [
            (" ".join(found), movie.id),
            (" ".join(typo) + " ", movie.id),
            (" ".join(half), movie.id),
            (" ".join(found[:2]) + " ", movie.id),
        ]
    return out


async def _batches(movies: Sequence[MovieDocument]) -> Any:
    for start in range(0, len(movies), BATCH):
        yield Batch(movies[start : start + BATCH])


def build_fts(path: Path, movies: Sequence[MovieDocument]) -> float:
    started = time.perf_counter()
    with sqlite3.connect(path) as conn:
        conn.execute(
            "CREATE VIRTUAL TABLE movies USING fts5("
            "title, overview, tokenize = 'unicode61 remove_diacritics 2')"
        )
        conn.executemany(
            "INSERT INTO movies(rowid, title, overview) VALUES (?, ?, ?)",
            ((m.id, m.title, m.overview or "") for m in movies),
        )
        conn.execute("INSERT INTO movies(movies) VALUES ('optimize')")
    return time.perf_counter() - started


def fts_query(text: str) -> str | None:
    """Every word, quoted (no FTS5 syntax can come through), the last a prefix while typed."""
    found = words(text)
    if not found:
        return None
    quoted = [f'"{w}"' for w in found]
    if not text.endswith(" "):
        quoted[-1] += "*"
    return " ".join(quoted)


def run_fts(conn: sqlite3.Connection, text: str) -> tuple[float, list[int]]:
    match = fts_query(text)
    started = time.perf_counter()
    ids: list[int] = []
    if match is not None:
        rows = conn.execute(
            "SELECT rowid FROM movies WHERE movies MATCH ? "
            "ORDER BY bm25(movies, 3.0, 0.4) LIMIT 20",
            (match,),
        ).fetchall()
        conn.execute("SELECT count(*) FROM movies WHERE movies MATCH ?", (match,)).fetchone()
        ids = [r[0] for r in rows]
    return time.perf_counter() - started, ids


async def port_level(
    index: TantivySearchIndex, conn: sqlite3.Connection, queries: list[tuple[str, int]]
) -> dict[str, Any]:
    ours: list[float] = []
    theirs: list[float] = []
    suggest: list[float] = []
    found_ours = found_fts = 0
    for text, intended in queries:
        parsed = parse_query(text)
        started = time.perf_counter()
        page = await index.search_movies(parsed, filters=MovieFilters(), offset=0, limit=20)
        ours.append(time.perf_counter() - started)
        found_ours += intended in [h.document.id for h in page.hits[:10]]
        started = time.perf_counter()
        await index.suggest(parsed, limit=10)
        suggest.append(time.perf_counter() - started)
        seconds, ids = run_fts(conn, text)
        theirs.append(seconds)
        found_fts += intended in ids[:10]
    ours_ms, fts_ms = latency_summary_ms(ours), latency_summary_ms(theirs)
    return {
        "tantivy": ours_ms,
        "fts5": fts_ms,
        "suggest": latency_summary_ms(suggest),
        "p50_ratio_vs_fts5": ours_ms["p50_ms"] / fts_ms["p50_ms"],
        "p99_ratio_vs_fts5": ours_ms["p99_ms"] / fts_ms["p99_ms"],
        "intended_in_top10": {
            "tantivy": found_ours / len(queries),
            "fts5": found_fts / len(queries),
        },
    }


def http_level(var_dir: Path, queries: list[tuple[str, int]], log_dir: Path) -> dict[str, Any]:
    port = free_port()
    env = movieverse_env(var_dir, {"MOVIEVERSE_SEMANTIC_SEARCH": "false"})
    cli = venv_executable("movieverse")
    command = [cli, "serve", "search", "--host", HOST, "--port", str(port)]
    search: list[float] = []
    suggest: list[float] = []
    with (
        run_server("search", command, port=port, env=env, log_dir=log_dir) as server,
        httpx.Client(base_url=server.base_url, timeout=30) as client,
    ):
        for text, _ in queries[:50]:  # warm-up
            client.get("/search/movies", params={"q": text})
        for text, _ in queries:
            started = time.perf_counter()
            response = client.get("/search/movies", params={"q": text})
            search.append(time.perf_counter() - started)
            response.raise_for_status()
            started = time.perf_counter()
            response = client.get("/search/suggest", params={"q": text})
            suggest.append(time.perf_counter() - started)
            response.raise_for_status()
    return {"search_movies": latency_summary_ms(search), "suggest": latency_summary_ms(suggest)}


async def measure(size: int, work: Path) -> dict[str, Any]:
    started = time.perf_counter()
    movies = list(synthetic_movies(size))
    generated = time.perf_counter() - started
    queries = queries_for(movies)
    var_dir = work / f"var-{size}"
    index = await TantivySearchIndex.open(var_dir / "search", writable=True)
    started = time.perf_counter()
    loaded = await index.rebuild("movies", _batches(movies))
    build = time.perf_counter() - started
    fts_seconds = build_fts(work / f"fts-{size}.db", movies)
    with sqlite3.connect(work / f"fts-{size}.db") as conn:
        port = await port_level(index, conn, queries)
    await index.close()
    http = http_level(var_dir, queries, work)
    return {
        "documents": loaded,
        "generate_seconds": round(generated, 1),
        "reindex_seconds": round(build, 2),
        "reindex_docs_per_second": round(loaded / build),
        "fts5_build_seconds": round(fts_seconds, 2),
        "port": port,
        "http": http,
    }


def _print(name: str, result: dict[str, Any]) -> None:
    port, http = result["port"], result["http"]
    print(
        f"\n{name}: {result['documents']:,} movies; reindex {result['reindex_seconds']} s "
        f"({result['reindex_docs_per_second']:,} docs/s), FTS5 build "
        f"{result['fts5_build_seconds']} s"
    )
    print(
        f"  port   search_movies p50 {port['tantivy']['p50_ms']:.2f} ms p99 "
        f"{port['tantivy']['p99_ms']:.2f} ms | FTS5 p50 {port['fts5']['p50_ms']:.2f} ms p99 "
        f"{port['fts5']['p99_ms']:.2f} ms | ratio p50 {port['p50_ratio_vs_fts5']:.2f} "
        f"p99 {port['p99_ratio_vs_fts5']:.2f}"
    )
    found = port["intended_in_top10"]
    print(
        f"  port   intended movie in top 10: tantivy {found['tantivy']:.3f}, "
        f"FTS5 {found['fts5']:.3f}; suggest p50 {port['suggest']['p50_ms']:.2f} ms "
        f"p99 {port['suggest']['p99_ms']:.2f} ms"
    )
    print(
        f"  HTTP   /search/movies p50 {http['search_movies']['p50_ms']:.2f} ms p99 "
        f"{http['search_movies']['p99_ms']:.2f} ms | /search/suggest p50 "
        f"{http['suggest']['p50_ms']:.2f} ms p99 {http['suggest']['p99_ms']:.2f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10k,100k,1m")
    args = parser.parse_args()
    results: dict[str, Any] = {"machine": machine_info(), "sizes": {}}
    with temporary_work_dir("mv-search-scale-") as work:
        for name in args.sizes.split(","):
            result = asyncio.run(measure(SIZES[name], work))
            results["sizes"][name] = result
            _print(name, result)
    sizes = results["sizes"]
    for small, large in (("10k", "100k"), ("100k", "1m")):
        if small in sizes and large in sizes:
            a, b = sizes[small]["http"]["search_movies"], sizes[large]["http"]["search_movies"]
            print(
                f"\ngrowth {small} -> {large} (10x documents): /search/movies p50 "
                f"x{b['p50_ms'] / a['p50_ms']:.2f}, p99 x{b['p99_ms'] / a['p99_ms']:.2f}"
            )
    if "100k" in sizes:
        p99 = sizes["100k"]["http"]["suggest"]["p99_ms"]
        print(f"suggest p99 at 100k over HTTP: {p99:.2f} ms (goal < 10 ms)")
    RESULTS_DIR.mkdir(exist_ok=True)
    (RESULTS_DIR / "search_scale.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
