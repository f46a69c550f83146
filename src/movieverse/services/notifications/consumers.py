"""What notifications consumes, as a table: its copies of other services' facts (accounts,
preferences, watchlists, watched movies and reviews), the events it tells users of (likes,
comments, movie changes), and deletions (users erased, movies forgotten)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from movieverse.platform.erasure import ErasureLedger
from movieverse.platform.events.consumers import Consumer
from movieverse.platform.events.envelope import Event
from movieverse.platform.events.inbox import SessionHandler
from movieverse.services.notifications import service
from movieverse.services.notifications.events import (
    AUTH_USER_REGISTERED,
    MOVIES_MOVIE_CREATED,
    MOVIES_MOVIE_DELETED,
    MOVIES_MOVIE_UPDATED,
    REVIEWS_COMMENT_POSTED,
    REVIEWS_REVIEW_LIKED,
    REVIEWS_REVIEW_WRITTEN,
    USERS_LIST_CHANGED,
    USERS_PREFERENCES_CHANGED,
    USERS_USER_DELETED,
    AccountRegistered,
    CommentPosted,
    ListChanged,
    MovieDeleted,
    MovieSnapshot,
    PreferencesChanged,
    ReviewLiked,
    ReviewWritten,
    UserDeleted,
)

# A movie's title and release date, asked of the movies service (None if unknown).
CatalogLookup = Callable[[int], Awaitable[tuple[str, date | None] | None]]


def may_concern_watchers(event: Event) -> bool:
    """Watchers hear of titles and release dates: updates known to touch neither (new ratings
    moving the scores) are passed over before any transaction."""
    changed = event.payload.get("changed")
    return changed is None or not {"title", "release_date"}.isdisjoint(changed)


@dataclass(frozen=True)
class NotificationsHandlers:
    outlets: service.Outlets
    # Every handler that makes a row of a user asks it first (service.IsErased).
    erasures: ErasureLedger
    lookup: CatalogLookup

    async def account(self, session: AsyncSession, event: Event) -> None:
        account = AccountRegistered.model_validate(event.payload)
        await service.remember_account(
            session, user_id=account.user_id, username=account.username, email=account.email,
            is_erased=self.erasures.is_erased,
        )  # fmt: skip

    async def preferences(self, session: AsyncSession, event: Event) -> None:
        changed = PreferencesChanged.model_validate(event.payload)
        await service.remember_settings(
            session, user_id=changed.user_id, settings=changed.notifications,
            is_erased=self.erasures.is_erased,
        )  # fmt: skip

    async def user_deleted(self, session: AsyncSession, event: Event) -> None:
        await self.erasures.erase(session, UserDeleted.model_validate(event.payload).user_id)

    async def list_changed(self, session: AsyncSession, event: Event) -> None:
        change = ListChanged.model_validate(event.payload)
        await service.on_list_changed(
            session, user_id=change.user_id, list_name=change.list, movie_id=change.movie_id,
            added=change.action == "added", lookup=self.lookup, is_erased=self.erasures.is_erased,
        )  # fmt: skip

    async def review_liked(self, session: AsyncSession, event: Event) -> None:
        like = ReviewLiked.model_validate(event.payload)
        await service.on_review_liked(
            session, self.outlets, event_id=event.id, review_id=like.review_id,
            movie_id=like.movie_id, author_id=like.author_id, liker_id=like.liker_id,
            liker=like.liker_username,
        )  # fmt: skip

    async def comment(self, session: AsyncSession, event: Event) -> None:
        posted = CommentPosted.model_validate(event.payload)
        await service.on_comment(
            session, self.outlets, event_id=event.id, review_id=posted.review_id,
            movie_id=posted.movie_id, comment_id=posted.comment_id,
            review_author=posted.review_author_id, parent_author=posted.parent_author_id,
            commenter=posted.user_id, username=posted.username,
        )  # fmt: skip

    async def review_written(self, session: AsyncSession, event: Event) -> None:
        written = ReviewWritten.model_validate(event.payload)
        if written.created:
            await service.on_review_written(
                session, review_id=written.review_id, movie_id=written.movie_id,
                author_id=written.user_id, author=written.username,
            )  # fmt: skip

    async def movie_changed(self, session: AsyncSession, event: Event) -> None:
        movie = MovieSnapshot.model_validate(event.payload)
        await service.on_movie_changed(
            session, self.outlets, event_id=event.id, movie_id=movie.movie_id, title=movie.title,
            release_date=movie.release_date,
        )  # fmt: skip

    async def movie_deleted(self, session: AsyncSession, event: Event) -> None:
        movie_id = MovieDeleted.model_validate(event.payload).movie_id
        await service.forget_movie(session, movie_id=movie_id)


def consumers(h: NotificationsHandlers) -> list[Consumer]:
    def one(name: str, types: set[str], handle: SessionHandler) -> Consumer:
        return Consumer(name, frozenset(types), handle_one=handle)

    return [
        one("accounts", {AUTH_USER_REGISTERED}, h.account),
        one("preferences", {USERS_PREFERENCES_CHANGED}, h.preferences),
        one("deleted-users", {USERS_USER_DELETED}, h.user_deleted),
        one("watchlists", {USERS_LIST_CHANGED}, h.list_changed),
        one("review-likes", {REVIEWS_REVIEW_LIKED}, h.review_liked),
        one("comments", {REVIEWS_COMMENT_POSTED}, h.comment),
        one("watched-reviews", {REVIEWS_REVIEW_WRITTEN}, h.review_written),
        Consumer(
            "watched-movies",
            frozenset({MOVIES_MOVIE_CREATED, MOVIES_MOVIE_UPDATED}),
            handle_one=h.movie_changed,
            accepts=may_concern_watchers,
        ),
        one("deleted-movies", {MOVIES_MOVIE_DELETED}, h.movie_deleted),
    ]
