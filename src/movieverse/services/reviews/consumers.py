"""What reviews consumes, as a table: deleted users (their data erased) and deleted movies
(the catalog's answer for them forgotten at once)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from movieverse.platform.catalog import Catalog
from movieverse.platform.erasure import ErasureLedger
from movieverse.platform.events.consumers import Consumer
from movieverse.platform.events.envelope import Event
from movieverse.services.reviews.events import (
    MOVIES_MOVIE_DELETED,
    USERS_USER_DELETED,
    MovieDeleted,
    UserDeleted,
)


@dataclass(frozen=True)
class ReviewsHandlers:
    erasures: ErasureLedger
    catalog: Catalog

    async def user_deleted(self, session: AsyncSession, event: Event) -> None:
        # Erased on the event, and once more after the grace period (the ledger's sweep).
        await self.erasures.erase(session, UserDeleted.model_validate(event.payload).user_id)

    async def movie_deleted(self, session: AsyncSession, event: Event) -> None:
        # Lists of a deleted movie answer 404 at once, not after the catalog answer expires.
        self.catalog.forget(MovieDeleted.model_validate(event.payload).movie_id)


def consumers(handlers: ReviewsHandlers) -> list[Consumer]:
    return [
        Consumer(
            "erase-deleted-users",
            frozenset({USERS_USER_DELETED}),
            handle_one=handlers.user_deleted,
        ),
        Consumer(
            "deleted-movies", frozenset({MOVIES_MOVIE_DELETED}), handle_one=handlers.movie_deleted
        ),
    ]
