"""Bulk import of catalog sources into movies: TMDB 5000 CSV rows and MovieLens movies.

Matching is by external ids, never by title: a TMDB row matches the movie with its tmdb_id; a
MovieLens movie matches by its movielens id, then by the TMDB id its links give, then by IMDb id
-- but only a movie not already linked to another MovieLens entry (MovieLens lists a few TMDB
movies twice; the second entry becomes a movie of its own without that TMDB id and is reported).
A movie described by both sources is one row carrying both: TMDB's fields win where both speak;
genres and keywords are the union of both sources'.

Keywords. TMDB keywords keep TMDB's ids. A MovieLens tag becomes the keyword of the same name
when there is one, else a keyword of its own with an id from ``LOCAL_KEYWORD_IDS`` (above any
TMDB id). When TMDB later brings a keyword of that name, the local one is merged into it.

Every batch is one unit of work. Importing the same data again changes nothing (rows are
compared before writing, and unchanged movies emit no event), so an interrupted import is
resumed by running it again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from movieverse.contracts.envelope import Event, new_event
from movieverse.contracts.movies import MovieCreated, MovieUpdated
from movieverse.platform.db import utcnow
from movieverse.platform.events.outbox import Outbox
from movieverse.services.movies.import_entries import ImportEntry, keyword_name
from movieverse.services.movies.models import (
    SERVICE,
    Movie,
)
from movieverse.services.movies.repository import ImportRepository
from movieverse.services.movies.scores import pooled
from movieverse.services.movies.snapshot import movie_snapshot

# Columns a source may set, and which source wins when both do.
TMDB_FIELDS = (
    "title", "title_sort", "original_title", "original_language", "overview", "tagline",
    "release_date", "release_year", "runtime", "status", "budget", "revenue", "homepage",
    "popularity", "source_vote_average", "source_vote_count", "production_companies",
    "production_countries", "spoken_languages",
)  # fmt: skip
# Ids of keywords MovieVerse made (from tags); TMDB's keyword ids are far below.
LOCAL_KEYWORD_IDS = range(1_000_000_000, 2**31)
# What an import reads of the movies it matches.
MATCH_COLUMNS = (
    Movie.id, Movie.tmdb_id, Movie.imdb_id, Movie.movielens_id, Movie.ml100k_id, Movie.sources,
    Movie.adult, Movie.vote_average, Movie.vote_count, Movie.ratings_average, Movie.ratings_count,
    Movie.alternative_titles, *(getattr(Movie, name) for name in TMDB_FIELDS),
)  # fmt: skip
ALTERNATIVES = "alternative_titles"


@dataclass
class ImportSummary:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    conflicts: list[str] = field(default_factory=list)
    # Vocabulary changes, for the metadata service's keyword documents.
    keywords_created: dict[int, str] = field(default_factory=dict)
    keywords_merged: dict[int, int] = field(default_factory=dict)  # local id -> TMDB id
    # Every keyword the imported movies carry, so metadata can be brought in line even when an
    # earlier, interrupted run created them.
    keywords_seen: dict[int, str] = field(default_factory=dict)

    def add(self, other: ImportSummary) -> None:
        self.created += other.created
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.conflicts.extend(other.conflicts)
        self.keywords_created.update(other.keywords_created)
        self.keywords_seen.update(other.keywords_seen)
        for local, merged_into in other.keywords_merged.items():
            self.keywords_created.pop(local, None)
            self.keywords_seen.pop(local, None)
            self.keywords_merged[local] = merged_into


@dataclass
class _Snapshot:
    """What the database holds of the batch's movies, indexed by every external id."""

    tmdb: dict[int, dict[str, Any]] = field(default_factory=dict)
    imdb: dict[str, dict[str, Any]] = field(default_factory=dict)
    lens: dict[int, dict[str, Any]] = field(default_factory=dict)
    ml100k: dict[int, dict[str, Any]] = field(default_factory=dict)
    genres: dict[int, set[int]] = field(default_factory=dict)
    keywords: dict[int, set[int]] = field(default_factory=dict)

    def index(self, row: dict[str, Any]) -> None:
        if row.get("tmdb_id") is not None:
            self.tmdb[row["tmdb_id"]] = row
        if row.get("imdb_id") is not None:
            self.imdb[row["imdb_id"]] = row
        if row.get("movielens_id") is not None:
            self.lens[row["movielens_id"]] = row
        if row.get("ml100k_id") is not None:
            self.ml100k[row["ml100k_id"]] = row

    def owner(self, key: str, value: Any) -> dict[str, Any] | None:
        if value is None:
            return None
        if key == "tmdb_id":
            return self.tmdb.get(value)
        if key == "imdb_id":
            return self.imdb.get(value)
        if key == "ml100k_id":
            return self.ml100k.get(value)
        return self.lens.get(value)


