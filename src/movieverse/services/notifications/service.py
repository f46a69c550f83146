"""Notifications' business logic. Functions take the caller's session and never commit (rule 2).

Everything that makes a notification goes through :func:`notify`, which checks the recipient's
settings (a copy of their users preferences), refuses a cause it has seen (the dedupe key: a
redelivered event never notifies twice), and queues its email and webhook deliveries for the
worker in the same transaction.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from movieverse.contracts.envelope import new_event, new_uuid7
from movieverse.contracts.notifications import NotificationCreated
from movieverse.platform.db import after_commit, utcnow
from movieverse.platform.errors import BadRequest, Forbidden, NotFound, ServiceUnavailable
from movieverse.platform.events.outbox import Outbox
from movieverse.platform.pagination import decode_cursor, encode_cursor
from movieverse.platform.security import Principal
from movieverse.services.notifications.models import (
    SERVICE,
    Channel,
    Delivery,
    DeliveryStatus,
    Kind,
    Notification,
    PendingDigest,
    Recipient,
    Watch,
    WatchedMovie,
    Webhook,
)
from movieverse.services.notifications.repository import NotificationsRepository
from movieverse.services.notifications.schemas import (
    BroadcastCreate,
    BroadcastRead,
    DeliveryRead,
    NotificationFeed,
    NotificationRead,
    WebhookCreate,
    WebhookCreated,
    WebhookRead,
)
from movieverse.services.notifications.signing import new_secret
from movieverse.services.notifications.targets import (
    Resolver,
    TargetRefused,
    TargetUnresolved,
    forbidden_address,
    is_local_name,
    literal_address,
    parse,
    pin,
)

# The users service's defaults for settings a recipient has never changed (or that notifications
# has not heard of yet): in app yes, email no, every topic yes.
DEFAULT_SETTINGS = {
    "in_app": True,
    "email": False,
    "review_likes": True,
    "review_comments": True,
    "watchlist_reviews": True,
    "watchlist_releases": True,
    "broadcasts": True,
}
# Which setting turns each kind of notification off.
TOPIC = {
    Kind.REVIEW_LIKED: "review_likes",
    Kind.REVIEW_COMMENT: "review_comments",
    Kind.COMMENT_REPLY: "review_comments",
    Kind.WATCHLIST_REVIEWS: "watchlist_reviews",
    Kind.RELEASE_DATE: "watchlist_releases",
    Kind.RELEASED: "watchlist_releases",
    Kind.BROADCAST: "broadcasts",
}


# Whether a user's account was deleted and their data here erased: the erasure ledger's answer
# (platform/erasure.py), asked in the caller's transaction. Consumer groups handle events each at
# their own pace, so an event of a user can be handled after both erasure passes; whatever would
# make a row of that user asks this first, or the late event brings their data back for good.
IsErased = Callable[[AsyncSession, UUID], Awaitable[bool]]


@dataclass
class Outlets:
    """What notify needs beyond the session: the outbox, whether email can be sent at all,
    whom to wake after the commit (live streams, the worker), whether a user was erased, how
    long a repeated action tells its recipient nothing new, and the clock that window is
    measured by (tests move it instead of waiting)."""

    outbox: Outbox
    email_enabled: bool
    wake: Callable[[set[UUID]], None]
    is_erased: IsErased
    repeat_window: timedelta = timedelta(hours=24)
    clock: Callable[[], datetime] = utcnow


@dataclass(frozen=True)
class Repeat:
    """Who did what a user can undo and redo (a like), and to what: the recipient is told of it
    once per window, however often it is undone and redone."""

    actor_id: UUID
    subject: str


def setting(recipient: Recipient | None, name: str) -> bool:
    settings = (recipient.settings if recipient is not None else None) or {}
    return bool(settings.get(name, DEFAULT_SETTINGS.get(name, True)))


async def notify(
    session: AsyncSession,
    outlets: Outlets,
    *,
    user_id: UUID,
    kind: Kind,
    title: str,
    body: str,
    data: dict[str, Any],
    dedupe_key: str,
    repeat: Repeat | None = None,
) -> Notification | None:
    """Make the notification (and queue its deliveries), unless the user opted out of its topic,
    it was made already, or (``repeat``) they were told of the same within the window; returns
    it, or None."""
    repo = NotificationsRepository(session)
    recipient = await repo.recipient(user_id)
    # Erasure removes the recipient row and nothing makes it again (remember_*), so only a user
    # without one costs the ledger a question.
    if recipient is None and await outlets.is_erased(session, user_id):
        return None
    if not setting(recipient, TOPIC[kind]):
        return None
    if await repo.notification_by_key(user_id, dedupe_key) is not None:
        return None
    now = utcnow()
    email = (
        outlets.email_enabled
        and recipient is not None
        and recipient.email is not None
        and setting(recipient, "email")
    )
    webhooks = [w for w in await repo.webhooks_for(user_id) if not w.kinds or kind in w.kinds]
    in_app = setting(recipient, "in_app")
    if not (in_app or email or webhooks):
        return None
    if repeat is not None and not await _news(session, outlets, user_id, kind, repeat):
        return None
    notification = Notification(
        id=new_uuid7(), user_id=user_id, kind=kind, title=title[:300], body=body, data=data,
        dedupe_key=dedupe_key[:120], in_app=in_app, created_at=now,
    )  # fmt: skip
    deliveries = [
        Delivery(
            notification_id=notification.id,
            channel=channel,
            webhook_id=webhook_id,
            status=DeliveryStatus.PENDING,
            attempts=0,
            next_attempt_at=now,
            created_at=now,
        )
        for channel, webhook_id in (
            *([(Channel.EMAIL, None)] if email else []),
            *((Channel.WEBHOOK, w.id) for w in webhooks),
        )
    ]
    await repo.add(notification, *deliveries)
    created = NotificationCreated(notification_id=notification.id, user_id=user_id, kind=kind)
    await outlets.outbox.add(session, new_event(created, producer=SERVICE, key=str(user_id)))

    async def wake() -> None:
        outlets.wake({user_id})

    after_commit(session, wake)
    return notification


async def _news(
    session: AsyncSession, outlets: Outlets, user_id: UUID, kind: Kind, repeat: Repeat
) -> bool:
    """Whether a repeatable action tells its recipient something new (claiming the window if
    so). Not if its actor's account was erased: their action is gone, and the repeat mark would
    be a row of theirs."""
    if await outlets.is_erased(session, repeat.actor_id):
        return False
    told_at = outlets.clock()
    return await NotificationsRepository(session).claim_repeat(
        user_id=user_id, kind=kind.value, actor_id=repeat.actor_id, subject=repeat.subject,
        now=told_at, told_before=told_at - outlets.repeat_window,
    )  # fmt: skip


# What other services' events make ----------------------------------------------------------------


async def on_review_liked(
    session: AsyncSession, outlets: Outlets, *, event_id: UUID, review_id: UUID, movie_id: int,
    author_id: UUID, liker_id: UUID, liker: str | None,
) -> None:  # fmt: skip
    if author_id == liker_id:
        return
    who = liker or "Someone"
    await notify(
        session, outlets, user_id=author_id, kind=Kind.REVIEW_LIKED,
        title=f"{who} liked your review", body=f"{who} liked your review.",
        data={"review_id": str(review_id), "movie_id": movie_id, "by": liker},
        dedupe_key=f"event:{event_id}",
        # Liking is undone and redone at will: 50 toggles tell the author once, not 50 times.
        repeat=Repeat(actor_id=liker_id, subject=f"review:{review_id}"),
    )  # fmt: skip


async def on_comment(
    session: AsyncSession, outlets: Outlets, *, event_id: UUID, review_id: UUID, movie_id: int,
    comment_id: UUID, review_author: UUID, parent_author: UUID | None, commenter: UUID,
    username: str,
) -> None:  # fmt: skip
    data = {"review_id": str(review_id), "movie_id": movie_id, "comment_id": str(comment_id)}
    told: set[UUID] = set()
    if parent_author is not None and parent_author != commenter:
        await notify(
            session, outlets, user_id=parent_author, kind=Kind.COMMENT_REPLY,
            title=f"{username} replied to your comment",
            body=f"{username} replied to your comment on a review.", data=data,
            dedupe_key=f"event:{event_id}",
        )  # fmt: skip
        told.add(parent_author)
    if review_author != commenter and review_author not in told:
        await notify(
            session, outlets, user_id=review_author, kind=Kind.REVIEW_COMMENT,
            title=f"{username} commented on your review",
            body=f"{username} commented on your review.", data=data,
            dedupe_key=f"event:{event_id}",
        )  # fmt: skip


async def on_review_written(
    session: AsyncSession, *, review_id: UUID, movie_id: int, author_id: UUID, author: str
) -> None:
    """A new review of a movie people watch: it waits for each watcher's next digest."""
    repo = NotificationsRepository(session)
    movie = await repo.movie(movie_id)
    now = utcnow()
    for user_id in await repo.watchers(movie_id):
        if user_id == author_id:
            continue
        if await repo.digest_entry(user_id, review_id) is None:
            session.add(
                PendingDigest(
                    user_id=user_id,
                    review_id=review_id,
                    movie_id=movie_id,
                    movie_title=movie.title if movie else None,
                    author=author,
                    created_at=now,
                )
            )
    await session.flush()


