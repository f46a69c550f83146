"""Bulk import of MovieLens ratings, as ratings by imported users.

An imported user is no account: their id is a UUID derived from the dataset and MovieLens's user
id (``imported_user_id``), so importing the same dataset again finds the same users. MovieLens
rates 0.5-5 in half stars; MovieVerse rates 0.5-10, so a MovieLens 4.5 is a 9. The rating's time
is MovieLens's.

Rows go in with one statement per batch that leaves an equal rating alone and corrects a
different one, so a second import changes nothing and an interrupted one is finished by running
it again. Individual rating events are not sent -- millions of them would be a flood, and what a
consumer wants of an import is the result: once the batches are in, each movie whose totals moved
gets its ``reviews.movie_ratings.changed``.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from movieverse.contracts.envelope import new_event
from movieverse.platform.events.outbox import Outbox
from movieverse.services.reviews.models import SERVICE, MovieRatings
from movieverse.services.reviews.repository import RatingsImportRepository
from movieverse.services.reviews.service import totals_changed

# The namespace of imported users' ids (a fixed, random UUID: the ids must never change).
IMPORTED_USERS = uuid.UUID("6f0d7c55-3b0a-4f7e-9a52-2f6b8c1d9e41")


def imported_user_id(dataset: str, movielens_user: int) -> uuid.UUID:
    return uuid.uuid5(IMPORTED_USERS, f"{dataset}:{movielens_user}")


@dataclass(frozen=True)
class ImportedRating:
    user_id: uuid.UUID
    movie_id: int
    half_points: int
    rated_at: datetime


@dataclass
class RatingsImportSummary:
    read: int = 0
    movies_updated: int = 0


class RatingsImporter:
    def __init__(self, *, outbox: Outbox, dataset: str) -> None:
        self.outbox = outbox
        self.dataset = dataset
        self.movies: set[int] = set()

    async def apply(self, session: AsyncSession, batch: Sequence[ImportedRating]) -> int:
        if not batch:
            return 0
        rows = [
            {
                "user_id": r.user_id,
                "movie_id": r.movie_id,
                "half_points": r.half_points,
                "source": self.dataset,
                "created_at": r.rated_at,
                "updated_at": r.rated_at,
            }
            for r in batch
        ]
        await RatingsImportRepository(session).upsert(rows)
        self.movies.update(r.movie_id for r in batch)
        return len(batch)

    async def refresh_totals(self, session: AsyncSession, movie_ids: Iterable[int]) -> int:
        """Recount the movies' totals from their ratings; announce those that moved."""
        ids = sorted(set(movie_ids))
        repo = RatingsImportRepository(session)
        counted = await repo.counted(ids)
        stored = await repo.totals(ids)
        events = []
        for movie_id in ids:
            count, points = counted.get(movie_id, (0, 0))
            totals = stored.get(movie_id)
            if totals is None:
                totals = MovieRatings(movie_id=movie_id, count=0, half_points_sum=0, version=0)
                session.add(totals)
            if (totals.count, totals.half_points_sum) == (count, points):
                continue
            totals.count, totals.half_points_sum = count, points
            totals.version += 1
            events.append(new_event(totals_changed(totals), producer=SERVICE, key=str(movie_id)))
        await session.flush()
        await self.outbox.add(session, *events)
        return len(events)
