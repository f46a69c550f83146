"""Notifications in app, by email and by webhook, from what happens elsewhere (likes, replies,
new reviews of watched movies, release dates, broadcasts) -- each exactly once."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any
from uuid import UUID

import httpx
import orjson
import pytest
from sqlalchemy import func, select

from movieverse.gateway.app import Gateway
from movieverse.platform.db import utcnow
from movieverse.platform.errors import BadRequest
from movieverse.platform.events import new_event
from movieverse.services.notifications import service as notifications_service
from movieverse.services.notifications.models import PendingDigest, Recipient, Watch
from movieverse.services.notifications.signing import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    sign,
    verify,
)
from tests.services.notifications.conftest import Mailbox, NotificationsApp, Receiver
from tests.support import Account, eventually, signed_up


async def _feed(client: httpx.AsyncClient, account: Account, **params: Any) -> dict[str, Any]:
    response = await client.get("/notifications", params=params, headers=account.headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def _kinds(client: httpx.AsyncClient, account: Account) -> list[str]:
    return [n["kind"] for n in (await _feed(client, account))["results"]]


async def _review(client: httpx.AsyncClient, author: Account, movie_id: int) -> str:
    response = await client.post(
        f"/movies/{movie_id}/reviews", json={"title": "Worth it"}, headers=author.headers
    )
    assert response.status_code == 201, response.text
    review_id: str = response.json()["id"]
    return review_id


async def _recipient_known(gateway: Gateway, account: Account, **settings: bool) -> None:
    """Wait until notifications' copy of the user (from auth and users events) is there, with
    these settings: likes and broadcasts find only the recipients it knows."""
    ctx = gateway.services["notifications"].state.ctx

    async def known() -> bool:
        async with ctx.db.unit_of_work(write=False) as session:
            found = await session.get(Recipient, UUID(account.user_id))
        if found is None or found.email is None:
            return False
        return all(found.settings.get(k) == v for k, v in settings.items())

    await eventually(known, within=10)


async def _watch_known(gateway: Gateway, account: Account, movie_id: int) -> None:
    ctx = gateway.services["notifications"].state.ctx

    async def known() -> bool:
        async with ctx.db.unit_of_work(write=False) as session:
            query = select(Watch).where(
                Watch.user_id == UUID(account.user_id), Watch.movie_id == movie_id
            )
            return (await session.execute(query)).first() is not None

    await eventually(known, within=10)


async def _digest_waits(gateway: Gateway, account: Account, *, reviews: int) -> None:
    ctx = gateway.services["notifications"].state.ctx

    async def gathered() -> bool:
        async with ctx.db.unit_of_work(write=False) as session:
            query = select(func.count()).where(PendingDigest.user_id == UUID(account.user_id))
            return int((await session.execute(query)).scalar_one()) == reviews

    await eventually(gathered)


async def _wait_kinds(client: httpx.AsyncClient, account: Account, expected: list[str]) -> None:
    """Wait for exactly these kinds, in any order: events of different consumer groups (likes,
    comments) are applied independently, so which came first is not promised."""

    async def arrived() -> bool:
        return sorted(await _kinds(client, account)) == sorted(expected)

    await eventually(arrived, within=10)


async def test_likes_and_replies_notify_in_app(notifications: NotificationsApp, heat: int) -> None:
    _, client = notifications
    author, fan = await signed_up(client, "note_author"), await signed_up(client, "note_fan")
    review_id = await _review(client, author, heat)
    await client.put(f"/reviews/{review_id}/like", headers=fan.headers)
    comment = await client.post(
        f"/reviews/{review_id}/comments", json={"body": "Great"}, headers=fan.headers
    )
    await client.post(
        f"/reviews/{review_id}/comments",
        json={"body": "Thanks", "parent_id": comment.json()["id"]},
        headers=author.headers,
    )
    await _wait_kinds(client, author, ["review_comment", "review_liked"])
    await _wait_kinds(client, fan, ["comment_reply"])
    first = next(n for n in (await _feed(client, author))["results"] if n["kind"] == "review_liked")
    assert first["title"] == "note_fan liked your review"
    assert first["data"]["review_id"] == review_id
    assert first["read"] is False

    count = await client.get("/notifications/unread_count", headers=author.headers)
    assert count.json() == {"unread": 2}
    read = await client.post(f"/notifications/{first['id']}/read", headers=author.headers)
    assert read.status_code == 204
    assert (await client.get("/notifications/unread_count", headers=author.headers)).json() == {
        "unread": 1
    }
    await client.post("/notifications/read_all", headers=author.headers)
    assert (await client.get("/notifications/unread_count", headers=author.headers)).json() == {
        "unread": 0
    }
    # Someone else's notification is not there to read or delete.
    assert (
        await client.post(f"/notifications/{first['id']}/read", headers=fan.headers)
    ).status_code == 404
    deleted = await client.delete(f"/notifications/{first['id']}", headers=author.headers)
    assert deleted.status_code == 204
    assert await _kinds(client, author) == ["review_comment"]
    assert (await client.get("/notifications")).status_code == 401


async def test_a_redelivered_event_never_notifies_twice(
    notifications: NotificationsApp, heat: int
) -> None:
    gateway, client = notifications
    author, fan = await signed_up(client, "dupe_author"), await signed_up(client, "dupe_fan")
    review_id = await _review(client, author, heat)
    await client.put(f"/reviews/{review_id}/like", headers=fan.headers)
    await _wait_kinds(client, author, ["review_liked"])
    ctx = gateway.services["notifications"].state.ctx
    outlets = ctx.runtime.outlets
    like_event = new_event(
        notifications_like(review_id, heat, author, fan), producer="reviews", key=str(heat)
    )
    # Twice through the bus (the inbox skips the repeat) and twice past it (the dedupe key does).
    await ctx.bus.publish(like_event)
    await ctx.bus.publish(like_event)
    for _ in range(2):
        async with ctx.db.unit_of_work() as session:
            await notifications_service.on_review_liked(
                session, outlets, event_id=like_event.id, review_id=UUID(review_id),
                movie_id=heat, author_id=UUID(author.user_id), liker_id=UUID(fan.user_id),
                liker="dupe_fan",
            )  # fmt: skip
    # The second like event (the same fan, the same review) is a repeat within the window: it
    # tells the author nothing new (test_repeated_likes.py).
    assert await _kinds(client, author) == ["review_liked"]


def notifications_like(review_id: str, movie_id: int, author: Account, fan: Account) -> Any:
    from movieverse.contracts.reviews import ReviewLiked

    return ReviewLiked(
        review_id=UUID(review_id),
        movie_id=movie_id,
        author_id=UUID(author.user_id),
        liker_id=UUID(fan.user_id),
        liker_username="dupe_fan",
    )


async def test_feed_pages_by_cursor(notifications: NotificationsApp, admin: Account) -> None:
    gateway, client = notifications
    reader = await signed_up(client, "cursor_reader")
    await _recipient_known(gateway, reader)
    for n in range(5):
        made = await client.post(
            "/notifications/broadcasts",
            json={"title": f"News {n}", "body": "Hello"},
            headers=admin.headers,
        )
        assert made.status_code == 201, made.text
        assert made.json()["recipients"] >= 2  # the reader and the admin
    first = await _feed(client, reader, limit=2)
    assert [n["title"] for n in first["results"]] == ["News 4", "News 3"]
    second = await _feed(client, reader, limit=2, cursor=first["next_cursor"])
    third = await _feed(client, reader, limit=2, cursor=second["next_cursor"])
    assert [n["title"] for n in second["results"] + third["results"]] == [
        "News 2", "News 1", "News 0",
    ]  # fmt: skip
    assert third["next_cursor"] is None
    bad = await client.get("/notifications", params={"cursor": "garbage"}, headers=reader.headers)
    assert bad.status_code == 400
    not_admin = await client.post(
        "/notifications/broadcasts", json={"title": "x", "body": "y"}, headers=reader.headers
    )
    assert not_admin.status_code == 403


async def test_settings_turn_topics_off_and_email_on(
    notifications: NotificationsApp, heat: int, mailbox: tuple[Mailbox, int]
) -> None:
    gateway, client = notifications
    box, _ = mailbox
    quiet, mailed, fan = (
        await signed_up(client, "quiet_user"),
        await signed_up(client, "mailed_user"),
        await signed_up(client, "topic_fan"),
    )
    off = {"notifications": {"review_likes": False}}
    assert (
        await client.patch("/users/me/preferences", json=off, headers=quiet.headers)
    ).status_code == 200
    on = {"notifications": {"email": True}}
    await client.patch("/users/me/preferences", json=on, headers=mailed.headers)
    await _recipient_known(gateway, quiet, review_likes=False)
    await _recipient_known(gateway, mailed, email=True)
    quiet_review = await _review(client, quiet, heat)
    mailed_review = await _review(client, mailed, heat)
    await client.put(f"/reviews/{quiet_review}/like", headers=fan.headers)
    await client.put(f"/reviews/{mailed_review}/like", headers=fan.headers)
    await _wait_kinds(client, mailed, ["review_liked"])
    assert await _kinds(client, quiet) == []  # opted out of likes

    async def mailed_once() -> bool:
        return len(box.messages) == 1

    await eventually(mailed_once, within=10)
    message = box.messages[0]
    assert message["To"] == mailed.email
    assert message["Subject"] == "topic_fan liked your review"
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert text is not None
    assert html is not None
    assert "topic_fan liked your review." in text.get_content()
    assert f"/movies/{heat}" in html.get_content()


async def test_webhooks_are_signed_retried_and_disabled(
    notifications: NotificationsApp, heat: int, receiver: Receiver
) -> None:
    _, client = notifications
    owner, fan = await signed_up(client, "hook_owner"), await signed_up(client, "hook_fan")
    made = await client.post(
        "/notifications/webhooks", json={"url": receiver.url}, headers=owner.headers
    )
    assert made.status_code == 201, made.text
    hook = made.json()
    secret = hook["secret"]
    listed = (await client.get("/notifications/webhooks", headers=owner.headers)).json()
    assert [h["id"] for h in listed] == [hook["id"]]
    assert "secret" not in listed[0]  # shown once, at creation

    review_id = await _review(client, owner, heat)
    await client.put(f"/reviews/{review_id}/like", headers=fan.headers)

    async def delivered(count: int) -> bool:
        return len(receiver.received) == count

    await eventually(lambda: delivered(1), within=10)
    delivery = receiver.received[0]
    assert verify(
        secret,
        timestamp=delivery.headers[TIMESTAMP_HEADER],
        signature=delivery.headers[SIGNATURE_HEADER],
        body=delivery.body,
        now=time.time(),
        tolerance=300,
    )
    payload = orjson.loads(delivery.body)
    assert payload["type"] == "notification.created"
    assert payload["notification"]["kind"] == "review_liked"
    history_url = f"/notifications/webhooks/{hook['id']}/deliveries"

    async def history() -> list[dict[str, Any]]:
        body: list[dict[str, Any]] = (await client.get(history_url, headers=owner.headers)).json()
        return body

    async def recorded_sent() -> bool:
        # The receiver has the payload before the worker commits what it answered.
        return [d["status"] for d in await history()] == ["sent"]

    await eventually(recorded_sent, within=10)

    # The receiver fails now: each delivery is tried 3 times; two failures in a row disable it.
    receiver.status = 500
    for liker in ("hook_two", "hook_three"):
        other = await signed_up(client, liker)
        await client.put(f"/reviews/{review_id}/like", headers=other.headers)

    async def disabled() -> bool:
        hooks = (await client.get("/notifications/webhooks", headers=owner.headers)).json()
        return hooks[0]["active"] is False

    await eventually(disabled, within=15)
    statuses = [d["status"] for d in await history()]
    assert statuses == ["failed", "failed", "sent"]
    assert all(d["attempts"] == 3 for d in (await history())[:2])
    assert len(receiver.received) == 1 + 2 * 3
    hooks = (await client.get("/notifications/webhooks", headers=owner.headers)).json()
    assert "disabled after 2 failed deliveries" in hooks[0]["disabled_reason"]
    # Turned back on by its owner; another's is not theirs to see.
    enabled = await client.post(
        f"/notifications/webhooks/{hook['id']}/enable", headers=owner.headers
    )
    assert enabled.json()["active"] is True
    assert (await client.get(history_url, headers=fan.headers)).status_code == 404
    assert (
        await client.delete(f"/notifications/webhooks/{hook['id']}", headers=owner.headers)
    ).status_code == 204


@pytest.mark.parametrize(
    "url",
    ["ftp://example.org/hook", "http://user:pass@example.org/hook", "not a url", "https://"],
)
async def test_bad_webhook_urls_are_refused(notifications: NotificationsApp, url: str) -> None:
    _, client = notifications
    owner = await signed_up(client, "bad_hooks")
    made = await client.post("/notifications/webhooks", json={"url": url}, headers=owner.headers)
    assert made.status_code in {400, 422}, made.text
    assert (await client.get("/notifications/webhooks", headers=owner.headers)).json() == []


def test_private_targets_are_refused_where_not_allowed() -> None:
    for url in ("http://127.0.0.1/x", "http://10.0.0.5/x", "http://localhost/x", "http://[::1]/x"):
        with pytest.raises(BadRequest):
            notifications_service.check_target(url, private_allowed=False)
    assert notifications_service.check_target("https://hooks.example.org/x", private_allowed=False)
    assert notifications_service.check_target("http://127.0.0.1/x", private_allowed=True)


def test_signatures_refuse_tampering_and_replays() -> None:
    body = b'{"type":"notification.created"}'
    now = 1_800_000_000
    signature = sign("whsec_test", now, body)
    assert verify("whsec_test", timestamp=str(now), signature=signature, body=body, now=now + 10,
                  tolerance=300)  # fmt: skip
    assert not verify("whsec_other", timestamp=str(now), signature=signature, body=body,
                      now=now, tolerance=300)  # fmt: skip
    assert not verify("whsec_test", timestamp=str(now), signature=signature, body=body + b" ",
                      now=now, tolerance=300)  # fmt: skip
    # A replay later on: the old timestamp is refused, and a new one breaks the signature.
    assert not verify("whsec_test", timestamp=str(now), signature=signature, body=body,
                      now=now + 301, tolerance=300)  # fmt: skip
    assert not verify("whsec_test", timestamp=str(now + 301), signature=signature, body=body,
                      now=now + 301, tolerance=300)  # fmt: skip


async def test_new_reviews_of_watched_movies_come_as_one_digest(
    notifications: NotificationsApp, heat: int
) -> None:
    gateway, client = notifications
    watcher = await signed_up(client, "digest_watcher")
    assert (
        await client.put(f"/users/me/watchlist/{heat}", headers=watcher.headers)
    ).status_code in {200, 201}
    await _watch_known(gateway, watcher, heat)
    # The digest gathers what arrives within its window (0.3 s here). So that the verdict never
    # depends on how fast this machine is, the worker's clock stands still in the past until
    # both reviews wait for the digest, then moves on.
    outlets = gateway.services["notifications"].state.ctx.runtime.outlets
    held_at = utcnow() - timedelta(hours=1)
    outlets.clock = lambda: held_at
    try:
        reviewers = [await signed_up(client, name) for name in ("digest_one", "digest_two")]
        for reviewer in reviewers:
            await _review(client, reviewer, heat)
        await _digest_waits(gateway, watcher, reviews=2)
    finally:
        outlets.clock = utcnow
    await _wait_kinds(client, watcher, ["watchlist_reviews"])
    digest = (await _feed(client, watcher))["results"][0]
    assert digest["title"] == "2 new reviews of movies on your watchlist"
    assert "digest_one reviewed Heat" in digest["body"]
    assert digest["data"]["movies"] == ["Heat"]


async def test_watchers_hear_of_a_release_date_and_the_release(
    notifications: NotificationsApp, admin: Account
) -> None:
    gateway, client = notifications
    made = await client.post("/movies", json={"title": "Heat 2"}, headers=admin.headers)
    sequel = made.json()["id"]
    watcher = await signed_up(client, "release_watcher")

    async def watched() -> bool:
        put = await client.put(f"/users/me/watchlist/{sequel}", headers=watcher.headers)
        return put.status_code in {200, 201}  # 404 until users has heard of the movie

    await eventually(watched)
    await _watch_known(gateway, watcher, sequel)
    today = time.strftime("%Y-%m-%d", time.gmtime())
    dated = await client.patch(
        f"/movies/{sequel}", json={"release_date": today}, headers=admin.headers
    )
    assert dated.status_code == 200, dated.text
    await _wait_kinds(client, watcher, ["released", "release_date"])
    titles = [n["title"] for n in (await _feed(client, watcher))["results"]]
    assert titles == ["Heat 2 is out", f"Heat 2 has a release date: {today}"]


async def test_a_deleted_user_is_forgotten(notifications: NotificationsApp, heat: int) -> None:
    gateway, client = notifications
    author, fan = await signed_up(client, "forgotten_one"), await signed_up(client, "forget_fan")
    review_id = await _review(client, author, heat)
    await client.put(f"/reviews/{review_id}/like", headers=fan.headers)
    await _wait_kinds(client, author, ["review_liked"])
    assert (await client.delete("/users/me", headers=author.headers)).status_code == 204
    ctx = gateway.services["notifications"].state.ctx
    from movieverse.services.notifications.repository import NotificationsRepository

    async def forgotten() -> bool:
        async with ctx.db.unit_of_work(write=False) as session:
            repo = NotificationsRepository(session)
            return (
                await repo.recipient(UUID(author.user_id)) is None
                and await repo.unread(UUID(author.user_id)) == 0
            )

    await eventually(forgotten)