async def send_digest(session: AsyncSession, outlets: Outlets, *, user_id: UUID) -> bool:
    repo = NotificationsRepository(session)
    pending = await repo.pending_digest(user_id)
    if not pending:
        return False
    titles = sorted({p.movie_title or f"movie {p.movie_id}" for p in pending})
    count = len(pending)
    title = f"{count} new review{'s' if count > 1 else ''} of movies on your watchlist"
    lines = [f"- {p.author} reviewed {p.movie_title or f'movie {p.movie_id}'}" for p in pending]
    await notify(
        session, outlets, user_id=user_id, kind=Kind.WATCHLIST_REVIEWS, title=title,
        body="\n".join(lines),
        data={"reviews": [str(p.review_id) for p in pending], "movies": titles},
        # The first review of the batch names it: a digest is sent once.
        dedupe_key=f"digest:{pending[0].review_id}",
    )  # fmt: skip
    await repo.clear_digest(user_id, [p.review_id for p in pending])
    return True


async def on_list_changed(
    session: AsyncSession, *, user_id: UUID, list_name: str, movie_id: int, added: bool,
    lookup: Callable[[int], Any], is_erased: IsErased,
) -> None:  # fmt: skip
    """Keep the watchlist copy; a newly watched movie's release date is learnt from the catalog
    (``lookup``) so its release can be told."""
    if list_name != "watchlist":
        return
    repo = NotificationsRepository(session)
    current = await repo.watch(user_id, movie_id)
    if not added:
        if current is not None:
            await repo.remove(current)
        return
    if current is None:
        if await is_erased(session, user_id):
            return
        session.add(Watch(user_id=user_id, movie_id=movie_id))
    if await repo.movie(movie_id) is None:
        found = await lookup(movie_id)
        if found is not None:
            title, release_date = found
            session.add(
                WatchedMovie(
                    movie_id=movie_id,
                    title=title,
                    release_date=release_date,
                    # Out already when first watched: that is no news.
                    released_told=release_date is not None and release_date <= date.today(),
                )
            )
    await session.flush()


