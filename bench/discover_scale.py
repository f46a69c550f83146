"""Discover latency on synthetic catalogs of 10k, 100k and 1M movies: does it grow sub-linearly?

The goals are p99 < 50 ms at 100k movies and < 200 ms at 1M.

For each size a fresh embedded (SQLite) movies database gets the real schema from
``movieverse migrate movies`` (MOVIEVERSE_VAR_DIR = a temporary folder; the migration also seeds
the genres), then is filled straight through ``sqlite3`` ``executemany`` into movies_movies,
movies_movie_genres, movies_keywords and movies_movie_keywords. The secondary indexes the
migration made are dropped before the load and re-created after it from their own DDL in
sqlite_master, so the schema ends up exactly the migrated one. ANALYZE is not run: the service
never runs it, so the planner works without statistics, as it does in production.

The data is seeded and realistic in shape: 1-3 of the seeded genres per movie (weighted like
TMDB), a 20,000-keyword vocabulary used Zipf-like (about 5 keywords per movie), release dates
1920-2025 skewed recent (about 1% unknown), English dominating the original languages, long-tailed
popularity and vote counts, vote_average around 6.3, runtime 80-180, 1% adult, 0.3% soft-deleted.
The generator draws movies in order from one seeded stream, so the 10k catalog is the first 10k
movies of the 100k one.

The service is measured as it is deployed: ``movieverse serve movies`` runs as a subprocess on a
free 127.0.0.1 port (uvicorn, uvloop + httptools, one worker), and this process sends it a fixed
set of discover queries one at a time with httpx (keep-alive, no concurrency, so latency is
service time, not queueing): after a warm-up pass, ``--rounds`` rounds over every variant of
every shape (a shape that has used ``--shape-budget`` seconds stops after the round in progress).
The shapes cover every filter family and both directions of every sort, and deep pages. The
service's list cache is shrunk to one entry (``COLD_PAGES``), so every page measured is built from
the database: this is the cold path. A list's total is cached apart from its pages, once per
filter set (DESIGN's answer on discover totals: exact counts, cached when costly), so the first
request of each filter set -- the warm-up pass, and a variant with new filters in the first round
-- also counts; those requests are reported on their own ("first request of a filter set"), the
rest as cold pages.

Then, server stopped, the same queries run in-process through the real
``service.discover_page`` on the same file, with SQLAlchemy's ``before_cursor_execute`` recording
the SQL the service emits; each statement is timed on its own through ``sqlite3`` and its
``EXPLAIN QUERY PLAN`` kept, to tell which statement (the count, the page, the genre look-ups)
takes the time.

Prints build times, p50/p99 per size overall and per shape, growth ratios (p99 at 100k / p99 at
10k against the 10x size ratio, and 1M / 100k) and, for the shapes that miss the goal, their
statements' times and plans. Writes ``bench/results/discover_scale.json``::

    .venv/bin/python bench/discover_scale.py [--sizes 10k,100k,1m] [--rounds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import math
import random
import sqlite3
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._catalog import discover_path, run_cli, serve_service
from bench._support import (
    latency_summary_ms,
    log_problems,
    machine_info,
    movieverse_env,
    percentile,
    print_table,
    temporary_work_dir,
    write_results,
)

GOAL_P99_MS = 50.0
GOAL_SIZE = 100_000
# Issue 18's second goal: cold discover under 200 ms at 1M movies.
GOALS_P99_MS = {GOAL_SIZE: GOAL_P99_MS, 1_000_000: 200.0}
SEED = 20261201
KEYWORD_VOCABULARY = 20_000
CHUNK = 50_000

# Movies per seeded genre in TMDB 5000 + MovieLens latest-small, as the generator's weights.
GENRE_WEIGHTS = {
    18: 5313, 35: 4211, 53: 2447, 28: 2237, 10749: 2023, 12: 1576, 80: 1525, 27: 1177,
    878: 1150, 14: 958, 10751: 930, 9648: 773, 16: 669, 99: 507, 10752: 428, 100002: 334,
    36: 197, 37: 195, 10402: 185, 100003: 158, 100001: 87, 10770: 40,
}  # fmt: skip
LANGUAGE_WEIGHTS = {
    "en": 55.0, "fr": 7.0, "es": 6.0, "ja": 5.0, "de": 4.0, "it": 4.0, "ko": 3.0, "zh": 3.0,
    "hi": 3.0, "ru": 2.0, "pt": 2.0, "sv": 1.0, "da": 1.0, "nl": 1.0, "tr": 1.0, "pl": 1.0,
    "fi": 0.5, "no": 0.5, "th": 0.5, "cn": 0.5, "ta": 0.5, "te": 0.5, "fa": 0.5, "ar": 0.5,
}  # fmt: skip
_WORD_TEXT = (
    "night day love war city house dark light blood river king queen man woman girl boy ghost "
    "dream road star moon sun sea fire ice stone iron gold silver last first lost secret "
    "hidden wild little big red black white blue green summer winter spring autumn heart soul "
    "mind eye hand world island mountain forest desert storm rain snow wind shadow mirror "
    "garden train ship car street bridge tower castle empire kingdom family brother sister "
    "mother father son daughter friend enemy stranger hunter soldier doctor killer thief "
    "angel devil monster machine robot planet space time return revenge escape journey "
    "story legend song dance game party wedding funeral murder mystery crime justice truth "
    "lie promise memory future past tomorrow yesterday forever never always again home"
)
WORDS = tuple(_WORD_TEXT.split())

MOVIE_COLUMNS = (
    "id", "tmdb_id", "imdb_id", "movielens_id", "title", "title_sort", "original_title",
    "original_language", "overview", "tagline", "release_date", "release_year", "runtime",
    "status", "budget", "revenue", "adult", "homepage", "poster_path", "backdrop_path",
    "spoken_languages", "production_countries", "production_companies", "popularity",
    "vote_average", "vote_count", "sources", "created_at", "updated_at", "deleted_at",
)  # fmt: skip
FILLED_TABLES = ("movies_movies", "movies_movie_genres", "movies_movie_keywords", "movies_keywords")


# --- the synthetic catalog -------------------------------------------------------------------


@dataclass
class BuildReport:
    movies: int
    genre_rows: int
    keyword_rows: int
    keywords: int
    migrate_seconds: float
    load_seconds: float
    index_seconds: float
    file_bytes: int

    @property
    def total_seconds(self) -> float:
        return self.migrate_seconds + self.load_seconds + self.index_seconds


@dataclass
class _Relations:
    genres: list[tuple[int, int]] = field(default_factory=list)
    keywords: list[tuple[int, int]] = field(default_factory=list)


class CatalogGenerator:
    """Movies drawn one after the other from one seeded stream (a prefix property)."""

    def __init__(self, genre_ids: Sequence[int], *, seed: int = SEED) -> None:
        self.rng = random.Random(seed)
        self.genre_ids = list(genre_ids)
        genre_weights = [float(GENRE_WEIGHTS.get(g, 50)) for g in self.genre_ids]
        self.genre_cum = list(itertools.accumulate(genre_weights))
        self.languages = list(LANGUAGE_WEIGHTS)
        self.language_cum = list(itertools.accumulate(LANGUAGE_WEIGHTS.values()))
        # Zipf-Mandelbrot: weight of the keyword of rank k is 1 / (k + 10) ** 1.05; id = rank.
        self.keyword_ids = list(range(1, KEYWORD_VOCABULARY + 1))
        self.keyword_cum = list(
            itertools.accumulate(1.0 / (k + 10) ** 1.05 for k in self.keyword_ids)
        )
        self.year_one = date(1920, 1, 1).toordinal()

    def keywords(self) -> list[tuple[int, str]]:
        rng = random.Random(SEED + 1)
        return [(k, f"{rng.choice(WORDS)} {rng.choice(WORDS)} {k}") for k in self.keyword_ids]

    def _release(self) -> tuple[str | None, int | None]:
        rng = self.rng
        if rng.random() < 0.01:
            return None, None
        # Density grows with the square of the time since 1920: most movies are recent.
        year = min(2025, 1920 + int(106 * rng.random() ** (1 / 3)))
        day = date(year, 1, 1).toordinal() + rng.randrange(365)
        return date.fromordinal(day).isoformat(), year

    def movie(self, movie_id: int, relations: _Relations) -> tuple[Any, ...]:
        rng = self.rng
        title = " ".join(rng.choices(WORDS, k=rng.randint(1, 4))).title()
        if rng.random() < 0.3:
            title = f"{title} {rng.randint(2, 5)}"
        language = rng.choices(self.languages, cum_weights=self.language_cum)[0]
        release_date, release_year = self._release()
        popularity = round(rng.lognormvariate(0.7, 1.4), 3)
        vote_count = 0
        if rng.random() > 0.12:
            vote_count = min(40_000, int(popularity**1.4 * rng.lognormvariate(1.5, 1.0)))
        vote_average = 0.0
        if vote_count:
            spread = 1.0 if vote_count >= 20 else 1.8
            vote_average = round(min(10.0, max(0.0, rng.gauss(6.3, spread))), 1)
        runtime = None if rng.random() < 0.02 else min(180, 80 + int(rng.gammavariate(2.0, 12)))
        revenue = int(rng.lognormvariate(16.5, 1.8)) if rng.random() < 0.25 else None
        budget = int(rng.lognormvariate(16.0, 1.5)) if rng.random() < 0.3 else None
        created = f"2026-01-{1 + movie_id % 28:02d} 12:00:00.000000"
        deleted = created if rng.random() < 0.003 else None
        overview = " ".join(rng.choices(WORDS, k=rng.randint(15, 60))).capitalize() + "."

        genre_count = rng.choices((1, 2, 3), cum_weights=(45, 80, 100))[0]
        genres: set[int] = set()
        while len(genres) < genre_count:
            genres.add(rng.choices(self.genre_ids, cum_weights=self.genre_cum)[0])
        relations.genres.extend((movie_id, g) for g in sorted(genres))
        if rng.random() > 0.12:
            count = 1 + min(14, int(rng.expovariate(0.25)))
            chosen = set(rng.choices(self.keyword_ids, cum_weights=self.keyword_cum, k=count))
            relations.keywords.extend((movie_id, k) for k in sorted(chosen))

        return (
            movie_id,
            2 * movie_id + 11,  # tmdb_id: unique, increasing
            f"tt{movie_id + 1_000_000:08d}",
            movie_id if movie_id % 10 == 0 else None,  # a MovieLens id for some
            title,
            title.casefold(),
            title,
            language,
            overview,
            None,
            release_date,
            release_year,
            runtime,
            "Released" if release_date else "Rumored",
            budget,
            revenue,
            1 if rng.random() < 0.01 else 0,
            None,
            None,
            None,
            f'[{{"iso_639_1": "{language}", "name": ""}}]',
            "[]",
            "[]",
            popularity,
            vote_average,
            vote_count,
            '["synthetic"]',
            created,
            created,
            deleted,
        )

    def chunks(self, total: int) -> Iterator[tuple[list[tuple[Any, ...]], _Relations]]:
        for start in range(1, total + 1, CHUNK):
            relations = _Relations()
            stop = min(total, start + CHUNK - 1)
            rows = [self.movie(i, relations) for i in range(start, stop + 1)]
            yield rows, relations


def build_catalog(var_dir: Path, size: int) -> BuildReport:
    """``movieverse migrate movies``, then a bulk load of ``size`` synthetic movies."""
    migrate_seconds = run_cli(movieverse_env(var_dir), "migrate", "movies")
    path = var_dir / "movies.db"
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        _check_schema(connection)
        genre_ids = [int(r[0]) for r in connection.execute("select id from movies_genres")]
        if not genre_ids:
            raise RuntimeError("the movies migration seeded no genres")
        indexes = connection.execute(
            "select name, sql from sqlite_master where type = 'index' and sql is not null "
            "and tbl_name in (?, ?, ?, ?)",
            FILLED_TABLES,
        ).fetchall()
        connection.execute("PRAGMA journal_mode=OFF")
        connection.execute("PRAGMA synchronous=OFF")
        connection.execute("PRAGMA cache_size=-1000000")
        started = time.perf_counter()
        for name, _ in indexes:
            connection.execute(f'DROP INDEX "{name}"')
        generator = CatalogGenerator(genre_ids)
        connection.execute("BEGIN")
        connection.executemany(
            "insert into movies_keywords (id, name) values (?, ?)", generator.keywords()
        )
        insert_movie = (
            f"insert into movies_movies ({', '.join(MOVIE_COLUMNS)}) "  # noqa: S608 -- constants
            f"values ({', '.join('?' * len(MOVIE_COLUMNS))})"
        )
        genre_rows = keyword_rows = 0
        for rows, relations in generator.chunks(size):
            connection.executemany(insert_movie, rows)
            connection.executemany(
                "insert into movies_movie_genres (movie_id, genre_id) values (?, ?)",
                relations.genres,
            )
            connection.executemany(
                "insert into movies_movie_keywords (movie_id, keyword_id) values (?, ?)",
                relations.keywords,
            )
            genre_rows += len(relations.genres)
            keyword_rows += len(relations.keywords)
        connection.execute("COMMIT")
        load_seconds = time.perf_counter() - started
        started = time.perf_counter()
        for _, sql in indexes:
            connection.execute(sql)
        index_seconds = time.perf_counter() - started
        connection.execute("PRAGMA journal_mode=WAL")
    finally:
        connection.close()
    return BuildReport(
        movies=size,
        genre_rows=genre_rows,
        keyword_rows=keyword_rows,
        keywords=KEYWORD_VOCABULARY,
        migrate_seconds=migrate_seconds,
        load_seconds=load_seconds,
        index_seconds=index_seconds,
        file_bytes=path.stat().st_size,
    )


def _check_schema(connection: sqlite3.Connection) -> None:
    """Fail clearly if the migrated movies table has a required column this loader omits."""
    columns = connection.execute("PRAGMA table_info(movies_movies)").fetchall()
    # table_info rows: (cid, name, type, notnull, default, pk)
    missing = [
        c[1] for c in columns if c[3] and c[4] is None and not c[5] and c[1] not in MOVIE_COLUMNS
    ]
    unknown = set(MOVIE_COLUMNS) - {c[1] for c in columns}
    if missing or unknown:
        raise RuntimeError(
            f"movies_movies changed: required columns not loaded {missing}, "
            f"loaded columns that no longer exist {sorted(unknown)}; update bench/discover_scale.py"
        )


# --- the queries -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Shape:
    name: str
    filters: str
    variants: tuple[Mapping[str, str], ...]

    def paths(self) -> list[str]:
        return [discover_path(v) for v in self.variants]


def _variants(
    sort_by: str, key: str | None, values: Sequence[str], **fixed: str
) -> tuple[Mapping[str, str], ...]:
    out: list[Mapping[str, str]] = []
    for value in values:
        params = dict(fixed)
        if key is not None:
            params[key] = value
        params["sort_by"] = sort_by
        out.append(params)
    return tuple(out)


def _ranges(
    sort_by: str, low: str, high: str, pairs: Sequence[tuple[str, str]]
) -> tuple[Mapping[str, str], ...]:
    return tuple({low: a, high: b, "sort_by": sort_by} for a, b in pairs)


SHAPES: tuple[Shape, ...] = (
    Shape(
        "popular",
        "none (pages 1, 2, 5, 10)",
        tuple({"sort_by": "popularity.desc", "page": p} for p in ("1", "2", "5", "10")),
    ),
    Shape(
        "genres_and",
        "with_genres a,b",
        _variants("popularity.desc", "with_genres", ("28,12", "18,10749", "35,18", "878,28")),
    ),
    Shape(
        "genres_or",
        "with_genres a|b",
        _variants("vote_average.desc", "with_genres", ("35|10749", "27|53", "16|10751", "99|36")),
    ),
    Shape(
        "without_genres",
        "without_genres",
        _variants("release_date.desc", "without_genres", ("27,53", "18", "35,10749", "99")),
    ),
    Shape(
        "one_genre_title",
        "with_genres a",
        _variants("title.desc", "with_genres", ("18", "35", "27", "99")),
    ),
    Shape(
        "year",
        "primary_release_year",
        _variants("vote_count.desc", "primary_release_year", ("2015", "1995", "1975", "2024")),
    ),
    Shape(
        "date_range",
        "release_date.gte/lte",
        _ranges(
            "release_date.asc",
            "release_date.gte",
            "release_date.lte",
            (
                ("1990-01-01", "1999-12-31"),
                ("2000-01-01", "2004-12-31"),
                ("1960-01-01", "1969-12-31"),
                ("2020-01-01", "2025-12-31"),
            ),
        ),
    ),
    Shape(
        "vote_average_range",
        "vote_average.gte/lte",
        _ranges(
            "title.asc",
            "vote_average.gte",
            "vote_average.lte",
            (("7", "8.5"), ("5", "6"), ("8", "10"), ("3", "4.5")),
        ),
    ),
    Shape(
        "vote_count_gte",
        "vote_count.gte",
        _variants("vote_average.desc", "vote_count.gte", ("100", "500", "1000", "5000")),
    ),
    Shape(
        "runtime_range",
        "with_runtime.gte/lte",
        _ranges(
            "revenue.desc",
            "with_runtime.gte",
            "with_runtime.lte",
            (("90", "120"), ("150", "180"), ("80", "90"), ("120", "150")),
        ),
    ),
    Shape(
        "language",
        "with_original_language",
        _variants("popularity.desc", "with_original_language", ("ja", "fr", "ko", "en")),
    ),
    Shape(
        "language_runtime",
        "with_original_language + with_runtime.gte",
        _variants(
            "vote_average.asc",
            "with_original_language",
            ("es", "de", "hi", "en"),
            **{"with_runtime.gte": "100"},
        ),
    ),
    Shape(
        "keyword_common",
        "with_keywords (top-ranked keyword)",
        _variants("popularity.desc", "with_keywords", ("1", "2", "3", "5")),
    ),
    Shape(
        "keywords_rare",
        "with_keywords a|b, a,b (rare)",
        _variants(
            "release_date.desc", "with_keywords", ("500|501", "2000|2001|2002", "7000", "20,21")
        ),
    ),
    Shape(
        "genre_votes_revenue",
        "with_genres + vote_count.gte",
        _variants(
            "revenue.asc", "with_genres", ("28", "18", "35|53", "16"), **{"vote_count.gte": "50"}
        ),
    ),
    Shape(
        "three_filters",
        "with_genres + vote_count.gte + primary_release_year",
        tuple(
            {
                "with_genres": g,
                "vote_count.gte": v,
                "primary_release_year": y,
                "sort_by": "popularity.asc",
            }
            for g, v, y in (
                ("28", "100", "2010"),
                ("18", "50", "1999"),
                ("35,10749", "10", "2005"),
                ("27|53", "200", "2018"),
            )
        ),
    ),
    Shape(
        "year_language",
        "primary_release_year + with_original_language",
        _variants(
            "vote_count.asc",
            "primary_release_year",
            ("2010", "2019", "1985", "2001"),
            with_original_language="fr",
        ),
    ),
    Shape(
        "deep_page",
        "none, pages 100-500",
        tuple({"sort_by": "popularity.desc", "page": p} for p in ("500", "400", "250", "100")),
    ),
    Shape(
        "deep_page_genre",
        "with_genres a, pages 100-500",
        tuple(
            {"with_genres": g, "sort_by": "release_date.desc", "page": p}
            for g, p in (("18", "500"), ("35", "300"), ("53", "200"), ("28", "100"))
        ),
    ),
)


# --- measuring over HTTP ---------------------------------------------------------------------


@dataclass
class ShapeTimings:
    seconds: list[float] = field(default_factory=list)
    total_results: list[int] = field(default_factory=list)
    spent: float = 0.0


def _filters(path: str) -> str:
    """The path without its sort and page: what a list's total depends on."""
    url = httpx.URL(path)
    kept = [(k, v) for k, v in url.params.multi_items() if k not in ("sort_by", "page")]
    return str(url.copy_with(params=kept))


