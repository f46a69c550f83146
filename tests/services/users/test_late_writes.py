"""Writes that were already past their token check when the account was deleted.

Such a write can commit after a service's erasure ran. Each service that keeps what users write
records the erasure and erases once more after a grace period; these tests make the late writes
directly (as a request already inside the service would) and then run that second pass.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from uuid import UUID

import httpx
from sqlalchemy import func, select

from movieverse.gateway.app import Gateway
from movieverse.platform.db import utcnow
from movieverse.platform.erasure import ErasureLedger
from movieverse.platform.security import Principal
from movieverse.services.notifications.models import Webhook
from movieverse.services.reviews import service as reviews_service
from movieverse.services.reviews.models import MovieRatings, Rating, Review
from movieverse.services.reviews.schemas import ReviewCreate
from movieverse.services.users.models import ListItem, ListKind, Profile
from movieverse.services.users.service import _new_profile
from tests.support import eventually, signed_up

LATER = timedelta(hours=2)


async def _count(gateway: Gateway, service: str, column: object, user_id: UUID) -> int:
    ctx = gateway.services[service].state.ctx
    async with ctx.db.unit_of_work(write=False) as session:
        found = await session.execute(select(func.count()).where(column == user_id))  # type: ignore[arg-type]
        return int(found.scalar_one())


async def test_the_second_pass_erases_what_landed_after_the_erasure(
    gateway: tuple[Gateway, httpx.AsyncClient],
) -> None:
    app, client = gateway
    ana = await signed_up(client, "ana_late")
    user_id = UUID(ana.user_id)
    assert (await client.put("/movies/2/rating", headers=ana.headers, json={"value": 8})).is_success
    assert (await client.delete("/users/me", headers=ana.headers)).status_code == 204

    async def first_pass_done() -> bool:
        return await _count(app, "reviews", Rating.user_id, user_id) == 0

    await eventually(first_pass_done)

    # Late writes, each as a request already past its token check would make it.
    principal = Principal(
        user_id=user_id,
        roles=frozenset({"user"}),
        session_id="s",
        username="ana_late",
        token_id="t",
    )
    reviews = app.services["reviews"].state.ctx
    await reviews_service.set_rating(
        writes=reviews.db.writes,
        outbox=reviews.outbox,
        catalog=reviews.runtime.catalog,
        principal=principal,
        movie_id=5,
        value=6.0,
    )
    async with reviews.db.unit_of_work() as session:
        await reviews_service.create_review(
            session,
            outbox=reviews.outbox,
            catalog=reviews.runtime.catalog,
            principal=principal,
            movie_id=5,
            data=ReviewCreate(title="Late", body="Landed after the erasure."),
        )
    users = app.services["users"].state.ctx
    async with users.db.unit_of_work() as session:
        session.add(_new_profile(user_id, "ana_late"))
        session.add(
            ListItem(user_id=user_id, kind=ListKind.WATCHLIST, movie_id=9, added_at=utcnow())
        )
    notifications = app.services["notifications"].state.ctx
    async with notifications.db.unit_of_work() as session:
        session.add(
            Webhook(
                id=uuid.uuid4(),
                owner_id=user_id,
                all_users=False,
                url="http://127.0.0.1:9/late",
                secret="s" * 32,
                kinds=[],
                active=True,
                consecutive_failures=0,
                created_at=utcnow(),
            )
        )
    assert await _count(app, "reviews", Rating.user_id, user_id) == 1
    assert await _count(app, "reviews", Review.user_id, user_id) == 1
    assert await _count(app, "users", Profile.user_id, user_id) == 1
    assert await _count(app, "notifications", Webhook.owner_id, user_id) == 1

    # The grace period has not passed: the second pass leaves them (a request may still run).
    ledgers: dict[str, ErasureLedger] = {
        name: app.services[name].state.ctx.runtime.erasures
        for name in ("reviews", "users", "notifications")
    }
    assert [await ledger.sweep() for ledger in ledgers.values()] == [0, 0, 0]

    # After it, everything goes; each user is swept once.
    swept = [await ledger.sweep(now=utcnow() + LATER) for ledger in ledgers.values()]
    assert swept == [1, 1, 1]
    assert await _count(app, "reviews", Rating.user_id, user_id) == 0
    assert await _count(app, "reviews", Review.user_id, user_id) == 0
    assert await _count(app, "users", Profile.user_id, user_id) == 0
    assert await _count(app, "users", ListItem.user_id, user_id) == 0
    assert await _count(app, "notifications", Webhook.owner_id, user_id) == 0
    assert [await ledger.sweep(now=utcnow() + LATER) for ledger in ledgers.values()] == [0, 0, 0]

    # The movie's totals followed the late rating's removal.
    async with reviews.db.unit_of_work(write=False) as session:
        totals = await session.get(MovieRatings, 5)
    assert totals is not None
    assert (totals.count, totals.half_points_sum) == (0, 0)