async def on_movie_changed(
    session: AsyncSession, outlets: Outlets, *, event_id: UUID, movie_id: int, title: str,
    release_date: date | None,
) -> None:  # fmt: skip
    """A watched movie got a release date: its watchers hear of it."""
    repo = NotificationsRepository(session)
    movie = await repo.movie(movie_id)
    if movie is None:
        return  # nobody watches it
    had_date = movie.release_date
    movie.title = title
    movie.release_date = release_date
    if release_date is not None and release_date != had_date and not movie.released_told:
        when = release_date.isoformat()
        for user_id in await repo.watchers(movie_id):
            await notify(
                session, outlets, user_id=user_id, kind=Kind.RELEASE_DATE,
                title=f"{title} has a release date: {when}",
                body=f"{title}, on your watchlist, comes out on {when}.",
                data={"movie_id": movie_id, "release_date": when},
                dedupe_key=f"release-date:{movie_id}:{when}",
            )  # fmt: skip
    await session.flush()


async def tell_releases(session: AsyncSession, outlets: Outlets, *, today: date) -> int:
    """Watched movies whose day has come: their watchers hear they are out (once)."""
    repo = NotificationsRepository(session)
    told = 0
    for movie in await repo.released_untold(today):
        for user_id in await repo.watchers(movie.movie_id):
            made = await notify(
                session, outlets, user_id=user_id, kind=Kind.RELEASED,
                title=f"{movie.title} is out", body=f"{movie.title}, on your watchlist, is out.",
                data={"movie_id": movie.movie_id}, dedupe_key=f"released:{movie.movie_id}",
            )  # fmt: skip
            told += made is not None
        movie.released_told = True
    await session.flush()
    return told


async def broadcast(
    session: AsyncSession, outlets: Outlets, *, data: BroadcastCreate, batch: int = 500
) -> BroadcastRead:
    """An admin's announcement to every known user (the ones who opted out are skipped)."""
    repo = NotificationsRepository(session)
    broadcast_id = new_uuid7()
    sent = 0
    after: UUID | None = None
    while ids := await repo.all_recipient_ids(after=after, limit=batch):
        for user_id in ids:
            made = await notify(
                session, outlets, user_id=user_id, kind=Kind.BROADCAST, title=data.title,
                body=data.body, data={"broadcast_id": str(broadcast_id)},
                dedupe_key=f"broadcast:{broadcast_id}",
            )  # fmt: skip
            sent += made is not None
        after = ids[-1]
    return BroadcastRead(id=broadcast_id, recipients=sent)