def measure_http(
    base_url: str, *, rounds: int, shape_budget: float
) -> tuple[dict[str, ShapeTimings], dict[str, Any]]:
    """Sequential GETs: a warm-up pass (first variant of each shape), then ``rounds`` rounds.

    The service keeps each filter set's total apart from the pages (cache.ListPageCache), so the
    first request of a filter set also counts its matches and later ones -- other sorts, other
    pages, the same page rebuilt -- do not. The two are timed apart: ``timings`` holds the pages
    built with their total known (the cold page), ``first_sight`` the requests that also counted.
    """
    timings = {shape.name: ShapeTimings() for shape in SHAPES}
    first_sight: list[float] = []
    seen: set[str] = set()
    with httpx.Client(base_url=base_url, timeout=300.0) as client:
        warmup_started = time.perf_counter()
        for shape in SHAPES:
            path = shape.paths()[0]
            started = time.perf_counter()
            _get(client, path)
            first_sight.append(time.perf_counter() - started)
            seen.add(_filters(path))
        warmup_seconds = time.perf_counter() - warmup_started
        for _ in range(rounds):
            for shape in SHAPES:
                shape_timings = timings[shape.name]
                if shape_timings.spent > shape_budget:
                    continue
                for path in shape.paths():
                    started = time.perf_counter()
                    body = _get(client, path)
                    elapsed = time.perf_counter() - started
                    shape_timings.spent += elapsed
                    if _filters(path) not in seen:
                        seen.add(_filters(path))
                        first_sight.append(elapsed)
                        continue
                    shape_timings.seconds.append(elapsed)
                    shape_timings.total_results.append(int(body["total_results"]))
    return timings, {
        "warmup_seconds": warmup_seconds,
        "first_sight_latency_ms": latency_summary_ms(first_sight),
        "first_sight_samples": len(first_sight),
    }


