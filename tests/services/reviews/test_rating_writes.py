"""The rating write on the write path (platform/writes.py): each change moves the movie's totals
exactly and announces them once, concurrent writes take turns, and a write that is refused --
bad input, an unknown movie, a session that ended before the commit -- leaves nothing behind."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from typing import Any
from uuid import UUID

import pytest
from sqlalchemy import func, select

from movieverse.gateway.app import Gateway
from movieverse.platform.revocation import user_revocation
from movieverse.services.reviews.models import MovieRatings, Rating, outbox
from tests.services.reviews.conftest import ReviewsApp
from tests.support import signed_up

pytestmark = pytest.mark.services("auth", "movies", "reviews")

TOTALS_EVENT = "reviews.movie_ratings.changed"


async def _totals(gateway: Gateway, movie_id: int) -> tuple[int, int, int] | None:
    """The movie's stored totals: count, sum of half points, version."""
    ctx = gateway.services["reviews"].state.ctx
    async with ctx.db.unit_of_work(write=False) as session:
        row = (
            await session.execute(
                select(
                    MovieRatings.count, MovieRatings.half_points_sum, MovieRatings.version
                ).where(MovieRatings.movie_id == movie_id)
            )
        ).first()
    return None if row is None else (int(row[0]), int(row[1]), int(row[2]))


async def _recount(gateway: Gateway, movie_id: int) -> tuple[int, int]:
    """Count and sum of half points over the movie's stored ratings, from scratch."""
    ctx = gateway.services["reviews"].state.ctx
    async with ctx.db.unit_of_work(write=False) as session:
        row = (
            await session.execute(
                select(func.count(), func.coalesce(func.sum(Rating.half_points), 0)).where(
                    Rating.movie_id == movie_id
                )
            )
        ).one()
    return int(row[0]), int(row[1])


async def _events(gateway: Gateway) -> list[dict[str, Any]]:
    ctx = gateway.services["reviews"].state.ctx
    async with ctx.db.unit_of_work(write=False) as session:
        bodies = (await session.execute(select(outbox.c.body).order_by(outbox.c.seq))).scalars()
        return [json.loads(body) for body in bodies]


async def _announced_totals(gateway: Gateway, movie_id: int) -> list[tuple[int, float, int]]:
    return [
        (e["payload"]["count"], e["payload"]["average"], e["payload"]["version"])
        for e in await _events(gateway)
        if e["type"] == TOTALS_EVENT and e["payload"]["movie_id"] == movie_id
    ]


async def test_replacing_and_removing_ratings_keeps_the_totals_exact(
    reviews: ReviewsApp, movies: dict[str, int]
) -> None:
    gateway, client = reviews
    heat = movies["Heat"]
    ana, ben, cy = [await signed_up(client, f"exact_{name}") for name in ("ana", "ben", "cy")]

    async def rate(account: Any, value: float) -> None:
        answer = await client.put(
            f"/movies/{heat}/rating", json={"value": value}, headers=account.headers
        )
        assert answer.status_code == 200, answer.text
        assert answer.json()["value"] == value

    await rate(ana, 8)
    await rate(ben, 6)
    assert await _totals(gateway, heat) == (2, 28, 2)
    await rate(ana, 3)  # replaces 8: the count stays, the sum moves by the difference
    assert await _totals(gateway, heat) == (2, 18, 3)
    await rate(ana, 3)  # the same value again: no change, no event
    assert await _totals(gateway, heat) == (2, 18, 3)
    assert (await client.delete(f"/movies/{heat}/rating", headers=ben.headers)).status_code == 204
    await rate(cy, 10)
    assert await _totals(gateway, heat) == (2, 26, 5)
    assert await _recount(gateway, heat) == (2, 26)
    # Every change announced once, in order, each with the totals it left.
    assert await _announced_totals(gateway, heat) == [
        (1, 8.0, 1),
        (2, 7.0, 2),
        (2, 4.5, 3),
        (1, 3.0, 4),
        (2, 6.5, 5),
    ]
    changes = [e for e in await _events(gateway) if e["type"] == "reviews.rating.changed"]
    assert [(c["payload"]["value"], c["payload"]["previous"]) for c in changes] == [
        (8.0, None),
        (6.0, None),
        (3.0, 8.0),
        (None, 6.0),
        (10.0, None),
    ]


