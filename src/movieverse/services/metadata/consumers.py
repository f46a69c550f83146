"""What metadata consumes, as a table: deleted movies (their documents forgotten), and review
sentiment scores with the reviews' visibility (one group: in the embedded shape its deliveries
take turns, and the inbox makes each event count once)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from movieverse.contracts.ai import ReviewSentimentScored
from movieverse.contracts.envelope import Event
from movieverse.contracts.movies import MovieDeleted
from movieverse.contracts.reviews import ReviewRemoved, ReviewRestored
from movieverse.platform.docs import DocumentStore
from movieverse.platform.events.consumers import Consumer
from movieverse.platform.events.outbox import Outbox
from movieverse.services.metadata import service


@dataclass(frozen=True)
class MetadataHandlers:
    store: DocumentStore
    outbox: Outbox

    async def movie_deleted(self, session: AsyncSession, event: Event) -> None:
        deleted = MovieDeleted.from_event(event)
        await service.forget_movie(
            session, store=self.store, outbox=self.outbox, movie_id=deleted.movie_id
        )

    async def review_analysis(self, session: AsyncSession, event: Event) -> None:
        store = self.store
        if event.type == ReviewSentimentScored.event_type:
            score = ReviewSentimentScored.from_event(event)
            await service.record_review_sentiment(session, store=store, score=score)
        elif event.type == ReviewRemoved.event_type:
            removed = ReviewRemoved.from_event(event)
            await service.set_review_visibility(
                session, store=store, review_id=removed.review_id,
                movie_id=removed.movie_id, visible=False,
            )  # fmt: skip
        else:
            restored = ReviewRestored.from_event(event)
            await service.set_review_visibility(
                session, store=store, review_id=restored.review_id,
                movie_id=restored.movie_id, visible=True,
            )  # fmt: skip


# One group: in the embedded shape its deliveries take turns (see the module's docstring).
REVIEW_ANALYSIS_EVENTS = frozenset(
    {ReviewSentimentScored.event_type, ReviewRemoved.event_type, ReviewRestored.event_type}
)


def consumers(handlers: MetadataHandlers) -> list[Consumer]:
    return [
        Consumer(
            "deleted-movies",
            frozenset({MovieDeleted.event_type}),
            handle_one=handlers.movie_deleted,
        ),
        Consumer("review-analyses", REVIEW_ANALYSIS_EVENTS, handle_one=handlers.review_analysis),
    ]
