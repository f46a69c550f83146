"""What movies consumes, as a table: rating totals (the movie's score), review and list
activity (trending), credits (discover's people filters) and keyword names."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from movieverse.contracts.envelope import Event
from movieverse.contracts.metadata import CreditsChanged, KeywordChanged
from movieverse.contracts.reviews import MovieRatingsChanged, RatingChanged, ReviewWritten
from movieverse.contracts.users import UserListChanged
from movieverse.platform.events.consumers import Consumer
from movieverse.platform.events.outbox import Outbox
from movieverse.services.movies import service
from movieverse.services.movies.cache import ListPageCache, MovieCache


def review_interest(event: Event) -> service.ReviewInterest | None:
    if event.type == RatingChanged.event_type:
        rating = RatingChanged.from_event(event)
        movie_id, kind = rating.movie_id, "rating" if rating.value is not None else None
    else:
        review = ReviewWritten.from_event(event)
        movie_id, kind = review.movie_id, "review" if review.created else None
    if kind is None:
        return None  # a removed rating or an edited review is no new interest
    return service.ReviewInterest(movie_id, kind, event.occurred_at)


def _movie_of(event: Event) -> object:
    return event.payload.get("movie_id")


@dataclass(frozen=True)
class MoviesHandlers:
    outbox: Outbox
    movies: MovieCache
    lists: ListPageCache

    async def list_changed(self, session: AsyncSession, event: Event) -> None:
        change = UserListChanged.from_event(event)
        await service.record_list_activity(
            session,
            movie_id=change.movie_id,
            list_name=change.list,
            action=change.action,
            occurred_at=event.occurred_at,
        )
        self.lists.renew_after_commit(session, trending_only=True)

    async def credits_changed(self, session: AsyncSession, event: Event) -> None:
        change = CreditsChanged.from_event(event)
        await service.index_people(
            session,
            movie_id=change.movie_id,
            people={(p.person_id, p.role) for p in change.people},
        )
        self.lists.renew_after_commit(session)  # discover's cast, crew and people filters

    async def keyword_changed(self, session: AsyncSession, event: Event) -> None:
        change = KeywordChanged.from_event(event)
        await service.name_keyword(session, keyword_id=change.keyword_id, name=change.name)

    async def review_activity(self, session: AsyncSession, events: Sequence[Event]) -> None:
        interest = [i for i in map(review_interest, events) if i is not None]
        await service.record_review_activity(session, interest)
        if interest:
            self.lists.renew_after_commit(session, trending_only=True)

    async def movie_ratings(self, session: AsyncSession, events: Sequence[Event]) -> None:
        totals = [MovieRatingsChanged.from_event(e) for e in events]
        await service.apply_ratings(
            session,
            outbox=self.outbox,
            cache=self.movies,
            totals=[
                service.RatingTotals(t.movie_id, t.count, t.average, t.version) for t in totals
            ],
        )


def consumers(handlers: MoviesHandlers) -> list[Consumer]:
    return [
        Consumer(
            "people-index",
            frozenset({CreditsChanged.event_type}),
            handle_one=handlers.credits_changed,
        ),
        # Each event carries the movie's whole totals: in a batch, the newest per movie wins.
        Consumer(
            "ratings",
            frozenset({MovieRatingsChanged.event_type}),
            handle_many=handlers.movie_ratings,
            latest_wins=_movie_of,
        ),
        Consumer(
            "trending-reviews",
            frozenset({RatingChanged.event_type, ReviewWritten.event_type}),
            handle_many=handlers.review_activity,
        ),
        Consumer(
            "keyword-vocabulary",
            frozenset({KeywordChanged.event_type}),
            handle_one=handlers.keyword_changed,
        ),
        Consumer(
            "trending-activity",
            frozenset({UserListChanged.event_type}),
            handle_one=handlers.list_changed,
        ),
    ]
