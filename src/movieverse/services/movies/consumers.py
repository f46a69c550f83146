"""What movies consumes, as a table: rating totals (the movie's score), review and list
activity (trending), credits (discover's people filters) and keyword names."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from movieverse.platform.events.consumers import Consumer
from movieverse.platform.events.envelope import Event
from movieverse.platform.events.outbox import Outbox
from movieverse.services.movies import service
from movieverse.services.movies.cache import ListPageCache, MovieCache
from movieverse.services.movies.events import (
    METADATA_CREDITS_CHANGED,
    METADATA_KEYWORD_CHANGED,
    REVIEWS_MOVIE_RATINGS_CHANGED,
    REVIEWS_RATING_CHANGED,
    REVIEWS_REVIEW_WRITTEN,
    USERS_LIST_CHANGED,
    CreditsChanged,
    KeywordChanged,
    ListChanged,
    MovieRatingsChanged,
    ReviewActivity,
)


def _interest(event: Event) -> service.ReviewInterest | None:
    activity = ReviewActivity.model_validate(event.payload)
    if event.type == REVIEWS_RATING_CHANGED and activity.value is not None:
        kind = "rating"
    elif event.type == REVIEWS_REVIEW_WRITTEN and activity.created:
        kind = "review"
    else:
        return None  # a removed rating or an edited review is no new interest
    return service.ReviewInterest(activity.movie_id, kind, event.occurred_at)


def _movie_of(event: Event) -> object:
    return event.payload.get("movie_id")


@dataclass(frozen=True)
class MoviesHandlers:
    outbox: Outbox
    movies: MovieCache
    lists: ListPageCache

    async def list_changed(self, session: AsyncSession, event: Event) -> None:
        change = ListChanged.model_validate(event.payload)
        await service.record_list_activity(
            session,
            movie_id=change.movie_id,
            list_name=change.list,
            action=change.action,
            occurred_at=event.occurred_at,
        )
        self.lists.renew_after_commit(session, trending_only=True)

    async def credits_changed(self, session: AsyncSession, event: Event) -> None:
        change = CreditsChanged.model_validate(event.payload)
        await service.index_people(
            session,
            movie_id=change.movie_id,
            people={(p.person_id, p.role) for p in change.people if p.role in {"cast", "crew"}},
        )
        self.lists.renew_after_commit(session)  # discover's cast, crew and people filters

    async def keyword_changed(self, session: AsyncSession, event: Event) -> None:
        change = KeywordChanged.model_validate(event.payload)
        await service.name_keyword(session, keyword_id=change.keyword_id, name=change.name)

    async def review_activity(self, session: AsyncSession, events: Sequence[Event]) -> None:
        interest = [i for i in map(_interest, events) if i is not None]
        await service.record_review_activity(session, interest)
        if interest:
            self.lists.renew_after_commit(session, trending_only=True)

    async def movie_ratings(self, session: AsyncSession, events: Sequence[Event]) -> None:
        totals = [MovieRatingsChanged.model_validate(e.payload) for e in events]
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
            frozenset({METADATA_CREDITS_CHANGED}),
            handle_one=handlers.credits_changed,
        ),
        # Each event carries the movie's whole totals: in a batch, the newest per movie wins.
        Consumer(
            "ratings",
            frozenset({REVIEWS_MOVIE_RATINGS_CHANGED}),
            handle_many=handlers.movie_ratings,
            latest_wins=_movie_of,
        ),
        Consumer(
            "trending-reviews",
            frozenset({REVIEWS_RATING_CHANGED, REVIEWS_REVIEW_WRITTEN}),
            handle_many=handlers.review_activity,
        ),
        Consumer(
            "keyword-vocabulary",
            frozenset({METADATA_KEYWORD_CHANGED}),
            handle_one=handlers.keyword_changed,
        ),
        Consumer(
            "trending-activity", frozenset({USERS_LIST_CHANGED}), handle_one=handlers.list_changed
        ),
    ]
