"""Notifications' composition root: the live-stream hub, the erasure ledger, the outlets every
notice goes through, the webhook resolver, the delivery worker (in process unless told
otherwise), its client of the movies service and its consumers."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import date, timedelta
from uuid import UUID

from movieverse.platform.assembly import ServiceContext
from movieverse.platform.erasure import ErasureLedger, erasure_ledger
from movieverse.platform.events.consumers import subscribe_consumers
from movieverse.platform.http import ServiceClient, service_client
from movieverse.services.notifications import service
from movieverse.services.notifications.consumers import (
    CatalogLookup,
    NotificationsHandlers,
    consumers,
)
from movieverse.services.notifications.models import erased_users
from movieverse.services.notifications.settings import NotificationsSettings
from movieverse.services.notifications.stream import StreamHub
from movieverse.services.notifications.targets import Resolver, system_resolver
from movieverse.services.notifications.worker import DeliveryWorker


@dataclass
class WebhookResolver:
    """Webhook host names are resolved through this (the API's checks and the worker's). Tests
    set ``current`` to answer as a DNS server would; the worker made at start sees it too."""

    current: Resolver = field(default=system_resolver)

    async def __call__(self, host: str, port: int) -> Sequence[str]:
        return await self.current(host, port)


@dataclass(frozen=True)
class NotificationsRuntime:
    settings: NotificationsSettings
    hub: StreamHub
    erasures: ErasureLedger
    outlets: service.Outlets
    resolver: WebhookResolver
    private_webhooks: bool
    worker: DeliveryWorker


def _catalog_lookup(client: ServiceClient | None) -> CatalogLookup:
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


async def bootstrap(
    ctx: ServiceContext, own: NotificationsSettings, stack: AsyncExitStack
) -> NotificationsRuntime:
    hub = StreamHub()
    # Erases a deleted user's data on the event, and once more after the grace period.
    erasures = erasure_ledger(
        ctx,
        stack,
        table=erased_users,
        erase=lambda session, user_id: service.forget_user(session, user_id=user_id),
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
    private = own.webhook_private_targets
    private_webhooks = private if private is not None else not ctx.platform.is_production
    resolver = WebhookResolver()
    worker = DeliveryWorker(
        db=ctx.db, settings=own, outlets=outlets, private_allowed=private_webhooks,
        resolve=resolver,
    )  # fmt: skip
    stack.push_async_callback(worker.close)
    catalog = service_client("movies", local_apps=ctx.shared.local_apps)
    if catalog is not None:
        stack.push_async_callback(catalog.close)
    handlers = NotificationsHandlers(
        outlets=outlets, erasures=erasures, lookup=_catalog_lookup(catalog)
    )
    subscribe_consumers(ctx.name, ctx.bus, ctx.inbox, consumers(handlers))
    if own.run_worker and ctx.shared.consume:
        _run_in_background(worker, stack)
    return NotificationsRuntime(
        settings=own,
        hub=hub,
        erasures=erasures,
        outlets=outlets,
        resolver=resolver,
        private_webhooks=private_webhooks,
        worker=worker,
    )


def _run_in_background(worker: DeliveryWorker, stack: AsyncExitStack) -> None:
    task = asyncio.create_task(worker.run(), name="notifications-worker")

    async def stop_worker() -> None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    stack.push_async_callback(stop_worker)