async def test_first_ratings_of_a_movie_arriving_at_once_each_count_once(
    reviews: ReviewsApp, movies: dict[str, int]
) -> None:
    """The movie has no totals yet: every concurrent first writer may try to create them."""
    gateway, client = reviews
    amelie = movies["Amélie"]
    fans = [await signed_up(client, f"first_{i}") for i in range(10)]
    answers = await asyncio.gather(
        *(
            client.put(f"/movies/{amelie}/rating", json={"value": 1 + i}, headers=fan.headers)
            for i, fan in enumerate(fans)
        )
    )
    assert all(a.status_code == 200 for a in answers), [a.text for a in answers]
    expected_sum = sum(2 * (1 + i) for i in range(10))
    assert await _totals(gateway, amelie) == (10, expected_sum, 10)
    assert await _recount(gateway, amelie) == (10, expected_sum)
    assert [version for *_, version in await _announced_totals(gateway, amelie)] == list(
        range(1, 11)
    )


async def test_one_user_rerating_at_once_leaves_one_rating_and_exact_totals(
    reviews: ReviewsApp, movies: dict[str, int]
) -> None:
    gateway, client = reviews
    fan = await signed_up(client, "rerates_at_once")
    heat = movies["Heat"]
    values = (3, 7.5, 9, 2, 5)
    answers = await asyncio.gather(
        *(
            client.put(f"/movies/{heat}/rating", json={"value": v}, headers=fan.headers)
            for v in values
        )
    )
    assert all(a.status_code == 200 for a in answers), [a.text for a in answers]
    mine = (await client.get("/users/me/ratings", headers=fan.headers)).json()
    assert mine["total_results"] == 1
    last = mine["results"][0]["value"]
    assert await _totals(gateway, heat) == (1, int(2 * last), len(values))
    announced = await _announced_totals(gateway, heat)
    assert [version for *_, version in announced] == list(range(1, len(values) + 1))
    assert announced[-1] == (1, last, len(values))


async def test_refused_ratings_change_nothing(reviews: ReviewsApp, movies: dict[str, int]) -> None:
    gateway, client = reviews
    fan = await signed_up(client, "refused_rater")
    before = await _events(gateway)
    unknown = await client.put("/movies/424242/rating", json={"value": 7}, headers=fan.headers)
    assert unknown.status_code == 404
    assert unknown.headers["content-type"].startswith("application/problem+json")
    bad = await client.put(
        f"/movies/{movies['Heat']}/rating", json={"value": 7.3}, headers=fan.headers
    )
    assert bad.status_code == 422
    assert bad.headers["content-type"].startswith("application/problem+json")
    never_rated = await client.delete(f"/movies/{movies['Heat']}/rating", headers=fan.headers)
    assert never_rated.status_code == 404
    assert never_rated.headers["content-type"].startswith("application/problem+json")
    assert await _events(gateway) == before
    assert await _totals(gateway, movies["Heat"]) in (None, (0, 0, 0))
    assert (await client.get("/users/me/ratings", headers=fan.headers)).json()["total_results"] == 0


class _HeldCatalog:
    """A catalog whose answer waits until released: the rating write is then past its token
    check and not yet committed."""

    def __init__(self) -> None:
        self.entered = asyncio.Event()
        self.release = asyncio.Event()

    async def movie_exists(self, movie_id: int) -> bool:
        self.entered.set()
        await self.release.wait()
        return True


@pytest.mark.parametrize("verb", ["put", "delete"])
async def test_a_rating_of_an_account_deleted_before_the_commit_is_refused(
    reviews: ReviewsApp, movies: dict[str, int], verb: str
) -> None:
    gateway, client = reviews
    heat = movies["Heat"]
    fan = await signed_up(client, f"late_{verb}")
    kept = await client.put(f"/movies/{heat}/rating", json={"value": 6}, headers=fan.headers)
    assert kept.status_code == 200
    before = await _events(gateway)
    ctx = gateway.services["reviews"].state.ctx
    deleted = [user_revocation(UUID(fan.user_id))]
    real, held = ctx.runtime, _HeldCatalog()
    ctx.runtime = dataclasses.replace(real, catalog=held)
    try:
        if verb == "put":
            late = asyncio.create_task(
                client.put(f"/movies/{heat}/rating", json={"value": 9}, headers=fan.headers)
            )
            await held.entered.wait()
            await ctx.shared.revocations.revoke(deleted)
            held.release.set()
        else:
            # Removing asks no catalog: it waits behind a writer holding the movie's totals --
            # for its writer turn on SQLite, for the row's lock on a server.
            async with ctx.db.unit_of_work() as session:
                await session.execute(
                    select(MovieRatings.count)
                    .where(MovieRatings.movie_id == heat)
                    .with_for_update()
                )
                late = asyncio.create_task(
                    client.delete(f"/movies/{heat}/rating", headers=fan.headers)
                )
                await asyncio.sleep(0.1)
                await ctx.shared.revocations.revoke(deleted)
        response = await late
    finally:
        ctx.runtime = real
    assert response.status_code == 401, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert await _events(gateway) == before
    assert await _totals(gateway, heat) == (1, 12, 1)