# Recipients ------------------------------------------------------------------------------------


async def remember_account(
    session: AsyncSession, *, user_id: UUID, username: str, email: str | None, is_erased: IsErased
) -> None:
    recipient = await NotificationsRepository(session).recipient(user_id)
    if recipient is None:
        if await is_erased(session, user_id):
            return
        session.add(
            Recipient(
                user_id=user_id,
                username=username,
                email=email,
                settings={},
                updated_at=utcnow(),
            )
        )
    else:
        recipient.username, recipient.email = username, email or recipient.email
        recipient.updated_at = utcnow()
    await session.flush()


async def remember_settings(
    session: AsyncSession, *, user_id: UUID, settings: dict[str, bool], is_erased: IsErased
) -> None:
    recipient = await NotificationsRepository(session).recipient(user_id)
    if recipient is None:
        if await is_erased(session, user_id):
            return
        recipient = Recipient(user_id=user_id, settings={}, updated_at=utcnow())
        session.add(recipient)
    recipient.settings = dict(settings)
    recipient.updated_at = utcnow()
    await session.flush()


async def forget_movie(session: AsyncSession, *, movie_id: int) -> None:
    await NotificationsRepository(session).forget_movie(movie_id)


async def forget_user(session: AsyncSession, *, user_id: UUID) -> None:
    await NotificationsRepository(session).erase(user_id)


# The API ---------------------------------------------------------------------------------------


def notification_read(notification: Notification) -> NotificationRead:
    return NotificationRead(
        id=notification.id,
        kind=notification.kind,
        title=notification.title,
        body=notification.body,
        data=notification.data,
        read=notification.read_at is not None,
        created_at=notification.created_at,
    )


async def feed(
    session: AsyncSession, *, principal: Principal, cursor: str | None, limit: int
) -> NotificationFeed:
    before: int | None = None
    if cursor:
        try:
            before = int(decode_cursor(cursor)["seq"])
        except (KeyError, TypeError, ValueError) as exc:
            raise BadRequest("The cursor is malformed; use one returned by this endpoint") from exc
    rows = await NotificationsRepository(session).feed(
        principal.user_id, before=before, limit=limit + 1
    )
    page, more = rows[:limit], len(rows) > limit
    return NotificationFeed(
        results=[notification_read(n) for n in page],
        next_cursor=encode_cursor({"seq": page[-1].seq}) if more and page else None,
    )


async def unread_count(session: AsyncSession, *, principal: Principal) -> int:
    return await NotificationsRepository(session).unread(principal.user_id)


async def _own(session: AsyncSession, principal: Principal, notification_id: UUID) -> Notification:
    found = await NotificationsRepository(session).notification(principal.user_id, notification_id)
    if found is None:
        raise NotFound(f"No notification with id {notification_id}")
    return found


async def mark_read(session: AsyncSession, *, principal: Principal, notification_id: UUID) -> None:
    notification = await _own(session, principal, notification_id)
    if notification.read_at is None:
        notification.read_at = utcnow()


async def mark_all_read(session: AsyncSession, *, principal: Principal) -> None:
    await NotificationsRepository(session).mark_all_read(principal.user_id, utcnow())


async def delete(session: AsyncSession, *, principal: Principal, notification_id: UUID) -> None:
    await NotificationsRepository(session).delete_notification(
        await _own(session, principal, notification_id)
    )


# Webhooks --------------------------------------------------------------------------------------


# How long registering a webhook waits for its host name to resolve.
RESOLVE_SECONDS = 5.0


def check_target(url: str, *, private_allowed: bool) -> str:
    """A webhook URL: http(s), a host, no credentials; loopback and private addresses only where
    allowed. Read as the delivering client reads it; a literal address is checked here, a name
    by :func:`check_resolved_target` (and again, finally, at every delivery)."""
    try:
        host = parse(url).host
    except TargetRefused as refused:
        raise BadRequest(f"This webhook URL is refused: {refused}") from refused
    if not private_allowed:
        address = literal_address(host)
        if is_local_name(host) or (address is not None and forbidden_address(address)):
            raise BadRequest("Webhooks may not target loopback or private addresses here")
    return url


