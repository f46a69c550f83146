"""What reviews consumes, as a table: deleted users (their data erased) and deleted movies
(the catalog's answer for them forgotten at once)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from movieverse.contracts.envelope import Event
from movieverse.contracts.movies import MovieDeleted
from movieverse.contracts.users import UserDeleted
from movieverse.platform.catalog import Catalog
from movieverse.platform.erasure import ErasureLedger
from movieverse.platform.events.consumers import Consumer


@dataclass(frozen=True)
class ReviewsHandlers:
    erasures: ErasureLedger
    catalog: Catalog

    async def user_deleted(self, session: AsyncSession, event: Event) -> None:
        # Erased on the event, and once more after the grace period (the ledger's sweep).
        await self.erasures.erase(session, UserDeleted.from_event(event).user_id)

    async def movie_deleted(self, session: AsyncSession, event: Event) -> None:
        # Lists of a deleted movie answer 404 at once, not after the catalog answer expires.
        self.catalog.forget(MovieDeleted.from_event(event).movie_id)


def consumers(handlers: ReviewsHandlers) -> list[Consumer]:
    return [
        Consumer(
            "erase-deleted-users",
            frozenset({UserDeleted.event_type}),
            handle_one=handlers.user_deleted,
        ),
        Consumer(
            "deleted-movies",
            frozenset({MovieDeleted.event_type}),
            handle_one=handlers.movie_deleted,
        ),
    ]
