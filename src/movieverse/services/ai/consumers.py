"""What the ai service consumes, as a table: ratings (interactions), movies (the catalog its
models read), deleted users (forgotten), written reviews (scored for sentiment)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from movieverse.contracts.envelope import Event
from movieverse.contracts.movies import MOVIE_EVENTS, changed_fields
from movieverse.contracts.reviews import RatingChanged, ReviewWritten
from movieverse.contracts.users import UserDeleted
from movieverse.platform.events.consumers import Consumer, by_key
from movieverse.platform.events.outbox import Outbox
from movieverse.services.ai import service
from movieverse.services.ai.runtime import CatalogView

# What a movie update must touch for the ai service to care (a new vote alone does not).
MOVIE_FIELDS = frozenset(
    {"title", "genres", "genre_ids", "keywords", "overview", "popularity", "adult"}
)


def concerns_models(event: Event) -> bool:
    """False for a movie update that changed nothing the models read (a vote moved its count):
    passed over before any transaction, and before a batch keeps only each movie's latest
    event -- so a title change followed by a vote in the same batch is still applied."""
    changed = changed_fields(event)
    return changed is None or not MOVIE_FIELDS.isdisjoint(changed)


@dataclass(frozen=True)
class AiHandlers:
    catalog: CatalogView
    outbox: Outbox

    async def ratings(self, session: AsyncSession, events: Sequence[Event]) -> None:
        await service.apply_rating_events(session, events=events)

    async def movies(self, session: AsyncSession, events: Sequence[Event]) -> None:
        await service.apply_movie_events(session, events=events, catalog=self.catalog)

    async def users(self, session: AsyncSession, events: Sequence[Event]) -> None:
        await service.forget_users(session, events=events)

    async def reviews(self, session: AsyncSession, events: Sequence[Event]) -> None:
        await service.score_review_events(session, events=events, outbox=self.outbox)


def consumers(handlers: AiHandlers) -> list[Consumer]:
    return [
        Consumer("ratings", frozenset({RatingChanged.event_type}), handle_many=handlers.ratings),
        Consumer(
            "movies",
            MOVIE_EVENTS,
            handle_many=handlers.movies,
            latest_wins=by_key,
            accepts=concerns_models,
        ),
        Consumer("users", frozenset({UserDeleted.event_type}), handle_many=handlers.users),
        Consumer("reviews", frozenset({ReviewWritten.event_type}), handle_many=handlers.reviews),
    ]