async def check_resolved_target(url: str, *, private_allowed: bool, resolve: Resolver) -> str:
    """:func:`check_target`, and where private targets are not allowed, the addresses the name
    resolves to now: a URL that could never be delivered to is refused at once. (Names change:
    every delivery resolves and checks again, and connects only to what it checked.)"""
    check_target(url, private_allowed=private_allowed)
    if private_allowed:
        return url
    try:
        async with asyncio.timeout(RESOLVE_SECONDS):
            await pin(url, resolve=resolve, private_allowed=False)
    except TargetRefused as refused:
        raise BadRequest(f"This webhook URL is refused: {refused}") from refused
    except TargetUnresolved as unresolved:
        if unresolved.definite:
            raise BadRequest(f"This webhook URL is refused: {unresolved}") from unresolved
        raise ServiceUnavailable(
            f"The webhook's host name could not be resolved just now ({unresolved}); try again"
        ) from unresolved
    except TimeoutError as exc:
        raise ServiceUnavailable("The webhook's host name could not be resolved in time") from exc
    return url


def webhook_read(webhook: Webhook) -> WebhookRead:
    return WebhookRead(
        id=webhook.id,
        url=webhook.url,
        kinds=[Kind(k) for k in webhook.kinds],
        all_users=webhook.all_users,
        active=webhook.active,
        consecutive_failures=webhook.consecutive_failures,
        disabled_reason=webhook.disabled_reason,
        created_at=webhook.created_at,
    )


async def check_webhook(
    *, principal: Principal, data: WebhookCreate, private_allowed: bool, resolve: Resolver
) -> str:
    """Everything registering a webhook asks before it writes: who may, and where to (a DNS
    lookup of up to :data:`RESOLVE_SECONDS`). It takes no session: the caller runs it before
    its unit of work opens, so a slow DNS server never holds the database's write lock.
    Returns the URL to store."""
    if data.all_users and not principal.is_admin:
        raise Forbidden("Only an admin may register a webhook for every user's notifications")
    return await check_resolved_target(data.url, private_allowed=private_allowed, resolve=resolve)


async def create_webhook(
    session: AsyncSession, *, principal: Principal, data: WebhookCreate, url: str
) -> WebhookCreated:
    """Store a webhook whose ``url`` :func:`check_webhook` accepted."""
    webhook = Webhook(
        id=new_uuid7(), owner_id=principal.user_id, all_users=data.all_users,
        url=url, secret=new_secret(),
        kinds=[k.value for k in dict.fromkeys(data.kinds)], active=True,
        consecutive_failures=0, created_at=utcnow(),
    )  # fmt: skip
    await NotificationsRepository(session).add(webhook)
    return WebhookCreated(**webhook_read(webhook).model_dump(), secret=webhook.secret)


async def _webhook_of(session: AsyncSession, principal: Principal, webhook_id: UUID) -> Webhook:
    webhook = await NotificationsRepository(session).webhook(webhook_id)
    if webhook is None or not (principal.is_admin or webhook.owner_id == principal.user_id):
        raise NotFound(f"No webhook with id {webhook_id}")
    return webhook


async def list_webhooks(session: AsyncSession, *, principal: Principal) -> list[WebhookRead]:
    owner = None if principal.is_admin else principal.user_id
    return [webhook_read(w) for w in await NotificationsRepository(session).webhooks_owned(owner)]


async def delete_webhook(session: AsyncSession, *, principal: Principal, webhook_id: UUID) -> None:
    repo = NotificationsRepository(session)
    webhook = await _webhook_of(session, principal, webhook_id)
    await repo.cancel_pending(webhook.id, utcnow())
    await repo.remove(webhook)


async def enable_webhook(
    session: AsyncSession, *, principal: Principal, webhook_id: UUID
) -> WebhookRead:
    webhook = await _webhook_of(session, principal, webhook_id)
    webhook.active, webhook.consecutive_failures, webhook.disabled_reason = True, 0, None
    return webhook_read(webhook)


async def webhook_deliveries(
    session: AsyncSession, *, principal: Principal, webhook_id: UUID, limit: int
) -> list[DeliveryRead]:
    webhook = await _webhook_of(session, principal, webhook_id)
    rows = await NotificationsRepository(session).deliveries_of(webhook.id, limit=limit)
    return [
        DeliveryRead(
            id=d.id,
            notification_id=d.notification_id,
            channel=d.channel,
            status=d.status,
            attempts=d.attempts,
            last_status_code=d.last_status_code,
            last_error=d.last_error,
            created_at=d.created_at,
            finished_at=d.finished_at,
        )
        for d in rows
    ]