@dataclass
class _Change:
    row: dict[str, Any]
    entry: ImportEntry
    updates: dict[str, Any]


class CatalogImporter:
    """Applies batches of entries to the movies tables, writing events for what changed.

    One importer serves one import run: it loads the keyword vocabulary once and keeps it
    current as batches add to it.
    """

    def __init__(self, *, outbox: Outbox) -> None:
        self.outbox = outbox
        self._keyword_names: dict[int, str] | None = None
        self._keyword_ids: dict[str, int] = {}
        self._genre_names: dict[int, str] | None = None
        self._last_local_id: int | None = None

    async def apply(self, session: AsyncSession, entries: Sequence[ImportEntry]) -> ImportSummary:
        summary = ImportSummary()
        await self._load_vocabulary(session)
        await self._ensure_genres(session, entries)
        await self._ensure_keywords(session, entries, summary)
        names = self._keyword_names
        assert names is not None
        for entry in entries:
            summary.keywords_seen.update((k, names[k]) for k in entry.keywords)
        snapshot = await self._snapshot(session, entries)
        created: list[tuple[dict[str, Any], ImportEntry]] = []
        changed: list[_Change] = []
        for entry in entries:
            row = self._match(entry, snapshot, summary)
            if row is None:
                new_row = self._new_row(entry)
                # Indexed at once: a later entry of this batch naming the same ids must see it.
                snapshot.index(new_row)
                created.append((new_row, entry))
                continue
            updates = self._updates(row, entry, snapshot)
            new_genres = not set(entry.genres) <= snapshot.genres.get(row["id"], set())
            new_keywords = not set(entry.keywords) <= snapshot.keywords.get(row["id"], set())
            if updates or new_genres or new_keywords:
                changed.append(_Change(row, entry, updates))
                row.update(updates)
            else:
                summary.unchanged += 1
        await self._insert(session, [row for row, _ in created])
        summary.created = len(created)
        summary.updated = len(changed)
        await self._write_updates(session, changed)
        pairs = created + [(c.row, c.entry) for c in changed]
        await self._write_relations(session, pairs, snapshot)
        await self._emit(session, created, changed, snapshot)
        return summary

    # Vocabulary ------------------------------------------------------------------------------

    async def _load_vocabulary(self, session: AsyncSession) -> None:
        if self._keyword_names is None:
            self._keyword_names = await ImportRepository(session).keyword_names()
            # The lowest id wins a shared name: TMDB's keywords come before tag-made ones.
            for keyword_id, name in sorted(self._keyword_names.items()):
                self._keyword_ids.setdefault(keyword_name(name), keyword_id)
        if self._genre_names is None:
            self._genre_names = await genre_names(session)

    async def _ensure_genres(self, session: AsyncSession, entries: Sequence[ImportEntry]) -> None:
        assert self._genre_names is not None
        missing = {i: n for e in entries for i, n in e.genres.items() if i not in self._genre_names}
        if missing:  # sources may carry genres beyond the seeded vocabulary (TMDB "Foreign")
            await ImportRepository(session).add_genres(missing)
            self._genre_names.update(missing)

    async def _ensure_keywords(
        self, session: AsyncSession, entries: Sequence[ImportEntry], summary: ImportSummary
    ) -> None:
        """Insert the keywords the batch names that the vocabulary lacks, and give every entry's
        tags their keyword ids (``entry.keywords``)."""
        names = self._keyword_names
        assert names is not None
        new: dict[int, str] = {}
        merges: dict[int, int] = {}  # local id -> the TMDB keyword of the same name
        for entry in entries:
            for keyword_id, name in entry.keywords.items():
                if keyword_id in names or keyword_id in new:
                    continue
                new[keyword_id] = name
                key = keyword_name(name)
                current = self._keyword_ids.get(key)
                if current is None or (
                    current in LOCAL_KEYWORD_IDS and keyword_id not in LOCAL_KEYWORD_IDS
                ):
                    self._keyword_ids[key] = keyword_id
                    if current is not None:
                        merges[current] = keyword_id
        for entry in entries:
            for name in entry.tag_names:
                found = self._keyword_ids.get(name)
                if found is None:
                    found = self._next_local_id()
                    new[found] = name
                    self._keyword_ids[name] = found
                entry.keywords[found] = name
        if new:
            await ImportRepository(session).add_keywords(new)
            names.update(new)
            summary.keywords_created.update(new)
        for local, tmdb_id in merges.items():
            # Re-point the tag-made keyword's movies to the TMDB keyword of the same name.
            await ImportRepository(session).merge_keyword(local=local, into=tmdb_id)
            del names[local]
            summary.keywords_merged[local] = tmdb_id

    def _next_local_id(self) -> int:
        assert self._keyword_names is not None
        if self._last_local_id is None:
            taken = [i for i in self._keyword_names if i in LOCAL_KEYWORD_IDS]
            self._last_local_id = max(taken, default=LOCAL_KEYWORD_IDS.start - 1)
        self._last_local_id += 1
        return self._last_local_id

    # Matching --------------------------------------------------------------------------------

    async def _snapshot(self, session: AsyncSession, entries: Sequence[ImportEntry]) -> _Snapshot:
        tmdb = {e.tmdb_id for e in entries if e.tmdb_id is not None}
        imdb = {e.imdb_id for e in entries if e.imdb_id is not None}
        lens = {e.movielens_id for e in entries if e.movielens_id is not None}
        ml100k = {e.ml100k_id for e in entries if e.ml100k_id is not None}
        snapshot = _Snapshot()
        repo = ImportRepository(session)
        by: dict[str, set[Any]] = {
            "tmdb_id": tmdb, "imdb_id": imdb, "movielens_id": lens, "ml100k_id": ml100k,
        }  # fmt: skip
        rows = await repo.matching(MATCH_COLUMNS, by)
        for row in rows:
            snapshot.index(row)
        ids = {row["id"] for row in rows}
        if ids:
            genre_links, keyword_links = await repo.links(ids)
            for movie_id, genre_id in genre_links:
                snapshot.genres.setdefault(movie_id, set()).add(genre_id)
            for movie_id, keyword_id in keyword_links:
                snapshot.keywords.setdefault(movie_id, set()).add(keyword_id)
        return snapshot

    @staticmethod
    def _match(
        entry: ImportEntry, snapshot: _Snapshot, summary: ImportSummary
    ) -> dict[str, Any] | None:
        if entry.source == "tmdb":
            return snapshot.owner("tmdb_id", entry.tmdb_id)
        found = snapshot.owner("movielens_id", entry.movielens_id) or snapshot.owner(
            "ml100k_id", entry.ml100k_id
        )
        if found is not None:
            return found
        for key in ("tmdb_id", "imdb_id"):
            value = getattr(entry, key)
            candidate = snapshot.owner(key, value)
            if candidate is None:
                continue
            if candidate.get("movielens_id") not in (None, entry.movielens_id):
                summary.conflicts.append(
                    f"MovieLens {entry.movielens_id} names {key.removesuffix('_id')} id {value}, "
                    f"already the movie of MovieLens {candidate['movielens_id']}; "
                    "imported on its own"
                )
                setattr(entry, key, None)
                continue
            return candidate
        return None

    @staticmethod
    def _new_row(entry: ImportEntry) -> dict[str, Any]:
        now = utcnow()
        row: dict[str, Any] = {
            "tmdb_id": entry.tmdb_id,
            "imdb_id": entry.imdb_id,
            "movielens_id": entry.movielens_id,
            "ml100k_id": entry.ml100k_id,
            "adult": False,
            "popularity": 0.0,
            "source_vote_average": 0.0,
            "source_vote_count": 0,
            "ratings_average": 0.0,
            "ratings_count": 0,
            "spoken_languages": [],
            "production_countries": [],
            "production_companies": [],
            "sources": [entry.source],
            "created_at": now,
            "updated_at": now,
        }
        row.update(entry.values)
        row["vote_average"], row["vote_count"] = _pooled(row)
        return row

    @staticmethod
    def _updates(row: dict[str, Any], entry: ImportEntry, snapshot: _Snapshot) -> dict[str, Any]:
        has_tmdb = "tmdb" in (row.get("sources") or [])
        wanted: dict[str, Any] = {}
        if entry.source == "tmdb" or not has_tmdb:
            wanted.update(entry.values)
        for key in ("tmdb_id", "imdb_id", "movielens_id", "ml100k_id"):
            value = getattr(entry, key)
            owner = snapshot.owner(key, value)
            # An id another movie already carries stays with it (the conflict was reported
            # when this movie was first imported on its own).
            if value is not None and row.get(key) != value and owner in (None, row):
                wanted[key] = value
        sources = sorted({*(row.get("sources") or []), entry.source})
        if sources != sorted(row.get("sources") or []):
            wanted["sources"] = sources
        if "source_vote_average" in wanted or "source_vote_count" in wanted:
            wanted["vote_average"], wanted["vote_count"] = _pooled({**row, **wanted})
        wanted[ALTERNATIVES] = _alternatives(row, entry, title=wanted.get("title", row["title"]))
        return {k: v for k, v in wanted.items() if row.get(k) != v}

    # Writing ---------------------------------------------------------------------------------

    async def _insert(self, session: AsyncSession, rows: list[dict[str, Any]]) -> None:
        """Insert new movies; each row learns its id (see ImportRepository.insert_movies)."""
        if rows:
            await ImportRepository(session).insert_movies(rows)

    async def _write_updates(self, session: AsyncSession, changed: list[_Change]) -> None:
        # One executemany per set of changed columns instead of one statement per movie.
        now = utcnow()
        groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for change in changed:
            values = {**change.updates, "updated_at": now}
            change.row["updated_at"] = now
            groups.setdefault(tuple(sorted(values)), []).append({"_id": change.row["id"], **values})
        await ImportRepository(session).update_movies(groups)

    async def _write_relations(
        self,
        session: AsyncSession,
        pairs: list[tuple[dict[str, Any], ImportEntry]],
        snapshot: _Snapshot,
    ) -> None:
        """Add the genres and keywords each movie lacks (sources only ever add to them)."""
        genre_rows: list[dict[str, int]] = []
        keyword_rows: list[dict[str, int]] = []
        for row, entry in pairs:
            movie_id = row["id"]
            genres = snapshot.genres.setdefault(movie_id, set())
            genre_rows.extend(
                {"movie_id": movie_id, "genre_id": g} for g in sorted(set(entry.genres) - genres)
            )
            genres.update(entry.genres)
            keywords = snapshot.keywords.setdefault(movie_id, set())
            keyword_rows.extend(
                {"movie_id": movie_id, "keyword_id": k}
                for k in sorted(set(entry.keywords) - keywords)
            )
            keywords.update(entry.keywords)
        await ImportRepository(session).add_links(genre_rows, keyword_rows)

    async def _emit(
        self,
        session: AsyncSession,
        created: list[tuple[dict[str, Any], ImportEntry]],
        changed: list[_Change],
        snapshot: _Snapshot,
    ) -> None:
        genre_names, keyword_names = self._genre_names, self._keyword_names
        assert genre_names is not None
        assert keyword_names is not None
        events: list[Event] = []
        for kind, rows in (
            (MovieCreated, [row for row, _ in created]),
            (MovieUpdated, [c.row for c in changed]),
        ):
            for row in rows:
                keywords = snapshot.keywords.get(row["id"], set())
                genre_ids = snapshot.genres.get(row["id"], set())
                payload = movie_snapshot(
                    kind,
                    movie_id=row["id"],
                    columns=row,
                    genres=[(g, genre_names[g]) for g in genre_ids],
                    keywords=[keyword_names[k] for k in keywords if k in keyword_names],
                )
                events.append(new_event(payload, producer=SERVICE, key=str(row["id"])))
        await self.outbox.add(session, *events)


def _alternatives(row: dict[str, Any], entry: ImportEntry, *, title: str) -> list[str] | None:
    """Every other title the sources gave the movie: what it had, this entry's own alternates
    and title, and the title being replaced -- so a MovieLens title that TMDB's overrides
    ("Star Wars: Episode V - The Empire Strikes Back") stays findable."""
    names = set(row.get(ALTERNATIVES) or ())
    names.update(entry.values.get(ALTERNATIVES) or ())
    names.update(t for t in (entry.values.get("title"), row.get("title")) if t)
    names.discard(title)
    return sorted(names) or None


def _pooled(row: dict[str, Any]) -> tuple[float, int]:
    return pooled(
        row.get("source_vote_average") or 0.0,
        row.get("source_vote_count") or 0,
        row.get("ratings_average") or 0.0,
        row.get("ratings_count") or 0,
    )


async def genre_names(session: AsyncSession) -> dict[int, str]:
    return await ImportRepository(session).genre_names()
