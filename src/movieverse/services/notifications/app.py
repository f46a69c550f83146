"""Notifications' composition: its copies of other services' facts kept by their events, the
live-stream hub, the delivery worker (in process unless told otherwise), and the app."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AsyncExitStack
from datetime import date, timedelta
from uuid import UUID

from fastapi import FastAPI
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from movieverse.platform.assembly import (
    ServiceContext,
    ServiceDefinition,
    SharedRuntime,
    build_service_app,
)
from movieverse.platform.erasure import ErasureLedger, erasure_ledger
from movieverse.platform.events.bus import Subscription
from movieverse.platform.events.envelope import Event
from movieverse.platform.http import ServiceClient, service_client
from movieverse.platform.settings import PlatformSettings
from movieverse.services.notifications import service
from movieverse.services.notifications.api import router
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
from movieverse.services.notifications.models import (
    SERVICE,
    Base,
    Watch,
    WatchedMovie,
    erased_users,
)
from movieverse.services.notifications.settings import NotificationsSettings
from movieverse.services.notifications.stream import StreamHub
from movieverse.services.notifications.targets import Resolver, system_resolver
from movieverse.services.notifications.worker import DeliveryWorker

Handler = Callable[[AsyncSession, Event], Awaitable[None]]


def _catalog_lookup(
    client: ServiceClient | None,
) -> Callable[[int], Awaitable[tuple[str, date | None] | None]]:
    """A movie's title and release date, asked of the movies service (None if unknown)."""

    async def lookup(movie_id: int) -> tuple[str, date | None] | None:
        if client is None:
            return None
        response = await client.get(f"/movies/{movie_id}")
        if response.status_code != 200:
            return None
        body = response.json()
        released = body.get("release_date")
        return str(body["title"]), date.fromisoformat(released) if released else None

    return lookup


def make_worker(ctx: ServiceContext, hub: StreamHub, erasures: ErasureLedger) -> DeliveryWorker:
    own = ctx.settings
    assert isinstance(own, NotificationsSettings)
    private = own.webhook_private_targets
    ctx.state["private_webhooks"] = (
        private if private is not None else not ctx.platform.is_production
    )
    worker: DeliveryWorker

    def wake(user_ids: set[UUID]) -> None:
        hub.wake(user_ids)
        worker.wake()

    outlets = service.Outlets(
        outbox=ctx.outbox,
        email_enabled=own.smtp_url is not None,
        wake=wake,
        is_erased=erasures.is_erased,
        repeat_window=timedelta(seconds=own.dedup_window_seconds),
    )
    ctx.state["outlets"] = outlets
    # Webhook host names are resolved through this (the API's checks and the worker's); tests
    # replace it to answer as a DNS server would.
    ctx.state["webhook_resolver"] = system_resolver

    async def resolve(host: str, port: int) -> Sequence[str]:
        # Looked up at each call, so that a replacement reaches the worker made here too.
        current: Resolver = ctx.state["webhook_resolver"]
        return await current(host, port)

    worker = DeliveryWorker(
        db=ctx.db, settings=own, outlets=outlets, private_allowed=ctx.state["private_webhooks"],
        resolve=resolve,
    )  # fmt: skip
    ctx.state["worker"] = worker
    return worker


