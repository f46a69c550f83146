"""Bulk import of catalog sources into movies: TMDB 5000 CSV rows and MovieLens movies.

Matching is by external ids, never by title: a TMDB row matches the movie with its tmdb_id; a
MovieLens movie matches by its movielens id, then by the TMDB id its links give, then by IMDb id
-- but only a movie not already linked to another MovieLens entry (MovieLens lists a few TMDB
movies twice; the second entry becomes a movie of its own without that TMDB id and is reported).
A movie described by both sources is one row carrying both: TMDB's fields win where both speak,
genres are the union of both sources' genres.

Every batch is one unit of work. Importing the same data again changes nothing (rows are
compared before writing, and unchanged movies emit no event), so an interrupted import is
resumed by running it again.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import bindparam, delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from movieverse.datasets import MovieLensMovie, TmdbMovie
from movieverse.platform.db import utcnow
from movieverse.platform.events.envelope import Event, new_event
from movieverse.platform.events.outbox import Outbox
from movieverse.services.movies.events import MovieCreated, MovieUpdated
from movieverse.services.movies.genres import MOVIELENS_GENRES
from movieverse.services.movies.models import (
    SERVICE,
    Base,
    Genre,
    Keyword,
    Movie,
    MovieGenre,
    MovieKeyword,
)

# Columns a source may set, and which source wins when both do.
TMDB_FIELDS = (
    "title", "title_sort", "original_title", "original_language", "overview", "tagline",
    "release_date", "release_year", "runtime", "status", "budget", "revenue", "homepage",
    "popularity", "vote_average", "vote_count", "production_companies", "production_countries",
    "spoken_languages",
)  # fmt: skip
MOVIELENS_FIELDS = ("title", "title_sort", "release_year")
# Plain tables for bulk statements (typed as Table, unlike a model's __table__).
_TABLES = Base.metadata.tables
SNAPSHOT_COLUMNS = (
    Movie.id, Movie.tmdb_id, Movie.imdb_id, Movie.movielens_id, Movie.sources, Movie.adult,
    *(getattr(Movie, name) for name in TMDB_FIELDS),
)  # fmt: skip


@dataclass
class ImportSummary:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    conflicts: list[str] = field(default_factory=list)

    def add(self, other: ImportSummary) -> None:
        self.created += other.created
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.conflicts.extend(other.conflicts)


@dataclass
class _Entry:
    """One source record, normalised: ids, the columns it provides, its genres and keywords."""

    source: str
    tmdb_id: int | None
    imdb_id: str | None
    movielens_id: int | None
    values: dict[str, Any]
    genres: dict[int, str]
    keywords: dict[int, str] | None  # None: this source says nothing about keywords


def tmdb_entry(movie: TmdbMovie) -> _Entry:
    values: dict[str, Any] = {
        "title": movie.title,
        "title_sort": movie.title.casefold(),
        "original_title": movie.original_title,
        "original_language": movie.original_language or None,
        "overview": movie.overview,
        "tagline": movie.tagline,
        "release_date": movie.release_date,
        "release_year": movie.release_date.year if movie.release_date else None,
        "runtime": movie.runtime,
        "status": movie.status or None,
        "budget": movie.budget,
        "revenue": movie.revenue,
        "homepage": movie.homepage,
        "popularity": movie.popularity,
        "vote_average": movie.vote_average,
        "vote_count": movie.vote_count,
        "production_companies": [{"id": i, "name": n} for i, n in movie.production_companies],
        "production_countries": [
            {"iso_3166_1": c, "name": n} for c, n in movie.production_countries
        ],
        "spoken_languages": [{"iso_639_1": c, "name": n} for c, n in movie.spoken_languages],
    }
    return _Entry(
        source="tmdb",
        tmdb_id=movie.tmdb_id,
        imdb_id=None,
        movielens_id=None,
        values=values,
        genres=dict(movie.genres),
        keywords=dict(movie.keywords),
    )


def movielens_entry(movie: MovieLensMovie, genre_names: dict[int, str]) -> _Entry:
    genres = {
        MOVIELENS_GENRES[name]: genre_names[MOVIELENS_GENRES[name]]
        for name in movie.genres
        if name in MOVIELENS_GENRES
    }
    return _Entry(
        source="movielens",
        tmdb_id=movie.tmdb_id,
        imdb_id=movie.imdb_id,
        movielens_id=movie.movie_id,
        values={
            "title": movie.title,
            "title_sort": movie.title.casefold(),
            "release_year": movie.year,
        },
        genres=genres,
        keywords=None,
    )


async def genre_names(session: AsyncSession) -> dict[int, str]:
    return {g.id: g.name for g in (await session.execute(select(Genre))).scalars()}


class CatalogImporter:
    """Applies batches of entries to the movies tables, writing events for what changed."""

    def __init__(self, *, outbox: Outbox) -> None:
        self.outbox = outbox

    async def apply(self, session: AsyncSession, entries: Sequence[_Entry]) -> ImportSummary:
        summary = ImportSummary()
        existing = await self._existing(session, entries)
        await self._ensure_vocabulary(session, entries)
        created_rows: list[dict[str, Any]] = []
        created_entries: list[_Entry] = []
        changed: list[tuple[dict[str, Any], _Entry, dict[str, Any]]] = []
        for entry in entries:
            row = self._match(entry, existing, summary)
            if row is None:
                new_row = self._new_row(entry)
                # Indexed at once: a later entry of this batch naming the same ids must see it.
                self._index(existing, new_row)
                created_rows.append(new_row)
                created_entries.append(entry)
                continue
            updates = self._updates(row, entry, existing)
            genres_before = existing["genres"].get(row["id"], set())
            genres_changed = not set(entry.genres) <= genres_before
            if updates or genres_changed:
                changed.append((row, entry, updates))
                row.update(updates)
            else:
                summary.unchanged += 1
        created_ids = await self._insert(session, created_rows)
        for new_id, new_row in zip(created_ids, created_rows, strict=True):
            new_row["id"] = new_id
        summary.created = len(created_rows)
        summary.updated = len(changed)
        await self._write_updates(session, changed)
        await self._write_relations(session, created_rows, created_entries, changed, existing)
        await self._emit(session, created_rows, changed, existing)
        return summary

    async def _existing(self, session: AsyncSession, entries: Sequence[_Entry]) -> dict[str, Any]:
        tmdb = {e.tmdb_id for e in entries if e.tmdb_id is not None}
        imdb = {e.imdb_id for e in entries if e.imdb_id is not None}
        lens = {e.movielens_id for e in entries if e.movielens_id is not None}
        conditions = []
        if tmdb:
            conditions.append(Movie.tmdb_id.in_(tmdb))
        if imdb:
            conditions.append(Movie.imdb_id.in_(imdb))
        if lens:
            conditions.append(Movie.movielens_id.in_(lens))
        index: dict[str, Any] = {"tmdb": {}, "imdb": {}, "lens": {}, "genres": {}}
        if not conditions:
            return index
        rows = await session.execute(select(*SNAPSHOT_COLUMNS).where(or_(*conditions)))
        for row in rows.mappings():
            self._index(index, dict(row))
        ids = [r["id"] for r in index["tmdb"].values()] + [r["id"] for r in index["lens"].values()]
        ids += [r["id"] for r in index["imdb"].values()]
        if ids:
            links = await session.execute(
                select(MovieGenre.movie_id, MovieGenre.genre_id).where(
                    MovieGenre.movie_id.in_(set(ids))
                )
            )
            for movie_id, genre_id in links:
                index["genres"].setdefault(movie_id, set()).add(genre_id)
        return index

    @staticmethod
    def _index(index: dict[str, Any], row: dict[str, Any]) -> None:
        if row.get("tmdb_id") is not None:
            index["tmdb"][row["tmdb_id"]] = row
        if row.get("imdb_id") is not None:
            index["imdb"][row["imdb_id"]] = row
        if row.get("movielens_id") is not None:
            index["lens"][row["movielens_id"]] = row

    def _match(
        self, entry: _Entry, index: dict[str, Any], summary: ImportSummary
    ) -> dict[str, Any] | None:
        if entry.source == "tmdb":
            found: dict[str, Any] | None = index["tmdb"].get(entry.tmdb_id)
            return found
        found = index["lens"].get(entry.movielens_id)
        if found is not None:
            return found
        for key, value in (("tmdb", entry.tmdb_id), ("imdb", entry.imdb_id)):
            candidate: dict[str, Any] | None = index[key].get(value) if value is not None else None
            if candidate is None:
                continue
            if candidate.get("movielens_id") not in (None, entry.movielens_id):
                summary.conflicts.append(
                    f"MovieLens {entry.movielens_id} names {key} id {value}, already the movie "
                    f"of MovieLens {candidate['movielens_id']}; imported on its own"
                )
                entry.tmdb_id = None if key == "tmdb" else entry.tmdb_id
                entry.imdb_id = None if key == "imdb" else entry.imdb_id
                continue
            return candidate
        return None

    @staticmethod
    def _new_row(entry: _Entry) -> dict[str, Any]:
        now = utcnow()
        row: dict[str, Any] = {
            "tmdb_id": entry.tmdb_id,
            "imdb_id": entry.imdb_id,
            "movielens_id": entry.movielens_id,
            "adult": False,
            "popularity": 0.0,
            "vote_average": 0.0,
            "vote_count": 0,
            "spoken_languages": [],
            "production_countries": [],
            "production_companies": [],
            "sources": [entry.source],
            "created_at": now,
            "updated_at": now,
        }
        row.update(entry.values)
        return row

    @staticmethod
    def _updates(row: dict[str, Any], entry: _Entry, index: dict[str, Any]) -> dict[str, Any]:
        has_tmdb = "tmdb" in (row.get("sources") or [])
        wanted: dict[str, Any] = {}
        if entry.source == "tmdb" or not has_tmdb:
            wanted.update(entry.values)
        for key, index_name in (("tmdb_id", "tmdb"), ("imdb_id", "imdb"), ("movielens_id", "lens")):
            value = getattr(entry, key)
            owner = index[index_name].get(value) if value is not None else None
            # An id another movie already carries stays with it (the conflict was reported
            # when this movie was first imported on its own).
            if value is not None and row.get(key) != value and owner in (None, row):
                wanted[key] = value
        sources = sorted({*(row.get("sources") or []), entry.source})
        if sources != sorted(row.get("sources") or []):
            wanted["sources"] = sources
        return {k: v for k, v in wanted.items() if row.get(k) != v}

    async def _insert(self, session: AsyncSession, rows: list[dict[str, Any]]) -> list[int]:
        if not rows:
            return []
        table = _TABLES["movies_movies"]
        result = await session.execute(
            table.insert().returning(table.c.id, sort_by_parameter_order=True), rows
        )
        return [int(i) for i in result.scalars()]

    async def _write_updates(
        self, session: AsyncSession, changed: list[tuple[dict[str, Any], _Entry, dict[str, Any]]]
    ) -> None:
        # One executemany per set of changed columns instead of one statement per movie.
        now = utcnow()
        groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for row, _, updates in changed:
            values = {**updates, "updated_at": now}
            groups.setdefault(tuple(sorted(values)), []).append({"_id": row["id"], **values})
        table = _TABLES["movies_movies"]
        for columns, params in groups.items():
            statement = (
                table.update()
                .where(table.c.id == bindparam("_id"))
                .values({c: bindparam(c) for c in columns})
            )
            await session.execute(statement, params)

    async def _ensure_vocabulary(self, session: AsyncSession, entries: Sequence[_Entry]) -> None:
        genres = {i: n for e in entries for i, n in e.genres.items()}
        keywords = {i: n for e in entries for i, n in (e.keywords or {}).items()}
        if genres:
            known = set(
                (await session.execute(select(Genre.id).where(Genre.id.in_(genres)))).scalars()
            )
            missing = [{"id": i, "name": n} for i, n in genres.items() if i not in known]
            if missing:  # sources may carry genres beyond the seeded vocabulary (TMDB "Foreign")
                await session.execute(_TABLES["movies_genres"].insert(), missing)
        if keywords:
            known = set(
                (
                    await session.execute(select(Keyword.id).where(Keyword.id.in_(keywords)))
                ).scalars()
            )
            missing = [{"id": i, "name": n} for i, n in keywords.items() if i not in known]
            if missing:
                await session.execute(_TABLES["movies_keywords"].insert(), missing)

    async def _write_relations(
        self,
        session: AsyncSession,
        created_rows: list[dict[str, Any]],
        created_entries: list[_Entry],
        changed: list[tuple[dict[str, Any], _Entry, dict[str, Any]]],
        index: dict[str, Any],
    ) -> None:
        genre_rows: list[dict[str, int]] = []
        keyword_rows: list[dict[str, int]] = []
        replaced_keywords: list[int] = []
        pairs = list(zip(created_rows, created_entries, strict=True)) + [
            (row, entry) for row, entry, _ in changed
        ]
        for row, entry in pairs:
            before = index["genres"].get(row["id"], set())
            for genre_id in sorted(set(entry.genres) - before):
                genre_rows.append({"movie_id": row["id"], "genre_id": genre_id})
            index["genres"][row["id"]] = before | set(entry.genres)
            if entry.keywords is not None:
                replaced_keywords.append(row["id"])
                keyword_rows.extend(
                    {"movie_id": row["id"], "keyword_id": k} for k in sorted(entry.keywords)
                )
        if replaced_keywords:
            await session.execute(
                delete(MovieKeyword).where(MovieKeyword.movie_id.in_(replaced_keywords))
            )
        # Core inserts: a plain executemany, without the ORM's per-row bookkeeping.
        if genre_rows:
            await session.execute(_TABLES["movies_movie_genres"].insert(), genre_rows)
        if keyword_rows:
            await session.execute(_TABLES["movies_movie_keywords"].insert(), keyword_rows)

    async def _emit(
        self,
        session: AsyncSession,
        created_rows: list[dict[str, Any]],
        changed: list[tuple[dict[str, Any], _Entry, dict[str, Any]]],
        index: dict[str, Any],
    ) -> None:
        names = await genre_names(session)
        events: list[Event] = []
        for kind, rows in (
            (MovieCreated, created_rows),
            (MovieUpdated, [r for r, _, _ in changed]),
        ):
            for row in rows:
                payload = kind(
                    movie_id=row["id"],
                    tmdb_id=row.get("tmdb_id"),
                    imdb_id=row.get("imdb_id"),
                    title=row["title"],
                    original_title=row.get("original_title"),
                    original_language=row.get("original_language"),
                    overview=row.get("overview"),
                    release_date=row.get("release_date"),
                    genres=sorted(names[g] for g in index["genres"].get(row["id"], set())),
                    popularity=row.get("popularity") or 0.0,
                    vote_average=row.get("vote_average") or 0.0,
                    vote_count=row.get("vote_count") or 0,
                    adult=bool(row.get("adult")),
                )
                events.append(new_event(payload, producer=SERVICE, key=str(row["id"])))
        await self.outbox.add(session, *events)


def batched(items: Iterable[_Entry], size: int) -> Iterable[list[_Entry]]:
    batch: list[_Entry] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch
