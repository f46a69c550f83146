"""What notifications consumes, as a table: its copies of other services' facts (accounts,
preferences, watchlists, watched movies and reviews), the events it tells users of (likes,
comments, movie changes), and deletions (users erased, movies forgotten)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from movieverse.contracts.auth import UserRegistered
from movieverse.contracts.envelope import Event
from movieverse.contracts.movies import (
    SNAPSHOT_EVENTS,
    MovieDeleted,
    changed_fields,
    read_snapshot,
)
from movieverse.contracts.reviews import CommentPosted, ReviewLiked, ReviewWritten
from movieverse.contracts.users import PreferencesChanged, UserDeleted, UserListChanged
from movieverse.platform.erasure import ErasureLedger
from movieverse.platform.events.consumers import Consumer
from movieverse.platform.events.inbox import SessionHandler
from movieverse.services.notifications import service

# A movie's title and release date, asked of the movies service (None if unknown).
CatalogLookup = Callable[[int], Awaitable[tuple[str, date | None] | None]]


def may_concern_watchers(event: Event) -> bool:
    """Watchers hear of titles and release dates: updates known to touch neither (new ratings
    moving the scores) are passed over before any transaction."""
    changed = changed_fields(event)
    return changed is None or not {"title", "release_date"}.isdisjoint(changed)


@dataclass(frozen=True)
class NotificationsHandlers:
    outlets: service.Outlets
    # Every handler that makes a row of a user asks it first (service.IsErased).
    erasures: ErasureLedger
    lookup: CatalogLookup

    async def account(self, session: AsyncSession, event: Event) -> None:
        account = UserRegistered.from_event(event)
        await service.remember_account(
            session, user_id=account.user_id, username=account.username, email=account.email,
            is_erased=self.erasures.is_erased,
        )  # fmt: skip

    async def preferences(self, session: AsyncSession, event: Event) -> None:
        changed = PreferencesChanged.from_event(event)
        await service.remember_settings(
            session, user_id=changed.user_id, settings=changed.notifications,
            is_erased=self.erasures.is_erased,
        )  # fmt: skip

    async def user_deleted(self, session: AsyncSession, event: Event) -> None:
        await self.erasures.erase(session, UserDeleted.from_event(event).user_id)

    async def list_changed(self, session: AsyncSession, event: Event) -> None:
        change = UserListChanged.from_event(event)
        await service.on_list_changed(
            session, user_id=change.user_id, list_name=change.list, movie_id=change.movie_id,
            added=change.action == "added", lookup=self.lookup, is_erased=self.erasures.is_erased,
        )  # fmt: skip

    async def review_liked(self, session: AsyncSession, event: Event) -> None:
        like = ReviewLiked.from_event(event)
        await service.on_review_liked(
            session, self.outlets, event_id=event.id, review_id=like.review_id,
            movie_id=like.movie_id, author_id=like.author_id, liker_id=like.liker_id,
            liker=like.liker_username,
        )  # fmt: skip

    async def comment(self, session: AsyncSession, event: Event) -> None:
        posted = CommentPosted.from_event(event)
        await service.on_comment(
            session, self.outlets, event_id=event.id, review_id=posted.review_id,
            movie_id=posted.movie_id, comment_id=posted.comment_id,
            review_author=posted.review_author_id, parent_author=posted.parent_author_id,
            commenter=posted.user_id, username=posted.username,
        )  # fmt: skip

    async def review_written(self, session: AsyncSession, event: Event) -> None:
        written = ReviewWritten.from_event(event)
        if written.created:
            await service.on_review_written(
                session, review_id=written.review_id, movie_id=written.movie_id,
                author_id=written.user_id, author=written.username,
            )  # fmt: skip

    async def movie_changed(self, session: AsyncSession, event: Event) -> None:
        movie = read_snapshot(event)
        await service.on_movie_changed(
            session, self.outlets, event_id=event.id, movie_id=movie.movie_id, title=movie.title,
            release_date=movie.release_date,
        )  # fmt: skip

    async def movie_deleted(self, session: AsyncSession, event: Event) -> None:
        movie_id = MovieDeleted.from_event(event).movie_id
        await service.forget_movie(session, movie_id=movie_id)


def consumers(h: NotificationsHandlers) -> list[Consumer]:
    def one(name: str, types: set[str], handle: SessionHandler) -> Consumer:
        return Consumer(name, frozenset(types), handle_one=handle)

    return [
        one("accounts", {UserRegistered.event_type}, h.account),
        one("preferences", {PreferencesChanged.event_type}, h.preferences),
        one("deleted-users", {UserDeleted.event_type}, h.user_deleted),
        one("watchlists", {UserListChanged.event_type}, h.list_changed),
        one("review-likes", {ReviewLiked.event_type}, h.review_liked),
        one("comments", {CommentPosted.event_type}, h.comment),
        one("watched-reviews", {ReviewWritten.event_type}, h.review_written),
        Consumer(
            "watched-movies",
            SNAPSHOT_EVENTS,
            handle_one=h.movie_changed,
            accepts=may_concern_watchers,
        ),
        one("deleted-movies", {MovieDeleted.event_type}, h.movie_deleted),
    ]