async def setup(ctx: ServiceContext, stack: AsyncExitStack) -> None:
    own = ctx.settings
    assert isinstance(own, NotificationsSettings)
    hub = StreamHub()
    ctx.state["stream_hub"] = hub
    # Erases a deleted user's data on the event, and once more after the grace period; every
    # handler that makes a row of a user asks it first (service.IsErased).
    erasures = erasure_ledger(
        ctx,
        stack,
        table=erased_users,
        erase=lambda session, user_id: service.forget_user(session, user_id=user_id),
    )
    worker = make_worker(ctx, hub, erasures)
    stack.push_async_callback(worker.close)
    catalog = service_client("movies", local_apps=ctx.shared.local_apps)
    if catalog is not None:
        stack.push_async_callback(catalog.close)
    lookup = _catalog_lookup(catalog)
    outlets: service.Outlets = ctx.state["outlets"]

    async def on_account(session: AsyncSession, event: Event) -> None:
        account = AccountRegistered.model_validate(event.payload)
        await service.remember_account(
            session, user_id=account.user_id, username=account.username, email=account.email,
            is_erased=erasures.is_erased,
        )  # fmt: skip

    async def on_preferences(session: AsyncSession, event: Event) -> None:
        changed = PreferencesChanged.model_validate(event.payload)
        await service.remember_settings(
            session, user_id=changed.user_id, settings=changed.notifications,
            is_erased=erasures.is_erased,
        )  # fmt: skip

    async def on_user_deleted(session: AsyncSession, event: Event) -> None:
        await erasures.erase(session, UserDeleted.model_validate(event.payload).user_id)

    async def on_list(session: AsyncSession, event: Event) -> None:
        change = ListChanged.model_validate(event.payload)
        await service.on_list_changed(
            session, user_id=change.user_id, list_name=change.list, movie_id=change.movie_id,
            added=change.action == "added", lookup=lookup, is_erased=erasures.is_erased,
        )  # fmt: skip

    async def on_liked(session: AsyncSession, event: Event) -> None:
        like = ReviewLiked.model_validate(event.payload)
        await service.on_review_liked(
            session, outlets, event_id=event.id, review_id=like.review_id,
            movie_id=like.movie_id, author_id=like.author_id, liker_id=like.liker_id,
            liker=like.liker_username,
        )  # fmt: skip

    async def on_comment(session: AsyncSession, event: Event) -> None:
        posted = CommentPosted.model_validate(event.payload)
        await service.on_comment(
            session, outlets, event_id=event.id, review_id=posted.review_id,
            movie_id=posted.movie_id, comment_id=posted.comment_id,
            review_author=posted.review_author_id, parent_author=posted.parent_author_id,
            commenter=posted.user_id, username=posted.username,
        )  # fmt: skip

    async def on_review(session: AsyncSession, event: Event) -> None:
        written = ReviewWritten.model_validate(event.payload)
        if written.created:
            await service.on_review_written(
                session, review_id=written.review_id, movie_id=written.movie_id,
                author_id=written.user_id, author=written.username,
            )  # fmt: skip

    async def on_movie(session: AsyncSession, event: Event) -> None:
        movie = MovieSnapshot.model_validate(event.payload)
        await service.on_movie_changed(
            session, outlets, event_id=event.id, movie_id=movie.movie_id, title=movie.title,
            release_date=movie.release_date,
        )  # fmt: skip

    async def on_movie_deleted(session: AsyncSession, event: Event) -> None:
        movie_id = MovieDeleted.model_validate(event.payload).movie_id
        await session.execute(delete(Watch).where(Watch.movie_id == movie_id))
        await session.execute(delete(WatchedMovie).where(WatchedMovie.movie_id == movie_id))

    consumers: dict[str, tuple[frozenset[str], Handler]] = {
        "accounts": (frozenset({AUTH_USER_REGISTERED}), on_account),
        "preferences": (frozenset({USERS_PREFERENCES_CHANGED}), on_preferences),
        "deleted-users": (frozenset({USERS_USER_DELETED}), on_user_deleted),
        "watchlists": (frozenset({USERS_LIST_CHANGED}), on_list),
        "review-likes": (frozenset({REVIEWS_REVIEW_LIKED}), on_liked),
        "comments": (frozenset({REVIEWS_COMMENT_POSTED}), on_comment),
        "watched-reviews": (frozenset({REVIEWS_REVIEW_WRITTEN}), on_review),
        "watched-movies": (frozenset({MOVIES_MOVIE_CREATED, MOVIES_MOVIE_UPDATED}), on_movie),
        "deleted-movies": (frozenset({MOVIES_MOVIE_DELETED}), on_movie_deleted),
    }
    # Watchers hear of titles and release dates: updates known to touch neither (new ratings
    # moving the scores) are passed over before any transaction.
    filters = {"watched-movies": _may_concern_watchers}
    for name, (types, handle) in consumers.items():
        ctx.bus.subscribe(
            Subscription(
                group=f"{SERVICE}.{name}",
                event_types=types,
                handler=ctx.inbox.handler(name, handle),
                accepts=filters.get(name),
            )
        )
    if own.run_worker and ctx.shared.consume:
        task = asyncio.create_task(worker.run(), name="notifications-worker")

        async def stop_worker() -> None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

        stack.push_async_callback(stop_worker)


DEFINITION = ServiceDefinition(
    name=SERVICE,
    title="Notifications",
    description="In-app notifications, a live stream of them, email and signed webhooks.",
    metadata=Base.metadata,
    settings_factory=NotificationsSettings,
    routers=[router],
    setup=setup,
)


def create_app(
    settings: PlatformSettings | None = None,
    *,
    shared: SharedRuntime | None = None,
    own: NotificationsSettings | None = None,
) -> FastAPI:
    return build_service_app(DEFINITION, settings, shared=shared, own=own)


def _may_concern_watchers(event: Event) -> bool:
    changed = event.payload.get("changed")
    return changed is None or not {"title", "release_date"}.isdisjoint(changed)
