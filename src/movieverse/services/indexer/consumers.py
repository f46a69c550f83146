"""What the indexer consumes, as a table: event types -> the function that applies them, with
the index, the vector backfill and the uncommitted-writes tracker injected (IndexWrites)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from movieverse.contracts.envelope import Event
from movieverse.contracts.metadata import PersonChanged, PersonDeleted
from movieverse.contracts.movies import MOVIE_EVENTS
from movieverse.contracts.reviews import ReviewRemoved, ReviewRestored, ReviewWritten
from movieverse.platform.events.consumers import Consumer, by_key
from movieverse.platform.search.port import SearchIndex
from movieverse.services.indexer import service
from movieverse.services.indexer.uncommitted import UncommittedIndexWrites


@dataclass(frozen=True)
class IndexWrites:
    index: SearchIndex
    vectors: service.Vectors
    # The consumers' index writes not committed yet: a reindex waits for them before it reads.
    uncommitted: UncommittedIndexWrites

    async def movies(self, session: AsyncSession, events: Sequence[Event]) -> None:
        await service.apply_movie_events(
            session,
            index=self.index,
            events=events,
            vectors=self.vectors,
            uncommitted=self.uncommitted,
        )

    async def people(self, session: AsyncSession, events: Sequence[Event]) -> None:
        await service.apply_person_events(
            session, index=self.index, events=events, uncommitted=self.uncommitted
        )

    async def reviews(self, session: AsyncSession, events: Sequence[Event]) -> None:
        await service.apply_review_events(
            session, index=self.index, events=events, uncommitted=self.uncommitted
        )


PERSON_EVENTS = frozenset({PersonChanged.event_type, PersonDeleted.event_type})
REVIEW_EVENTS = frozenset(
    {ReviewWritten.event_type, ReviewRemoved.event_type, ReviewRestored.event_type}
)


def consumers(writes: IndexWrites) -> list[Consumer]:
    # Movie and person events carry the whole document, keyed by its id: in a batch only the
    # last of each counts. Review events are keyed by movie, and a hide must follow its write.
    return [
        Consumer("movies", MOVIE_EVENTS, handle_many=writes.movies, latest_wins=by_key),
        Consumer("people", PERSON_EVENTS, handle_many=writes.people, latest_wins=by_key),
        Consumer("reviews", REVIEW_EVENTS, handle_many=writes.reviews),
    ]