def _get(client: httpx.Client, path: str) -> dict[str, Any]:
    response = client.get(path)
    if response.status_code != 200:
        raise RuntimeError(f"GET {path}: HTTP {response.status_code}: {response.text[:500]}")
    body: dict[str, Any] = response.json()
    return body


# Cold pages: the list cache keeps one entry, so no page measured is served from it -- each
# request here differs from the one before. Totals stay cached apart (see measure_http). What a
# cache hit costs is measured by bench/cpu_per_request.py.
COLD_PAGES = {"MOVIEVERSE_MOVIES_LIST_CACHE_ENTRIES": "1"}


# --- the SQL the service emits ---------------------------------------------------------------

# HTTP parameter -> (discover_query keyword, converter); discover_query is the router's own
# dependency, so the in-process run parses exactly as the HTTP one.
_QUERY_PARAMS: dict[str, tuple[str, Any]] = {
    "with_genres": ("with_genres", str),
    "without_genres": ("without_genres", str),
    "with_keywords": ("with_keywords", str),
    "primary_release_year": ("primary_release_year", int),
    "release_date.gte": ("release_date_gte", date.fromisoformat),
    "release_date.lte": ("release_date_lte", date.fromisoformat),
    "vote_average.gte": ("vote_average_gte", float),
    "vote_average.lte": ("vote_average_lte", float),
    "vote_count.gte": ("vote_count_gte", int),
    "with_runtime.gte": ("runtime_gte", int),
    "with_runtime.lte": ("runtime_lte", int),
    "with_original_language": ("with_original_language", str),
    "sort_by": ("sort_by", str),
}


