"""Every query notifications makes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from uuid import UUID

from sqlalchemy import delete, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from movieverse.services.notifications.models import (
    Delivery,
    DeliveryStatus,
    Notification,
    PendingDigest,
    Recipient,
    RepeatMark,
    Watch,
    WatchedMovie,
    Webhook,
)


class NotificationsRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, *rows: object) -> None:
        self.session.add_all(rows)
        await self.session.flush()

    async def remove(self, row: object) -> None:
        """A row read through this repository (a watch, a webhook), deleted."""
        await self.session.delete(row)

    # Recipients and watches ------------------------------------------------------------------

    async def recipient(self, user_id: UUID) -> Recipient | None:
        return await self.session.get(Recipient, user_id)

    async def recipients(self, user_ids: Sequence[UUID]) -> dict[UUID, Recipient]:
        if not user_ids:
            return {}
        rows = await self.session.execute(select(Recipient).where(Recipient.user_id.in_(user_ids)))
        return {r.user_id: r for r in rows.scalars()}

    async def all_recipient_ids(self, *, after: UUID | None, limit: int) -> list[UUID]:
        statement = select(Recipient.user_id).order_by(Recipient.user_id).limit(limit)
        if after is not None:
            statement = statement.where(Recipient.user_id > after)
        return list((await self.session.execute(statement)).scalars())

    async def watch(self, user_id: UUID, movie_id: int) -> Watch | None:
        return await self.session.get(Watch, (movie_id, user_id))

    async def watchers(self, movie_id: int) -> list[UUID]:
        rows = await self.session.execute(select(Watch.user_id).where(Watch.movie_id == movie_id))
        return list(rows.scalars())

    async def movie(self, movie_id: int) -> WatchedMovie | None:
        return await self.session.get(WatchedMovie, movie_id)

    async def released_untold(self, today: date) -> list[WatchedMovie]:
        rows = await self.session.execute(
            select(WatchedMovie).where(
                WatchedMovie.release_date <= today, WatchedMovie.released_told.is_(False)
            )
        )
        return list(rows.scalars())

    # Notifications ---------------------------------------------------------------------------

    async def notification_by_key(self, user_id: UUID, dedupe_key: str) -> Notification | None:
        found = await self.session.execute(
            select(Notification).where(
                Notification.user_id == user_id, Notification.dedupe_key == dedupe_key
            )
        )
        return found.scalar_one_or_none()

    async def notification_by_id(self, notification_id: UUID) -> Notification | None:
        found = await self.session.execute(
            select(Notification).where(Notification.id == notification_id)
        )
        return found.scalar_one_or_none()

    async def notification(self, user_id: UUID, notification_id: UUID) -> Notification | None:
        found = await self.session.execute(
            select(Notification).where(
                Notification.id == notification_id, Notification.user_id == user_id
            )
        )
        return found.scalar_one_or_none()

    async def feed(self, user_id: UUID, *, before: int | None, limit: int) -> list[Notification]:
        statement = (
            select(Notification)
            .where(Notification.user_id == user_id, Notification.in_app.is_(True))
            .order_by(Notification.seq.desc())
            .limit(limit)
        )
        if before is not None:
            statement = statement.where(Notification.seq < before)
        return list((await self.session.execute(statement)).scalars())

    async def since(self, user_id: UUID, *, after: int, limit: int) -> list[Notification]:
        """The user's in-app notifications after a sequence number, oldest first (the stream)."""
        rows = await self.session.execute(
            select(Notification)
            .where(
                Notification.user_id == user_id,
                Notification.in_app.is_(True),
                Notification.seq > after,
            )
            .order_by(Notification.seq)
            .limit(limit)
        )
        return list(rows.scalars())

    async def latest_seq(self, user_id: UUID) -> int:
        found = await self.session.execute(
            select(func.max(Notification.seq)).where(Notification.user_id == user_id)
        )
        return int(found.scalar_one() or 0)

    async def unread(self, user_id: UUID) -> int:
        found = await self.session.execute(
            select(func.count())
            .select_from(Notification)
            .where(
                Notification.user_id == user_id,
                Notification.in_app.is_(True),
                Notification.read_at.is_(None),
            )
        )
        return int(found.scalar_one())

    async def mark_all_read(self, user_id: UUID, when: datetime) -> None:
        await self.session.execute(
            update(Notification)
            .where(Notification.user_id == user_id, Notification.read_at.is_(None))
            .values(read_at=when)
        )

    async def delete_notification(self, notification: Notification) -> None:
        await self.session.delete(notification)
        await self.session.flush()

    # Repeats of undoable actions ---------------------------------------------------------------

    async def claim_repeat(
        self, *, user_id: UUID, kind: str, actor_id: UUID, subject: str, now: datetime,
        told_before: datetime,
    ) -> bool:  # fmt: skip
        """Mark the user told now of this actor's action on this subject, unless they were told
        after ``told_before`` (within the window); says whether this one tells them.

        The insert goes first, in a savepoint: where a concurrent transaction inserted the same
        key, the database makes this one wait for it and then refuses the duplicate, and the
        update finds the other's fresh time and changes nothing -- so of two consumers handling
        two likes at once, exactly one notifies, on SQLite, PostgreSQL and MySQL alike. (An
        update first would, on MySQL, take gap locks on the missing key in both transactions,
        and their inserts would then deadlock.) A mark older than the window is taken over by
        the conditional update, which a concurrent one re-checks after the row lock is free.
        """
        key = {"user_id": user_id, "kind": kind, "actor_id": actor_id, "subject": subject}
        try:
            async with self.session.begin_nested():
                await self.session.execute(insert(RepeatMark).values(**key, notified_at=now))
            return True
        except IntegrityError:
            pass
        taken = await self.session.execute(
            update(RepeatMark)
            .where(
                RepeatMark.user_id == user_id,
                RepeatMark.kind == kind,
                RepeatMark.actor_id == actor_id,
                RepeatMark.subject == subject,
                RepeatMark.notified_at <= told_before,
            )
            .values(notified_at=now)
        )
        return bool(getattr(taken, "rowcount", 0) == 1)

    async def prune_repeats(self, told_before: datetime) -> int:
        """Forget marks past the window: a repeat after them notifies anyway."""
        gone = await self.session.execute(
            delete(RepeatMark).where(RepeatMark.notified_at <= told_before)
        )
        return int(getattr(gone, "rowcount", 0) or 0)

    # Digests ---------------------------------------------------------------------------------

    async def digest_due(self, older_than: datetime, *, limit: int) -> list[UUID]:
        """Users whose oldest pending review waited long enough."""
        rows = await self.session.execute(
            select(PendingDigest.user_id)
            .group_by(PendingDigest.user_id)
            .having(func.min(PendingDigest.created_at) <= older_than)
            .limit(limit)
        )
        return list(rows.scalars())

    async def digest_entry(self, user_id: UUID, review_id: UUID) -> PendingDigest | None:
        return await self.session.get(PendingDigest, (user_id, review_id))

    async def pending_digest(self, user_id: UUID) -> list[PendingDigest]:
        rows = await self.session.execute(
            select(PendingDigest)
            .where(PendingDigest.user_id == user_id)
            .order_by(PendingDigest.created_at, PendingDigest.review_id)
        )
        return list(rows.scalars())

    async def clear_digest(self, user_id: UUID, review_ids: Sequence[UUID]) -> None:
        await self.session.execute(
            delete(PendingDigest).where(
                PendingDigest.user_id == user_id, PendingDigest.review_id.in_(review_ids)
            )
        )

    # Webhooks and deliveries -----------------------------------------------------------------

    async def delivery(self, delivery_id: int) -> Delivery | None:
        return await self.session.get(Delivery, delivery_id)

    async def webhook(self, webhook_id: UUID) -> Webhook | None:
        return await self.session.get(Webhook, webhook_id)

    async def webhooks_for(self, user_id: UUID) -> list[Webhook]:
        """Active webhooks told of this user's notifications: their own and everyone's."""
        rows = await self.session.execute(
            select(Webhook).where(
                Webhook.active.is_(True),
                or_(Webhook.owner_id == user_id, Webhook.all_users.is_(True)),
            )
        )
        return list(rows.scalars())

    async def webhooks_owned(self, owner_id: UUID | None) -> list[Webhook]:
        statement = select(Webhook).order_by(Webhook.created_at)
        if owner_id is not None:
            statement = statement.where(Webhook.owner_id == owner_id)
        return list((await self.session.execute(statement)).scalars())

    async def deliveries_of(self, webhook_id: UUID, *, limit: int) -> list[Delivery]:
        rows = await self.session.execute(
            select(Delivery)
            .where(Delivery.webhook_id == webhook_id)
            .order_by(Delivery.id.desc())
            .limit(limit)
        )
        return list(rows.scalars())

    async def due_deliveries(self, now: datetime, *, limit: int) -> list[Delivery]:
        rows = await self.session.execute(
            select(Delivery)
            .where(Delivery.status == DeliveryStatus.PENDING, Delivery.next_attempt_at <= now)
            .order_by(Delivery.next_attempt_at, Delivery.id)
            .limit(limit)
        )
        return list(rows.scalars())

    async def claim(self, delivery_id: int, *, seen: datetime, until: datetime) -> bool:
        """Take a due delivery for this worker: only one of several claims the same row."""
        result = await self.session.execute(
            update(Delivery)
            .where(
                Delivery.id == delivery_id,
                Delivery.status == DeliveryStatus.PENDING,
                Delivery.next_attempt_at == seen,
            )
            .values(next_attempt_at=until)
        )
        return bool(getattr(result, "rowcount", 0) == 1)

    async def cancel_pending(self, webhook_id: UUID, when: datetime) -> None:
        await self.session.execute(
            update(Delivery)
            .where(Delivery.webhook_id == webhook_id, Delivery.status == DeliveryStatus.PENDING)
            .values(status=DeliveryStatus.CANCELLED, finished_at=when)
        )

    # A deleted movie ---------------------------------------------------------------------------

    async def forget_movie(self, movie_id: int) -> None:
        """No watch of it, no copy of its title and date: nothing left to tell of it."""
        await self.session.execute(delete(Watch).where(Watch.movie_id == movie_id))
        await self.session.execute(delete(WatchedMovie).where(WatchedMovie.movie_id == movie_id))

    # A user's erasure ------------------------------------------------------------------------

    async def erase(self, user_id: UUID) -> None:
        for model, column in (
            (PendingDigest, PendingDigest.user_id),
            (Watch, Watch.user_id),
            (Notification, Notification.user_id),
            (RepeatMark, RepeatMark.user_id),
            (RepeatMark, RepeatMark.actor_id),  # what they did to others is theirs too
            (Webhook, Webhook.owner_id),
            (Recipient, Recipient.user_id),
        ):
            await self.session.execute(delete(model).where(column == user_id))
