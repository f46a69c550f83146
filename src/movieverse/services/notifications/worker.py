"""The notifications worker: sends queued email and webhook deliveries (retrying with back-off,
disabling a webhook that keeps failing), turns gathered reviews into digests, and tells watchers
when a movie comes out.

It runs inside the service in the embedded shape, and as ``movieverse worker notifications``
when distributed; several workers may run, because each delivery is claimed by one before it is
sent. Nothing is sent inside a transaction: a slow receiver never holds a database lock.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import time
from dataclasses import dataclass
from datetime import date, timedelta
from urllib.parse import unquote, urlsplit

import aiosmtplib
import httpx
import orjson
import structlog

from movieverse.platform.db import Database, utcnow
from movieverse.services.notifications import service
from movieverse.services.notifications.models import (
    Channel,
    Delivery,
    DeliveryStatus,
    Notification,
    Recipient,
    Webhook,
)
from movieverse.services.notifications.repository import NotificationsRepository
from movieverse.services.notifications.settings import NotificationsSettings
from movieverse.services.notifications.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign
from movieverse.services.notifications.targets import (
    PinnedTarget,
    Resolver,
    TargetRefused,
    TargetUnresolved,
    pin,
    system_resolver,
)
from movieverse.services.notifications.templates import email_message

log = structlog.get_logger("movieverse.notifications.worker")
BATCH = 50
# How long a claimed delivery is this worker's before another may retry it (a crash mid-send).
LEASE = timedelta(minutes=2)
# A webhook host's addresses tried in turn when a connection cannot be opened (every one was
# checked; nothing was sent to the ones that failed).
MAX_ADDRESSES = 4
# Marks of repeated likes past their window are forgotten this often (seconds).
PRUNE_REPEATS_EVERY = 3600.0


@dataclass(frozen=True)
class Outcome:
    ok: bool
    status_code: int | None = None
    error: str | None = None
    # Retrying cannot help (the URL or the address policy refuses the target): failed at once.
    # A name that does not resolve now is no such case: it is retried as any other failure.
    final: bool = False


def webhook_transport(verify: ssl.SSLContext | bool = True) -> httpx.AsyncHTTPTransport:
    """How deliveries reach webhooks: directly (no proxy from the environment: the proxy would
    resolve the name again, past the address check) and on a new connection each time (a kept
    connection is keyed by address, and must not carry another host's request; see _post)."""
    return httpx.AsyncHTTPTransport(
        verify=verify, trust_env=False, limits=httpx.Limits(max_keepalive_connections=0)
    )


class DeliveryWorker:
    def __init__(
        self,
        *,
        db: Database,
        settings: NotificationsSettings,
        outlets: service.Outlets,
        private_allowed: bool,
        resolve: Resolver = system_resolver,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.db = db
        self.settings = settings
        self.outlets = outlets
        self.private_allowed = private_allowed
        self.resolve = resolve
        self.wakeup = asyncio.Event()
        self._repeats_pruned: float | None = None  # time.monotonic() of the last pruning
        # Redirects are not followed: the next hop would be a target nobody checked (a 3xx is
        # a failed delivery, as any answer outside 2xx).
        self._http = httpx.AsyncClient(
            timeout=settings.webhook_timeout_seconds,
            follow_redirects=False,
            trust_env=False,
            transport=transport or webhook_transport(),
        )

    async def close(self) -> None:
        await self._http.aclose()

    def wake(self) -> None:
        self.wakeup.set()

    async def run(self) -> None:
        while True:
            try:
                await self.tick()
            except Exception as exc:  # a bad pass must not end the worker; the next retries
                log.warning("notifications_worker_failed", error=repr(exc))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    self.wakeup.wait(), timeout=self.settings.worker_poll_seconds
                )
            self.wakeup.clear()

    async def tick(self) -> int:
        """One pass over everything due; returns how many deliveries it attempted."""
        await self._digests()
        await self._releases()
        await self._prune_repeats()
        return await self._deliveries()

    # Digests and releases --------------------------------------------------------------------

    async def _digests(self) -> None:
        # The outlets' clock, so a test can hold a digest back until what it gathers is there.
        older_than = self.outlets.clock() - timedelta(seconds=self.settings.digest_seconds)
        async with self.db.unit_of_work(write=False) as session:
            users = await NotificationsRepository(session).digest_due(older_than, limit=200)
        for user_id in users:
            async with self.db.unit_of_work() as session:
                await service.send_digest(session, self.outlets, user_id=user_id)

    async def _releases(self) -> None:
        today = date.today()
        async with self.db.unit_of_work(write=False) as session:
            if not await NotificationsRepository(session).released_untold(today):
                return
        async with self.db.unit_of_work() as session:
            await service.tell_releases(session, self.outlets, today=today)

    async def _prune_repeats(self) -> None:
        started = time.monotonic()
        if (
            self._repeats_pruned is not None
            and started - self._repeats_pruned < PRUNE_REPEATS_EVERY
        ):
            return
        self._repeats_pruned = started
        told_before = self.outlets.clock() - self.outlets.repeat_window
        async with self.db.unit_of_work() as session:
            await NotificationsRepository(session).prune_repeats(told_before)

    # Deliveries ------------------------------------------------------------------------------

    async def _deliveries(self) -> int:
        now = utcnow()
        async with self.db.unit_of_work(write=False) as session:
            due = await NotificationsRepository(session).due_deliveries(now, limit=BATCH)
        attempted = 0
        for delivery in due:
            async with self.db.unit_of_work() as session:
                claimed = await NotificationsRepository(session).claim(
                    delivery.id, seen=delivery.next_attempt_at, until=now + LEASE
                )
            if not claimed:
                continue  # another worker has it
            outcome = await self._attempt(delivery)
            await self._record(delivery.id, outcome)
            attempted += 1
        return attempted

    async def _attempt(self, delivery: Delivery) -> Outcome | None:
        """Send it; None when there is nothing to send any more (the notification or its
        webhook is gone)."""
        async with self.db.unit_of_work(write=False) as session:
            repo = NotificationsRepository(session)
            notification = await repo.notification_by_id(delivery.notification_id)
            recipient = await repo.recipient(notification.user_id) if notification else None
            webhook = await repo.webhook(delivery.webhook_id) if delivery.webhook_id else None
        if notification is None:
            return None
        try:
            if delivery.channel == Channel.EMAIL:
                return await self._email(notification, recipient)
            if webhook is None or not webhook.active:
                return None
            return await self._webhook(delivery, notification, webhook)
        except Exception as exc:  # every failure is an outcome to record and retry
            return Outcome(ok=False, error=repr(exc)[:500])

    async def _email(self, notification: Notification, recipient: Recipient | None) -> Outcome:
        url = self.settings.smtp_url
        if url is None or recipient is None or recipient.email is None:
            return Outcome(ok=False, error="no SMTP server or no address to send to")
        parts = urlsplit(url)
        message = email_message(
            notification,
            to=recipient.email,
            sender=self.settings.mail_from,
            site=self.settings.site_url,
        )
        await aiosmtplib.send(
            message,
            hostname=parts.hostname or "localhost",
            port=parts.port or (465 if parts.scheme == "smtps" else 25),
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            use_tls=parts.scheme == "smtps",
            start_tls=False if parts.scheme == "smtp" else None,
            timeout=10,
        )
        return Outcome(ok=True)

    async def _webhook(
        self, delivery: Delivery, notification: Notification, webhook: Webhook
    ) -> Outcome:
        try:
            target = await pin(
                webhook.url, resolve=self.resolve, private_allowed=self.private_allowed
            )
        except TargetRefused as refused:
            log.warning("webhook_target_refused", webhook_id=str(webhook.id), reason=str(refused))
            return Outcome(ok=False, error=f"not sent: {refused}", final=True)
        except TargetUnresolved as unresolved:  # DNS may answer next time: retried
            return Outcome(ok=False, error=f"not sent: {unresolved}")
        body = orjson.dumps(
            {
                "type": "notification.created",
                "delivery": delivery.id,
                "user_id": str(notification.user_id),
                "notification": service.notification_read(notification).model_dump(mode="json"),
            }
        )
        timestamp = int(time.time())
        response = await self._post(
            target,
            body,
            {
                "Content-Type": "application/json",
                "User-Agent": "MovieVerse-Webhooks/1",
                TIMESTAMP_HEADER: str(timestamp),
                SIGNATURE_HEADER: sign(webhook.secret, timestamp, body),
                "X-MovieVerse-Delivery": str(delivery.id),
            },
        )
        if 200 <= response.status_code < 300:
            return Outcome(ok=True, status_code=response.status_code)
        return Outcome(
            ok=False, status_code=response.status_code, error=f"HTTP {response.status_code}"
        )

    async def _post(
        self, target: PinnedTarget, body: bytes, headers: dict[str, str]
    ) -> httpx.Response:
        """POST to a checked address of the target, never to a name the client would resolve.

        The URL carries the address itself, so the client connects there and resolves nothing.
        What the receiver sees of the host stays the registered name:

        - ``Host`` is set to the registered host (and port) -- for http that is all a server
          (or its virtual hosts) reads of the name;
        - for https, the ``sni_hostname`` extension makes the client send the registered name as
          SNI *and* check the certificate against it (Python's ``ssl`` verifies the peer against
          the ``server_hostname`` it was given), never against the address.

        Connections are not kept (see :func:`webhook_transport`): one opened for one host name
        (its certificate checked for that name) is keyed by address in the client's pool and
        would otherwise carry the next delivery to another name on the same address.
        """
        extensions = {"sni_hostname": target.server_hostname} if target.server_hostname else {}
        failed: httpx.ConnectError | None = None
        for address in target.addresses[:MAX_ADDRESSES]:
            try:
                return await self._http.post(
                    target.url_for(address),
                    content=body,
                    headers={**headers, "Host": target.host_header},
                    extensions=extensions,
                )
            except httpx.ConnectError as exc:  # nothing was sent: the next address may answer
                failed = exc
        assert failed is not None
        raise failed

    async def _record(self, delivery_id: int, outcome: Outcome | None) -> None:
        now = utcnow()
        async with self.db.unit_of_work() as session:
            repo = NotificationsRepository(session)
            delivery = await repo.delivery(delivery_id)
            if delivery is None:
                return
            webhook = await repo.webhook(delivery.webhook_id) if delivery.webhook_id else None
            if outcome is None:
                delivery.status, delivery.finished_at = DeliveryStatus.CANCELLED, now
                return
            delivery.attempts += 1
            delivery.last_status_code = outcome.status_code
            delivery.last_error = outcome.error
            if outcome.ok:
                delivery.status, delivery.finished_at = DeliveryStatus.SENT, now
                if webhook is not None:
                    webhook.consecutive_failures = 0
                return
            if not outcome.final and delivery.attempts < self.settings.webhook_attempts:
                wait = self.settings.webhook_retry_seconds * 2 ** (delivery.attempts - 1)
                delivery.next_attempt_at = now + timedelta(seconds=wait)
                return
            delivery.status, delivery.finished_at = DeliveryStatus.FAILED, now
            if webhook is not None:
                webhook.consecutive_failures += 1
                if webhook.consecutive_failures >= self.settings.webhook_disable_after:
                    webhook.active = False
                    webhook.disabled_reason = (
                        f"disabled after {webhook.consecutive_failures} failed deliveries in a "
                        f"row; last: {outcome.error}"
                    )[:300]
                    await NotificationsRepository(session).cancel_pending(webhook.id, now)
                    log.warning("webhook_disabled", webhook_id=str(webhook.id), url=webhook.url)