async def _capture_statements(
    db_path: Path, variants: Sequence[Mapping[str, str]]
) -> list[list[tuple[str, tuple[Any, ...]]]]:
    """The statements service.discover_page sends to the database, per variant."""
    from sqlalchemy import event

    from movieverse.platform.db import Database
    from movieverse.platform.pagination import PageParams
    from movieverse.platform.settings import PlatformSettings
    from movieverse.services.movies import api, service
    from movieverse.services.movies.projections import CatalogReads

    # Every read on aiosqlite's engine (no inline budget), where the listener sees it.
    db = Database.connect(f"sqlite:///{db_path}", PlatformSettings(db_sqlite_inline_read_ms=0))
    catalog = CatalogReads(db.reads)
    captured: list[tuple[str, tuple[Any, ...]]] = []

    def record(
        _conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool
    ) -> None:
        captured.append((statement, tuple(parameters or ())))

    async def count_now(_query: Any, count: Any) -> int:
        return int(await count())  # a cold page: the server's count cache is empty too

    event.listen(db.engine.sync_engine, "before_cursor_execute", record)
    per_variant: list[list[tuple[str, tuple[Any, ...]]]] = []
    try:
        for variant in variants:
            kwargs = {
                _QUERY_PARAMS[k][0]: _QUERY_PARAMS[k][1](v)
                for k, v in variant.items()
                if k != "page"
            }
            query = await api.discover_query(**kwargs)
            params = PageParams(page=int(variant.get("page", "1")), per_page=20)
            captured.clear()
            await service.discover_page(catalog, query=query, params=params, count_once=count_now)
            per_variant.append(
                [(s, p) for s, p in captured if s.lstrip().upper().startswith("SELECT")]
            )
    finally:
        await db.dispose()
    return per_variant


