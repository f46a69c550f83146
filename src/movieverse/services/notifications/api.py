"""Notifications' HTTP routes (thin: parse, call the service, shape the response)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated
from uuid import UUID

import jwt
import orjson
from fastapi import APIRouter, Header, Query, Request, Response, status
from sse_starlette import EventSourceResponse, ServerSentEvent

from movieverse.platform.assembly import CtxDep, ServiceContext, SessionDep, runtime_of
from movieverse.platform.errors import Unauthorized
from movieverse.platform.ratelimit import per_user
from movieverse.platform.revocation import TOKEN_LEEWAY_SECONDS
from movieverse.platform.security import (
    AdminUser,
    CurrentUser,
    Principal,
    TokenVerifier,
    bearer_token,
)
from movieverse.services.notifications import service
from movieverse.services.notifications.bootstrap import NotificationsRuntime
from movieverse.services.notifications.repository import NotificationsRepository
from movieverse.services.notifications.schemas import (
    BroadcastCreate,
    BroadcastRead,
    DeliveryRead,
    NotificationFeed,
    UnreadCount,
    WebhookCreate,
    WebhookCreated,
    WebhookRead,
)
from movieverse.services.notifications.settings import NotificationsSettings

router = APIRouter(prefix="/notifications", tags=["notifications"])
NO_CONTENT = status.HTTP_204_NO_CONTENT
# The stream looks for notifications made in other processes this often, and sends a keep-alive
# comment this often, so proxies do not close an idle connection.
STREAM_POLL_SECONDS = 5.0
STREAM_PING_SECONDS = 15
# An open stream asks this often whether its caller may still have it -- the session not ended
# (logout, logout-all, a password change), the account not deleted, the access token not expired
# -- and ends within this of the answer turning to no. Asking costs two dict lookups and a clock
# read; the database is asked only when woken or every STREAM_POLL_SECONDS.
STREAM_STANDING_SECONDS = 0.5


def _runtime(ctx: ServiceContext) -> NotificationsRuntime:
    return runtime_of(ctx, NotificationsRuntime)


def _own(ctx: ServiceContext) -> NotificationsSettings:
    return _runtime(ctx).settings


def _outlets(ctx: ServiceContext) -> service.Outlets:
    return _runtime(ctx).outlets


@router.get("", summary="Your notifications, newest first (a cursor feed)")
async def list_notifications(
    user: CurrentUser,
    session: SessionDep,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> NotificationFeed:
    return await service.feed(session, principal=user, cursor=cursor, limit=limit)


@router.get("/unread_count", summary="How many of your notifications are unread")
async def unread_count(user: CurrentUser, session: SessionDep) -> UnreadCount:
    return UnreadCount(unread=await service.unread_count(session, principal=user))


@router.post("/read_all", status_code=NO_CONTENT, summary="Mark every notification read")
async def read_all(user: CurrentUser, session: SessionDep) -> Response:
    await service.mark_all_read(session, principal=user)
    return Response(status_code=NO_CONTENT)


@router.get(
    "/stream",
    summary="A live stream of your notifications (Server-Sent Events)",
    description="Each event's id is its position: reconnect with `Last-Event-ID` to get what "
    'you missed. The stream ends with an `end` event (`data`: `{"reason": ...}`) when the '
    "access token expires, the session ends or the account is deleted: refresh or sign in, then "
    "reconnect.",
    response_class=EventSourceResponse,
)
async def stream(
    request: Request,
    user: CurrentUser,
    ctx: CtxDep,
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID", max_length=20)] = None,
) -> EventSourceResponse:
    after = int(last_event_id) if last_event_id and last_event_id.isdigit() else None
    caller = _Caller(user, expires_at=_token_expiry(request))
    return EventSourceResponse(
        _events(request, ctx, caller, after), ping=STREAM_PING_SECONDS, send_timeout=30
    )


@dataclass(frozen=True)
class _Caller:
    """Who opened a stream, and until when their access token lets them keep it."""

    principal: Principal
    expires_at: float  # Unix time, the token's ``exp``

    def refusal(self, verifier: TokenVerifier, now: float) -> str | None:
        """Why the stream must end now, or None: what a request with the same token would be
        refused for (expiry with the verifier's leeway, then the revocation list)."""
        if now >= self.expires_at + TOKEN_LEEWAY_SECONDS:
            return "The access token has expired"
        try:
            verifier.ensure_standing(self.principal)
        except Unauthorized as refused:
            return str(refused)
        return None


def _token_expiry(request: Request) -> float:
    # CurrentUser has just verified this very token (signature, issuer, audience, expiry), so
    # its claims are only read here; the verifier keeps no expiry on the principal.
    claims = jwt.decode(bearer_token(request), options={"verify_signature": False})
    return float(claims["exp"])


async def _events(
    request: Request, ctx: ServiceContext, caller: _Caller, after: int | None
) -> AsyncIterator[ServerSentEvent]:
    hub = _runtime(ctx).hub
    user_id = caller.principal.user_id
    woken = hub.listen(user_id)
    loop = asyncio.get_running_loop()
    try:
        if after is None:
            # A first connection starts from now; a resumed one from where it left off.
            async with ctx.db.unit_of_work(write=False) as session:
                after = await NotificationsRepository(session).latest_seq(user_id)
        next_poll, more = 0.0, False
        while not await request.is_disconnected():
            # Asked before anything is sent: a token checked only when the stream opened would
            # keep it going after a logout, a password change or the account's deletion.
            refusal = caller.refusal(ctx.verifier, hub.clock())
            if refusal is not None:
                yield ServerSentEvent(data=orjson.dumps({"reason": refusal}).decode(), event="end")
                return
            if more or woken.is_set() or loop.time() >= next_poll:
                woken.clear()
                next_poll = loop.time() + STREAM_POLL_SECONDS
                async with ctx.db.unit_of_work(write=False) as session:
                    fresh = await NotificationsRepository(session).since(
                        user_id, after=after, limit=100
                    )
                for notification in fresh:
                    body = service.notification_read(notification).model_dump_json()
                    yield ServerSentEvent(data=body, event="notification", id=str(notification.seq))
                    after = notification.seq
                more = len(fresh) == 100
                if more:
                    continue  # more waiting
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(woken.wait(), timeout=STREAM_STANDING_SECONDS)
    finally:
        hub.leave(user_id, woken)


@router.post("/broadcasts", status_code=status.HTTP_201_CREATED, summary="Tell everyone (admin)")
async def broadcast(
    body: BroadcastCreate, admin: AdminUser, session: SessionDep, ctx: CtxDep
) -> BroadcastRead:
    return await service.broadcast(session, _outlets(ctx), data=body)


# Webhooks (before /{notification_id}: "webhooks" is no notification id)


@router.post(
    "/webhooks",
    status_code=status.HTTP_201_CREATED,
    summary="Register a URL to be told of your notifications (signed; see the docs)",
    dependencies=[per_user("webhook")],
)
async def create_webhook(body: WebhookCreate, user: CurrentUser, ctx: CtxDep) -> WebhookCreated:
    # The checks (a DNS lookup among them) run before the unit of work opens: on SQLite a
    # writing one holds the database's one write lock for as long as it is open.
    url = await service.check_webhook(
        principal=user, data=body, private_allowed=_runtime(ctx).private_webhooks,
        resolve=_runtime(ctx).resolver,
    )  # fmt: skip
    async with ctx.db.unit_of_work() as session:
        created = await service.create_webhook(session, principal=user, data=body, url=url)
        # As the request's own unit of work does before it commits (platform/assembly.py): a
        # session ended or an account deleted meanwhile writes nothing.
        ctx.verifier.ensure_standing(user)
    return created


@router.get("/webhooks", summary="Your webhooks (an admin sees every one)")
async def list_webhooks(user: CurrentUser, session: SessionDep) -> list[WebhookRead]:
    return await service.list_webhooks(session, principal=user)


@router.delete("/webhooks/{webhook_id}", status_code=NO_CONTENT, summary="Remove a webhook")
async def delete_webhook(webhook_id: UUID, user: CurrentUser, session: SessionDep) -> Response:
    await service.delete_webhook(session, principal=user, webhook_id=webhook_id)
    return Response(status_code=NO_CONTENT)


@router.post("/webhooks/{webhook_id}/enable", summary="Turn a disabled webhook back on")
async def enable_webhook(webhook_id: UUID, user: CurrentUser, session: SessionDep) -> WebhookRead:
    return await service.enable_webhook(session, principal=user, webhook_id=webhook_id)


@router.get("/webhooks/{webhook_id}/deliveries", summary="A webhook's delivery history")
async def webhook_deliveries(
    webhook_id: UUID,
    user: CurrentUser,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[DeliveryRead]:
    return await service.webhook_deliveries(
        session, principal=user, webhook_id=webhook_id, limit=limit
    )


# One notification


@router.post("/{notification_id}/read", status_code=NO_CONTENT, summary="Mark one read")
async def read_one(notification_id: UUID, user: CurrentUser, session: SessionDep) -> Response:
    await service.mark_read(session, principal=user, notification_id=notification_id)
    return Response(status_code=NO_CONTENT)


@router.delete("/{notification_id}", status_code=NO_CONTENT, summary="Delete one")
async def delete_one(notification_id: UUID, user: CurrentUser, session: SessionDep) -> Response:
    await service.delete(session, principal=user, notification_id=notification_id)
    return Response(status_code=NO_CONTENT)
