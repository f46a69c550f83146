"""The ai service's bulk import: a dataset's ratings as the interactions its models learn from.

``movieverse import movielens`` gives a dataset's ratings to reviews (the ratings people see) and,
through here, to ai. An import publishes no event per rating -- millions would flood the bus --
so each service takes the batch through its own entrypoint, in a transaction of its own. Both
writes are upserts by (user, movie): an import cut short between the two is completed by running
it again, which is what the importer tells its user to do.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from movieverse.services.ai.repository import AiRepository, InteractionRow

# The 0.5-10 scale of MovieVerse's ratings, in half points.
LOWEST, HIGHEST = 0.5, 10.0


@dataclass(frozen=True)
class ImportedInteraction:
    user_id: UUID
    movie_id: int
    rating: float
    rated_at: datetime


async def import_interactions(session: AsyncSession, items: Sequence[ImportedInteraction]) -> int:
    """Store the batch (the caller's unit of work commits it); returns how many it held."""
    for item in items:
        if not LOWEST <= item.rating <= HIGHEST or item.rating * 2 != int(item.rating * 2):
            raise ValueError(f"rating {item.rating} of movie {item.movie_id} is off the scale")
    await AiRepository(session).put_interactions(
        [InteractionRow(i.user_id, i.movie_id, i.rating, i.rated_at) for i in items]
    )
    return len(items)