def _statement_kind(sql: str) -> str:
    text = " ".join(sql.split()).lower()
    if text.startswith("select count(*)"):
        return "count"
    if "group_concat" in text:
        return "summaries"
    if text.startswith("select movies_movies.id from"):
        return "page"  # the page's ids in order
    return "other"


def explain_statements(db_path: Path, shape: Shape) -> dict[str, Any]:
    """Each statement of the shape's first variant: kind, time on its own, query plan."""
    statements = asyncio.run(_capture_statements(db_path, shape.variants[:1]))[0]
    connection = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    out: list[dict[str, Any]] = []
    try:
        for sql, params in statements:
            depths: dict[int, int] = {}
            plan = [
                f"{'  ' * _depth(row[1], row[0], depths)}{row[3]}"
                for row in connection.execute(f"EXPLAIN QUERY PLAN {sql}", params)
            ]
            started = time.perf_counter()
            connection.execute(sql, params).fetchall()
            elapsed = time.perf_counter() - started
            out.append(
                {
                    "kind": _statement_kind(sql),
                    "ms": elapsed * 1000,
                    "plan": plan,
                    "sql": " ".join(sql.split()),
                    "parameters": [str(p) for p in params],
                }
            )
    finally:
        connection.close()
    return {"variant": dict(shape.variants[0]), "statements": out}


