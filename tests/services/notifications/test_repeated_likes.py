"""A like undone and redone tells the review's author once per window (finding 7: 50 like/unlike
toggles sent the author 51 notifications, and as many webhook deliveries), on SQLite, PostgreSQL
and MySQL, under redelivery and concurrent consumers."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError

from movieverse.contracts.envelope import new_uuid7
from movieverse.gateway.app import Gateway
from movieverse.platform.db import utcnow
from movieverse.services.notifications import service
from movieverse.services.notifications.models import Delivery, Notification, RepeatMark, inbox
from movieverse.services.notifications.repository import NotificationsRepository
from tests.services.notifications.conftest import Receiver, notifications_gateway
from tests.support import Account, admin_account, eventually, signed_up

WINDOW = 3600.0


async def _count(gateway: Gateway, statement: Any) -> int:
    ctx = gateway.services["notifications"].state.ctx
    async with ctx.db.unit_of_work(write=False) as session:
        return int((await session.execute(statement)).scalar_one())


def _likes_handled() -> Any:
    return select(func.count()).select_from(inbox).where(inbox.c.consumer == "review-likes")


async def _author_with_review(
    gateway: Gateway, client: httpx.AsyncClient, receiver: Receiver
) -> tuple[Account, str, str]:
    admin = await admin_account(gateway, client, "toggle_admin")
    movie = await client.post("/movies", json={"title": "Heat"}, headers=admin.headers)
    assert movie.status_code == 201, movie.text
    author = await signed_up(client, "toggle_author")
    hook = await client.post(
        "/notifications/webhooks", json={"url": receiver.url}, headers=author.headers
    )
    assert hook.status_code == 201, hook.text
    review = await client.post(
        f"/movies/{movie.json()['id']}/reviews", json={"title": "Tense"}, headers=author.headers
    )
    assert review.status_code == 201, review.text
    return author, review.json()["id"], hook.json()["id"]


async def _toggle(client: httpx.AsyncClient, fan: Account, review_id: str, times: int) -> None:
    for _ in range(times):
        liked = await client.put(f"/reviews/{review_id}/like", headers=fan.headers)
        assert liked.status_code in {200, 201, 204}, liked.text
        unliked = await client.delete(f"/reviews/{review_id}/like", headers=fan.headers)
        assert unliked.status_code == 204, unliked.text


async def test_fifty_like_toggles_notify_once_and_again_after_the_window(
    tmp_path: Path, receiver: Receiver, any_database: str | None
) -> None:
    async with notifications_gateway(
        tmp_path, database_url=any_database, dedup_window_seconds=WINDOW
    ) as (gateway, client):
        author, review_id, hook_id = await _author_with_review(gateway, client, receiver)
        fan = await signed_up(client, "toggle_fan")
        await _toggle(client, fan, review_id, 50)

        async def handled(count: int) -> bool:
            return await _count(gateway, _likes_handled()) == count

        # Every like event was handled (a notification it made would be committed with it).
        await eventually(lambda: handled(50), within=60)

        async def deliveries_sent(count: int) -> bool:
            url = f"/notifications/webhooks/{hook_id}/deliveries"
            history = (await client.get(url, headers=author.headers)).json()
            return [d["status"] for d in history] == ["sent"] * count

        await eventually(lambda: deliveries_sent(1), within=10)
        feed = (await client.get("/notifications", headers=author.headers)).json()["results"]
        assert [n["kind"] for n in feed] == ["review_liked"]
        assert await _count(gateway, select(func.count()).select_from(Delivery)) == 1
        assert len(receiver.received) == 1

        # A day later (the clock moved past the window): the like is news again, once.
        outlets: service.Outlets = gateway.services["notifications"].state.ctx.runtime.outlets
        outlets.clock = lambda: utcnow() + timedelta(seconds=WINDOW + 60)
        await _toggle(client, fan, review_id, 3)
        await eventually(lambda: handled(53), within=30)
        await eventually(lambda: deliveries_sent(2), within=10)
        feed = (await client.get("/notifications", headers=author.headers)).json()["results"]
        assert [n["kind"] for n in feed] == ["review_liked", "review_liked"]
        assert len(receiver.received) == 2


async def test_concurrent_consumers_of_distinct_like_events_notify_once(
    tmp_path: Path, any_database: str | None
) -> None:
    """Eight deliveries of eight like events of one fan and review, each in its own
    transaction at once (several consumers, at-least-once): one notification. A transaction the
    database aborts (a deadlock, a serialisation failure) is retried, as the bus would."""
    stack = notifications_gateway(tmp_path, database_url=any_database, run_worker=False)
    async with stack as (gateway, _):
        ctx = gateway.services["notifications"].state.ctx
        outlets: service.Outlets = ctx.runtime.outlets
        author, fan, review_id = new_uuid7(), new_uuid7(), new_uuid7()

        async def consume(event_id: UUID) -> int:
            for attempt in range(1, 6):
                try:
                    async with ctx.db.unit_of_work(urgent=True) as session:
                        await service.on_review_liked(
                            session, outlets, event_id=event_id, review_id=review_id,
                            movie_id=1, author_id=author, liker_id=fan, liker="fan",
                        )  # fmt: skip
                    return attempt
                except DBAPIError:
                    continue
            raise AssertionError("a like was never handled")

        await asyncio.gather(*(consume(new_uuid7()) for _ in range(8)))
        made = select(func.count()).select_from(Notification).where(Notification.user_id == author)
        assert await _count(gateway, made) == 1
        marks = select(func.count()).select_from(RepeatMark).where(RepeatMark.user_id == author)
        assert await _count(gateway, marks) == 1

        # Past the window, the mark is taken over by exactly one of several again.
        outlets.clock = lambda: utcnow() + timedelta(days=2)
        await asyncio.gather(*(consume(new_uuid7()) for _ in range(8)))
        assert await _count(gateway, made) == 2

        # A deleted user's marks go with them, whichever side they were on.
        async with ctx.db.unit_of_work() as session:
            await NotificationsRepository(session).erase(fan)
        assert await _count(gateway, marks) == 0


async def test_other_fans_and_other_reviews_are_news(tmp_path: Path) -> None:
    async with notifications_gateway(tmp_path, run_worker=False) as (gateway, _):
        ctx = gateway.services["notifications"].state.ctx
        outlets: service.Outlets = ctx.runtime.outlets
        author = new_uuid7()
        fans, reviews = [new_uuid7(), new_uuid7()], [new_uuid7(), new_uuid7()]
        async with ctx.db.unit_of_work() as session:
            for fan in fans:
                for review in reviews:
                    for _ in range(2):
                        await service.on_review_liked(
                            session, outlets, event_id=new_uuid7(), review_id=review,
                            movie_id=1, author_id=author, liker_id=fan, liker=None,
                        )  # fmt: skip
        made = select(func.count()).select_from(Notification).where(Notification.user_id == author)
        assert await _count(gateway, made) == 4  # one per fan and review, not per like

        # Marks past the window are pruned; the ones within it stay.
        async with ctx.db.unit_of_work() as session:
            repo = NotificationsRepository(session)
            assert await repo.prune_repeats(utcnow() - timedelta(hours=1)) == 0
            assert await repo.prune_repeats(utcnow() + timedelta(seconds=1)) == 4
