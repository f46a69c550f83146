"""What an ai process holds in memory: the current model, swapped atomically when a newer one is
current on disk, and a view of the catalog for genre filters, popularity and titles."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

import structlog

from movieverse.ml.artifacts import ArtifactError, ModelStore
from movieverse.ml.serving import ServingModel
from movieverse.platform.db import Database
from movieverse.services.ai.repository import AiRepository

log = structlog.get_logger("movieverse.ml")


class ModelHolder:
    """Requests read ``current`` once and use that object to the end: a swap replaces the
    reference, so no request ever sees half of two models, and none fails during a swap."""

    def __init__(self, store: ModelStore) -> None:
        self.store = store
        self.current: ServingModel | None = None
        self.problem: str | None = None
        self._lock = asyncio.Lock()

    async def refresh(self) -> bool:
        """Load the current version if it is not the one held. True when it swapped. A missing
        or corrupt artifact keeps what is held (or nothing) and is reported, never raised."""
        async with self._lock:
            try:
                version = self.store.current_version()
                if version is None:
                    self.problem = None if self.current else "no model trained yet"
                    return False
                if self.current is not None and self.current.version == version:
                    return False
                artifact = await asyncio.to_thread(self.store.load, version)
            except ArtifactError as exc:
                self.problem = (
                    f"{exc}; serving {'the previous model' if self.current else 'popular movies'}"
                )
                log.warning("ai.model.unloadable", error=str(exc))
                return False
            self.current = ServingModel(artifact)
            self.problem = None
            log.info("ai.model.loaded", version=version, kind=artifact.meta.kind)
            return True

    def warning(self) -> str | None:
        return self.problem

    async def watch(self, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            await self.refresh()


@dataclass(slots=True)
class MovieFacts:
    title: str
    # Genre ids and their names, in the same order.
    genre_ids: tuple[int, ...]
    genres: tuple[str, ...]
    adult: bool


@dataclass(slots=True)
class CatalogView:
    """Every movie's title, genres and adult flag, and the catalog by popularity. Rebuilt from
    the ai tables when a movie event changed them here, and at most ``ttl`` seconds stale when
    another process applied them."""

    db: Database
    ttl: float = 30.0
    movies: dict[int, MovieFacts] = field(default_factory=dict)
    # Movie ids, most popular first: platform ratings, then catalog votes, then TMDB popularity.
    by_popularity: list[int] = field(default_factory=list)
    genre_names: dict[int, str] = field(default_factory=dict)
    # Made once per rebuild, not per request (a request's candidate set is one of these).
    everything: frozenset[int] = frozenset()
    not_adult: frozenset[int] = frozenset()
    genre_members: dict[int, frozenset[int]] = field(default_factory=dict)
    _loaded_at: float = -1.0
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def invalidate(self) -> None:
        self._loaded_at = -1.0

    async def fresh(self) -> CatalogView:
        if time.monotonic() - self._loaded_at < self.ttl:
            return self
        async with self._lock:
            if time.monotonic() - self._loaded_at < self.ttl:
                return self
            async with self.db.unit_of_work(write=False) as session:
                repo = AiRepository(session)
                rows = await repo.movies()
                counts = await repo.rating_counts()
            self.movies = {
                m.movie_id: MovieFacts(m.title, tuple(m.genre_ids), tuple(m.genres), m.adult)
                for m in rows
            }
            ranked = sorted(
                rows,
                key=lambda m: (
                    -counts.get(m.movie_id, 0),
                    -m.vote_count,
                    -m.popularity,
                    m.movie_id,
                ),
            )
            self.by_popularity = [m.movie_id for m in ranked]
            self.genre_names = {
                genre_id: name
                for facts in self.movies.values()
                for genre_id, name in zip(facts.genre_ids, facts.genres, strict=False)
            }
            self.everything = frozenset(self.movies)
            self.not_adult = frozenset(m for m, facts in self.movies.items() if not facts.adult)
            members: dict[int, set[int]] = {}
            for movie, facts in self.movies.items():
                for genre_id in facts.genre_ids:
                    members.setdefault(genre_id, set()).add(movie)
            self.genre_members = {g: frozenset(ids) for g, ids in members.items()}
            self._loaded_at = time.monotonic()
        return self

    def title(self, movie_id: int) -> str | None:
        facts = self.movies.get(movie_id)
        return facts.title if facts else None

    def in_genres(self, genre_ids: set[int]) -> set[int]:
        found: set[int] = set()
        for genre_id in genre_ids:
            found |= self.genre_members.get(genre_id, frozenset())
        return found

    def genre_name(self, genre_id: int) -> str | None:
        return self.genre_names.get(genre_id)
