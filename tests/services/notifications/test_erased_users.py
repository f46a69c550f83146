"""Late events never bring a deleted user's data back.

Consumer groups (accounts, preferences, watchlists, likes, comments) handle events each at
their own pace, so an event of a user can be handled after their erasure -- after its second,
late pass too. Whatever would make a row of that user (a recipient, a watch, a notification, a
repeat mark) asks the erasure ledger first."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

from sqlalchemy import func, or_, select

from movieverse.contracts.auth import UserRegistered
from movieverse.contracts.envelope import EventPayload
from movieverse.contracts.reviews import ReviewLiked
from movieverse.contracts.users import PreferencesChanged, UserListChanged
from movieverse.gateway.app import Gateway
from movieverse.platform.erasure import ErasureLedger
from movieverse.platform.events import new_event
from movieverse.services.notifications.models import Notification, Recipient, RepeatMark, Watch
from tests.services.notifications.conftest import NotificationsApp
from tests.support import eventually, signed_up


async def _count(gateway: Gateway, statement: Any) -> int:
    ctx = gateway.services["notifications"].state.ctx
    async with ctx.db.unit_of_work(write=False) as session:
        return int((await session.execute(statement)).scalar_one())


async def _rows_of(gateway: Gateway, user_id: UUID) -> dict[str, int]:
    """How many rows of each kind notifications keeps of this user."""
    return {
        "recipients": await _count(
            gateway, select(func.count()).where(Recipient.user_id == user_id)
        ),
        "watches": await _count(gateway, select(func.count()).where(Watch.user_id == user_id)),
        "notifications": await _count(
            gateway, select(func.count()).where(Notification.user_id == user_id)
        ),
        "repeat marks": await _count(
            gateway,
            select(func.count()).where(
                or_(RepeatMark.user_id == user_id, RepeatMark.actor_id == user_id)
            ),
        ),
    }


async def _late(gateway: Gateway, payload: EventPayload, producer: str, key: str) -> None:
    """Deliver an event now (the in-process bus returns once every group has handled it)."""
    ctx = gateway.services["notifications"].state.ctx
    await ctx.bus.publish(new_event(payload, producer=producer, key=key))


async def test_late_events_of_an_erased_user_make_nothing_of_theirs(
    notifications: NotificationsApp, heat: int
) -> None:
    gateway, client = notifications
    ctx = gateway.services["notifications"].state.ctx
    ledger: ErasureLedger = ctx.runtime.erasures
    gone, fan = await signed_up(client, "gone_user"), await signed_up(client, "still_here")
    gone_id, fan_id = UUID(gone.user_id), UUID(fan.user_id)

    async def known() -> bool:
        return (await _rows_of(gateway, gone_id))["recipients"] == 1

    await eventually(known)
    assert (await client.delete("/users/me", headers=gone.headers)).status_code == 204

    async def erased() -> bool:
        async with ctx.db.unit_of_work(write=False) as session:
            recorded = await ledger.is_erased(session, gone_id)
        return recorded and (await _rows_of(gateway, gone_id))["recipients"] == 0

    await eventually(erased)

    # Events of theirs handled late, one for every handler that makes a row of a user.
    await _late(
        gateway,
        UserRegistered(user_id=gone_id, username=gone.username, email=gone.email),
        "auth",
        gone.user_id,
    )
    await _late(
        gateway,
        PreferencesChanged(user_id=gone_id, notifications={"email": True}),
        "users",
        gone.user_id,
    )
    await _late(
        gateway,
        UserListChanged(user_id=gone_id, list="watchlist", movie_id=heat, action="added"),
        "users",
        gone.user_id,
    )
    # A like of their review, and a like of theirs.
    for author, liker in ((gone_id, fan_id), (fan_id, gone_id)):
        like = ReviewLiked(
            review_id=uuid4(), movie_id=heat, author_id=author, liker_id=liker,
            liker_username="someone",
        )  # fmt: skip
        await _late(gateway, like, "reviews", str(heat))

    assert await _rows_of(gateway, gone_id) == {
        "recipients": 0,
        "watches": 0,
        "notifications": 0,
        "repeat marks": 0,
    }
    assert (await _rows_of(gateway, fan_id))["notifications"] == 0  # their like is gone

    # The same handlers still serve everyone else.
    await _late(
        gateway,
        UserListChanged(user_id=fan_id, list="watchlist", movie_id=heat, action="added"),
        "users",
        fan.user_id,
    )
    stranger_likes = ReviewLiked(
        review_id=uuid4(), movie_id=heat, author_id=fan_id, liker_id=uuid4(),
        liker_username="stranger",
    )  # fmt: skip
    await _late(gateway, stranger_likes, "reviews", str(heat))
    rows = await _rows_of(gateway, fan_id)
    assert (rows["watches"], rows["notifications"]) == (1, 1)
