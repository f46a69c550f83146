"""Ratings: one per user per movie, 0.5-10 in half steps, and the movie's score follows them."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
from sqlalchemy import select

from movieverse.services.movies.models import Activity
from movieverse.services.movies.models import outbox as movies_outbox
from tests.services.reviews.conftest import ReviewsApp, outbox_types
from tests.support import Account, eventually, signed_up


async def _movie(client: httpx.AsyncClient, movie_id: int) -> dict[str, object]:
    body: dict[str, object] = (await client.get(f"/movies/{movie_id}")).json()
    return body


async def test_rate_rerate_list_and_remove(reviews: ReviewsApp, movies: dict[str, int]) -> None:
    gateway, client = reviews
    fan = await signed_up(client, "rating_fan")
    heat, amelie = movies["Heat"], movies["Amélie"]
    first = await client.put(f"/movies/{heat}/rating", json={"value": 8.5}, headers=fan.headers)
    assert first.status_code == 200, first.text
    assert first.json()["value"] == 8.5
    await client.put(f"/movies/{amelie}/rating", json={"value": 10}, headers=fan.headers)
    again = await client.put(f"/movies/{heat}/rating", json={"value": 6}, headers=fan.headers)
    assert again.json()["value"] == 6.0
    mine = (await client.get("/users/me/ratings", headers=fan.headers)).json()
    assert mine["total_results"] == 2  # rating again updated, did not add
    assert [(r["movie_id"], r["value"]) for r in mine["results"]] == [(heat, 6.0), (amelie, 10.0)]

    removed = await client.delete(f"/movies/{heat}/rating", headers=fan.headers)
    assert removed.status_code == 204
    assert (await client.delete(f"/movies/{heat}/rating", headers=fan.headers)).status_code == 404
    mine = (await client.get("/users/me/ratings", headers=fan.headers)).json()
    assert [r["movie_id"] for r in mine["results"]] == [amelie]
    types = await outbox_types(gateway)
    assert types.count("reviews.rating.changed") == 4
    assert types.count("reviews.movie_ratings.changed") == 4


@pytest.mark.parametrize("value", [0, 0.25, 10.5, 8.3, -1, "eight", None, True])
async def test_bad_values_are_422_and_change_nothing(
    reviews: ReviewsApp, movies: dict[str, int], value: object
) -> None:
    _, client = reviews
    fan = await signed_up(client, "bad_values")
    response = await client.put(
        f"/movies/{movies['Heat']}/rating", json={"value": value}, headers=fan.headers
    )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert (await client.get("/users/me/ratings", headers=fan.headers)).json()["total_results"] == 0


async def test_unknown_movies_and_missing_tokens(
    reviews: ReviewsApp, movies: dict[str, int]
) -> None:
    _, client = reviews
    fan = await signed_up(client, "unknown_movie")
    missing = await client.put("/movies/424242/rating", json={"value": 7}, headers=fan.headers)
    assert missing.status_code == 404
    anonymous = await client.put(f"/movies/{movies['Heat']}/rating", json={"value": 7})
    assert anonymous.status_code == 401
    assert (await client.get("/users/me/ratings")).status_code == 401


async def test_the_movie_score_pools_the_source_votes_with_the_ratings(
    reviews: ReviewsApp, movies: dict[str, int]
) -> None:
    """Heat arrives with 100 votes averaging 7.0; two users rate it 9 and 4."""
    _, client = reviews
    heat = movies["Heat"]
    first, second = await signed_up(client, "pool_one"), await signed_up(client, "pool_two")
    await client.put(f"/movies/{heat}/rating", json={"value": 9}, headers=first.headers)
    await client.put(f"/movies/{heat}/rating", json={"value": 4}, headers=second.headers)

    async def pooled(count: int, average: float) -> bool:
        movie = await _movie(client, heat)
        return movie["vote_count"] == count and movie["vote_average"] == pytest.approx(
            average, abs=1e-3
        )

    await eventually(lambda: pooled(102, (700 + 13) / 102))
    await client.delete(f"/movies/{heat}/rating", headers=second.headers)
    await eventually(lambda: pooled(101, (700 + 9) / 101))
    # The movie page cache was dropped with each change: the page agrees with discover.
    found = (await client.get("/discover/movies", params={"vote_count.gte": 101})).json()
    assert [m["id"] for m in found["results"]] == [heat]


async def test_simultaneous_rerates_leave_one_rating(
    reviews: ReviewsApp, movies: dict[str, int]
) -> None:
    _, client = reviews
    fan: Account = await signed_up(client, "twice_at_once")
    heat = movies["Heat"]
    answers = await asyncio.gather(
        *(
            client.put(f"/movies/{heat}/rating", json={"value": v}, headers=fan.headers)
            for v in (3, 7.5, 9, 2, 5)
        )
    )
    assert all(a.status_code == 200 for a in answers), [a.text for a in answers]
    mine = (await client.get("/users/me/ratings", headers=fan.headers)).json()
    assert mine["total_results"] == 1
    last = mine["results"][0]["value"]

    async def settled() -> bool:
        movie = await _movie(client, heat)
        # Scores are kept to three decimals.
        return movie["vote_count"] == 101 and movie["vote_average"] == pytest.approx(
            (700 + last) / 101, abs=1e-3
        )

    await eventually(settled)


async def test_a_burst_on_two_movies_settles_both_scores_and_counts_each_rating_once(
    reviews: ReviewsApp, movies: dict[str, int]
) -> None:
    """Concurrent writes reach movies in batches that mix both movies and several versions of
    each: both end at their newest totals, each announced, and trending counts every rating."""
    gateway, client = reviews
    heat, amelie = movies["Heat"], movies["Amélie"]
    fans = [await signed_up(client, f"burst_{i}") for i in range(8)]
    answers = await asyncio.gather(
        *(
            client.put(f"/movies/{movie}/rating", json={"value": 8}, headers=fan.headers)
            for fan in fans
            for movie in (heat, amelie)
        )
    )
    assert all(a.status_code == 200 for a in answers), [a.text for a in answers]

    movies_ctx = gateway.services["movies"].state.ctx

    async def activity() -> list[tuple[int, str]]:
        async with movies_ctx.db.unit_of_work(write=False) as session:
            rows = (await session.execute(select(Activity.movie_id, Activity.kind))).all()
        return [(movie_id, kind) for movie_id, kind in rows]

    async def settled() -> bool:
        # Scores and trending are two consumer groups of movies: each settles at its own pace.
        return (
            (await _movie(client, heat))["vote_count"] == 108
            and (await _movie(client, amelie))["vote_count"] == 58
            and len(await activity()) >= 16
        )

    await eventually(settled)
    assert (await _movie(client, heat))["vote_average"] == pytest.approx((700 + 64) / 108, abs=1e-3)
    assert (await _movie(client, amelie))["vote_average"] == pytest.approx(
        (400 + 64) / 58, abs=1e-3
    )
    kinds = await activity()
    async with movies_ctx.db.unit_of_work(write=False) as session:
        bodies = (
            (await session.execute(select(movies_outbox.c.body).order_by(movies_outbox.c.seq)))
            .scalars()
            .all()
        )
    assert sorted(kinds) == sorted([(heat, "rating")] * 8 + [(amelie, "rating")] * 8)
    updates = [json.loads(b) for b in bodies]
    last_counts = {
        u["payload"]["movie_id"]: u["payload"]["vote_count"]
        for u in updates
        if u["type"] == "movies.movie.updated"
    }
    assert last_counts == {heat: 108, amelie: 58}