def _depth(parent: int, node: int, depths: dict[int, int]) -> int:
    # EXPLAIN QUERY PLAN rows are (id, parent, notused, detail); indentation follows parents.
    depths[node] = depths.get(parent, -1) + 1 if parent else 0
    return depths[node]


# --- the run ---------------------------------------------------------------------------------


def parse_sizes(raw: str) -> list[int]:
    sizes: list[int] = []
    for item in raw.split(","):
        text = item.strip().lower()
        factor = 1_000_000 if text.endswith("m") else 1000 if text.endswith("k") else 1
        number = text.rstrip("km")
        if not number.isdigit() or not 1000 <= int(number) * factor <= 2_000_000:
            raise argparse.ArgumentTypeError(f"{item!r}: use e.g. 10k, 100k, 1m (1k..2m)")
        sizes.append(int(number) * factor)
    return sorted(set(sizes))


def label(size: int) -> str:
    return f"{size // 1_000_000}M" if size % 1_000_000 == 0 else f"{size // 1000}k"


def run_size(
    size: int, *, work_dir: Path, rounds: int, shape_budget: float, explain: bool
) -> dict[str, Any]:
    var_dir = work_dir / f"var-{label(size)}"
    var_dir.mkdir(parents=True)
    print(f"[{label(size)}] building {size:,} movies ...", flush=True)
    build = build_catalog(var_dir, size)
    print(
        f"[{label(size)}] built in {build.total_seconds:.1f}s (load {build.load_seconds:.1f}s, "
        f"indexes {build.index_seconds:.1f}s), {build.file_bytes / 1e6:,.0f} MB; querying ...",
        flush=True,
    )
    with serve_service("movies", var_dir, log_dir=work_dir, extra_env=COLD_PAGES) as server:
        timings, extra = measure_http(server.base_url, rounds=rounds, shape_budget=shape_budget)
        problems = log_problems(server)
    all_seconds = [s for t in timings.values() for s in t.seconds]
    shapes: dict[str, Any] = {}
    for shape in SHAPES:
        t = timings[shape.name]
        totals = sorted(t.total_results)
        shapes[shape.name] = {
            "filters": shape.filters,
            "samples": len(t.seconds),
            "latency_ms": latency_summary_ms(t.seconds),
            "total_results": {
                "min": totals[0],
                "median": percentile(totals, 0.5),
                "max": totals[-1],
            },
            "paths": shape.paths(),
        }
    result: dict[str, Any] = {
        "movies": size,
        "build": {**build.__dict__, "total_seconds": build.total_seconds},
        "overall_latency_ms": latency_summary_ms(all_seconds),
        "samples": len(all_seconds),
        "shapes": shapes,
        "server_log_problems": problems[:20],
        **extra,
    }
    if explain:
        print(f"[{label(size)}] timing the emitted SQL in-process ...", flush=True)
        started = time.perf_counter()
        for shape in SHAPES:
            shapes[shape.name]["sql"] = explain_statements(var_dir / "movies.db", shape)
        result["explain_seconds"] = time.perf_counter() - started
    for leftover in var_dir.glob("movies.db*"):
        leftover.unlink()  # a 1M catalog is ~1 GB; do not keep it until the end of the run
    return result


