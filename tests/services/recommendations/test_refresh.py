"""The refresher on its own: one refresh per waiting user who opened their page lately, retried
while ai is behind, failures dropped, one model call at a time."""

from __future__ import annotations

import asyncio
import uuid
from uuid import UUID

import pytest

from movieverse.services.recommendations.refresh import Refresher
from tests.support import eventually

FAST = (0.0, 0.01, 0.01)


def visitors(refresher: Refresher, count: int) -> list[UUID]:
    """New users who have each opened their recommendations once."""
    users = [uuid.uuid4() for _ in range(count)]
    for user in users:
        refresher.visited(user)
    return users


async def test_a_user_asked_for_twice_before_the_refresh_is_refreshed_once() -> None:
    calls: list[UUID] = []

    async def refresh(user: UUID) -> bool:
        calls.append(user)
        return True

    refresher = Refresher(refresh=refresh, delays=FAST)
    alice, bob = visitors(refresher, 2)
    refresher.request([alice, bob, alice])
    refresher.request([alice])

    async def settled() -> bool:
        return refresher.refreshed == 2 and refresher.waiting == 0

    await eventually(settled)
    assert sorted(calls) == sorted([alice, bob])
    await refresher.close()


async def test_an_answer_that_is_behind_is_tried_again_then_given_up() -> None:
    attempts: dict[UUID, int] = {}
    ready_after = {"late": 2, "never": 99}
    names: dict[UUID, str] = {}

    async def refresh(user: UUID) -> bool:
        attempts[user] = attempts.get(user, 0) + 1
        return attempts[user] >= ready_after[names[user]]

    refresher = Refresher(refresh=refresh, delays=FAST)
    late, never = visitors(refresher, 2)
    names.update({late: "late", never: "never"})
    refresher.request([late, never])

    async def settled() -> bool:
        return refresher.refreshed + refresher.gave_up == 2

    await eventually(settled)
    assert attempts == {late: 2, never: len(FAST)}
    assert (refresher.refreshed, refresher.gave_up) == (1, 1)
    await refresher.close()


async def test_a_failing_refresh_is_logged_and_retried_not_raised(
    caplog: pytest.LogCaptureFixture,
) -> None:
    attempts = 0

    async def refresh(_user: UUID) -> bool:
        nonlocal attempts
        attempts += 1
        if attempts == 1:
            raise ConnectionError("ai is restarting")
        return True

    refresher = Refresher(refresh=refresh, delays=FAST)
    refresher.request(visitors(refresher, 1))

    async def refreshed() -> bool:
        return refresher.refreshed == 1

    await eventually(refreshed)
    assert "refreshing recommendations" in caplog.text
    await refresher.close()


async def test_one_refresh_runs_at_a_time_and_close_stops_the_rest() -> None:
    running = 0
    most = 0
    release = asyncio.Event()

    async def refresh(_user: UUID) -> bool:
        nonlocal running, most
        running += 1
        most = max(most, running)
        await release.wait()
        running -= 1
        return True

    refresher = Refresher(refresh=refresh, delays=FAST)
    refresher.request(visitors(refresher, 5))
    await asyncio.sleep(0.05)
    assert most == 1
    await refresher.close()
    assert refresher.refreshed == 0


async def test_past_its_limit_a_change_is_dropped_not_queued() -> None:
    async def refresh(_user: UUID) -> bool:
        return True

    refresher = Refresher(refresh=refresh, delays=(10.0,), max_waiting=2)
    refresher.request(visitors(refresher, 3))
    assert refresher.waiting == 2
    assert refresher.dropped == 1
    await refresher.close()


async def test_a_new_model_refreshes_the_latest_visitors_latest_first() -> None:
    order: list[UUID] = []

    async def refresh(user: UUID) -> bool:
        order.append(user)
        return True

    refresher = Refresher(refresh=refresh, delays=(0.0,))
    first, second, third = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    for user in (first, second, third, first):
        refresher.visited(user)
    refresher.request_recent_visitors()

    async def settled() -> bool:
        return refresher.idle

    await eventually(settled)
    assert order == [first, third, second]
    await refresher.close()


async def test_only_users_who_opened_their_page_lately_are_refreshed() -> None:
    """A refresh costs about what a rating write costs; for a user who never looks at their
    recommendations nobody would read it. Their first visit makes them a visitor."""
    calls: list[UUID] = []

    async def refresh(user: UUID) -> bool:
        calls.append(user)
        return True

    refresher = Refresher(refresh=refresh, delays=(0.0,))
    (regular,) = visitors(refresher, 1)
    newcomer = uuid.uuid4()
    refresher.request([regular, newcomer])

    async def settled() -> bool:
        return refresher.idle

    await eventually(settled)
    assert calls == [regular]
    assert refresher.not_visitors == 1

    refresher.visited(newcomer)
    refresher.request([newcomer])
    await eventually(settled)
    assert calls == [regular, newcomer]
    await refresher.close()