def _fmt(value: float) -> str:
    if math.isnan(value):
        return "-"
    return f"{value:,.1f}" if value < 1000 else f"{value:,.0f}"


def _print_latencies(
    title: str, results: Sequence[Mapping[str, Any]], *, samples: str, latency: str
) -> None:
    print_table(
        title,
        ["movies", "requests", "p50", "p95", "p99", "max", "mean"],
        [
            [
                f"{r['movies']:,}",
                str(r[samples]),
                *(_fmt(r[latency][k]) for k in ("p50_ms", "p95_ms", "p99_ms", "max_ms", "mean_ms")),
            ]
            for r in results
        ],
    )


def report(results: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    sizes = [r["movies"] for r in results]
    print_table(
        "Build (migrate + sqlite3 executemany + re-created indexes)",
        [
            "movies",
            "genre rows",
            "keyword rows",
            "migrate s",
            "load s",
            "indexes s",
            "total s",
            "MB",
        ],
        [
            [
                f"{r['movies']:,}",
                f"{r['build']['genre_rows']:,}",
                f"{r['build']['keyword_rows']:,}",
                f"{r['build']['migrate_seconds']:.1f}",
                f"{r['build']['load_seconds']:.1f}",
                f"{r['build']['index_seconds']:.1f}",
                f"{r['build']['total_seconds']:.1f}",
                f"{r['build']['file_bytes'] / 1e6:,.0f}",
            ]
            for r in results
        ],
    )
    _print_latencies(
        "Discover over HTTP, all shapes (ms, sequential requests): cold pages, total known "
        "(another sort or page of the same filters counted it)",
        results,
        samples="samples",
        latency="overall_latency_ms",
    )
    _print_latencies(
        "Discover over HTTP: the first request of each filter set (its total counted too)",
        results,
        samples="first_sight_samples",
        latency="first_sight_latency_ms",
    )
    headers = ["shape", "sort", "matches@max"]
    for size in sizes:
        headers += [f"p50 {label(size)}", f"p99 {label(size)}"]
    growth_pairs = list(itertools.pairwise(sizes))
    headers += [f"x {label(b)}/{label(a)}" for a, b in growth_pairs]
    rows: list[list[str]] = []
    growth: dict[str, dict[str, float]] = {}
    for shape in SHAPES:
        per_size = [r["shapes"][shape.name] for r in results]
        row = [
            shape.name,
            shape.variants[0]["sort_by"],
            f"{per_size[-1]['total_results']['median']:,.0f}",
        ]
        for s in per_size:
            row += [_fmt(s["latency_ms"]["p50_ms"]), _fmt(s["latency_ms"]["p99_ms"])]
        growth[shape.name] = {}
        for (a, b), (sa, sb) in zip(growth_pairs, itertools.pairwise(per_size), strict=True):
            ratio = sb["latency_ms"]["p99_ms"] / sa["latency_ms"]["p99_ms"]
            growth[shape.name][f"{label(b)}/{label(a)}"] = ratio
            row.append(f"{ratio:.1f}")
        rows.append(row)
    print_table(
        "Discover p50/p99 per query shape (ms; matches = median total_results)", headers, rows
    )

    overall_growth: dict[str, dict[str, float]] = {}
    if growth_pairs:
        lines = []
        for (a, b), (ra, rb) in zip(growth_pairs, itertools.pairwise(results), strict=True):
            key = f"{label(b)}/{label(a)}"
            p99 = rb["overall_latency_ms"]["p99_ms"] / ra["overall_latency_ms"]["p99_ms"]
            p50 = rb["overall_latency_ms"]["p50_ms"] / ra["overall_latency_ms"]["p50_ms"]
            sql = _sql_total_ms(rb) / _sql_total_ms(ra) if "sql" in _any_shape(ra) else math.nan
            overall_growth[key] = {
                "size_ratio": b / a,
                "p99_ratio": p99,
                "p50_ratio": p50,
                "sql_ratio": sql,
            }
            lines.append(
                [
                    key,
                    f"{b / a:.0f}",
                    f"{p99:.2f}",
                    f"{p50:.2f}",
                    "-" if math.isnan(sql) else f"{sql:.2f}",
                    "sub-linear" if p99 < 0.8 * b / a else "about linear or worse",
                ]
            )
        print_table(
            "Growth against the size ratio: overall HTTP p99 and p50, and the summed time of the "
            "count and page statements of every shape (SQL x, no HTTP or framework cost)",
            ["sizes", "size x", "p99 x", "p50 x", "SQL x", "verdict on p99"],
            lines,
        )

    at_goal = next((r for r in results if r["movies"] == GOAL_SIZE), None)
    misses: list[str] = []
    if at_goal is not None:
        misses = [
            n for n, s in at_goal["shapes"].items() if s["latency_ms"]["p99_ms"] >= GOAL_P99_MS
        ]
    for r in results:
        goal = GOALS_P99_MS.get(r["movies"])
        if goal is None:
            continue
        cold = r["overall_latency_ms"]["p99_ms"]
        first = r["first_sight_latency_ms"]["p99_ms"]
        missing = [n for n, s in r["shapes"].items() if s["latency_ms"]["p99_ms"] >= goal]
        print(
            f"\ngoal p99 < {goal:.0f} ms at {r['movies']:,}: cold pages p99 = {cold:.1f} ms "
            f"({'met' if cold < goal else 'missed'}; shapes missing it: "
            f"{', '.join(missing) if missing else 'none'}); first request of a filter set "
            f"p99 = {first:.1f} ms ({'met' if first < goal else 'missed'})"
        )
    if "sql" in _any_shape(results[-1]):
        _print_sql(results)
        planned = at_goal or results[-1]
        slow = misses or [
            n for n, s in planned["shapes"].items() if s["latency_ms"]["p99_ms"] >= GOAL_P99_MS
        ]
        _print_plans(planned, slow)
    return {
        "growth_per_shape": growth,
        "overall_growth": overall_growth,
        "shapes_missing_goal": misses,
    }


def _any_shape(result: Mapping[str, Any]) -> Mapping[str, Any]:
    shape: Mapping[str, Any] = next(iter(result["shapes"].values()))
    return shape


def _sql_total_ms(result: Mapping[str, Any]) -> float:
    return sum(
        ms
        for shape in result["shapes"].values()
        for kind, ms in _statement_ms(shape).items()
        if kind in {"count", "page"}
    )


def _statement_ms(shape: Mapping[str, Any]) -> dict[str, float]:
    by_kind: dict[str, float] = {}
    for st in shape["sql"]["statements"]:
        by_kind[st["kind"]] = by_kind.get(st["kind"], 0.0) + st["ms"]
    return by_kind


def _print_sql(results: Sequence[Mapping[str, Any]]) -> None:
    headers = ["shape"]
    for r in results:
        headers += [f"count {label(r['movies'])}", f"page {label(r['movies'])}"]
    headers.append(f"other {label(results[-1]['movies'])}")
    rows = []
    for shape in SHAPES:
        row = [shape.name]
        for r in results:
            ms = _statement_ms(r["shapes"][shape.name])
            row += [_fmt(ms.get("count", math.nan)), _fmt(ms.get("page", math.nan))]
        last = _statement_ms(results[-1]["shapes"][shape.name])
        row.append(_fmt(sum(v for k, v in last.items() if k not in {"count", "page"})))
        rows.append(row)
    print_table(
        "SQL the service emits, each statement timed alone through sqlite3 (ms, first variant; "
        "page = its ids in order; other = their summary rows with genre ids)",
        headers,
        rows,
    )


def _print_plans(result: Mapping[str, Any], names: Sequence[str]) -> None:
    if names:
        print(
            f"\nQuery plans at {result['movies']:,} of the shapes with p99 >= {GOAL_P99_MS:.0f} ms"
        )
    for name in names:
        sql = result["shapes"][name]["sql"]
        print(f"\n{name}  {discover_path(sql['variant'])}")
        for st in sql["statements"]:
            if st["kind"] in {"count", "page"}:
                print(f"  {st['kind']} ({st['ms']:.1f} ms):")
                for line in st["plan"]:
                    print(f"    {line}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=parse_sizes, default=parse_sizes("10k,100k,1m"))
    parser.add_argument("--rounds", type=int, default=5, help="rounds over every query (1-50)")
    parser.add_argument(
        "--shape-budget", type=float, default=15.0, help="seconds a shape may use per size"
    )
    parser.add_argument("--no-explain", action="store_true", help="skip the in-process SQL step")
    args = parser.parse_args()
    if not 1 <= args.rounds <= 50 or not 1 <= args.shape_budget <= 300:
        parser.error("--rounds must be 1..50 and --shape-budget 1..300")
    info = machine_info()
    print(
        f"{len(SHAPES)} query shapes x {len(SHAPES[0].variants)} variants, {args.rounds} rounds, "
        f"sizes {', '.join(label(s) for s in args.sizes)}; server: movieverse serve movies "
        f"(subprocess), client: sequential httpx; {info['cpus']} CPUs"
    )
    results: list[dict[str, Any]] = []
    with temporary_work_dir("movieverse-bench-discover-") as work_dir:
        for size in args.sizes:
            results.append(
                run_size(
                    size,
                    work_dir=work_dir,
                    rounds=args.rounds,
                    shape_budget=args.shape_budget,
                    explain=not args.no_explain,
                )
            )
    summary = report(results)
    path = write_results(
        "discover_scale",
        {
            "benchmark": "discover_scale",
            "machine": info,
            "goal": {"p99_ms": GOAL_P99_MS, "movies": GOAL_SIZE},
            "rounds": args.rounds,
            "shape_budget_seconds": args.shape_budget,
            "method": "movieverse serve movies subprocess; sequential httpx GETs; SQL timed "
            "in-process with sqlite3 on the same file",
            "sizes": results,
            **summary,
        },
    )
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
