"""The all-in-one process (`movieverse up`) holds one admission limit, in front of its dispatch.

Requests are held inside the app by a request body the test has not sent yet: each is admitted
and waiting on its body, so "the limit is full" is a state the test arranges, not a timing.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
from sqlalchemy import select

from movieverse.platform.admission import OVERLOADED_TYPE
from movieverse.platform.observability import http_metrics, process_registry
from movieverse.services.movies.models import Movie
from tests.platform.toy_service import HeldBody
from tests.support import Stack, eventually, running_gateway, signed_up

HANG_GUARD_SECONDS = 30
EMBEDDED = Stack("embedded", database_url=None, redis_url=None)


def _refused() -> float:
    value = process_registry().get_sample_value(
        "movieverse_http_requests_refused_total", {"service": "gateway"}
    )
    return value or 0.0


async def test_the_gateway_refuses_past_its_limit_and_keeps_probes_open(tmp_path: Path) -> None:
    settings = EMBEDDED.settings(
        tmp_path / "var", max_in_flight_requests=2, overload_retry_after_seconds=5
    )
    async with running_gateway(settings) as (_, client):
        headers = {"content-type": "application/json"}
        login = b'{"login": "nobody_here", "password": "not-the-password"}'
        bodies = [HeldBody(login) for _ in range(2)]
        held = [
            asyncio.create_task(client.post("/auth/login", content=b.chunks(), headers=headers))
            for b in bodies
        ]
        for body in bodies:
            await asyncio.wait_for(body.asked.wait(), HANG_GUARD_SECONDS)
        before = _refused()

        # Refused without its body being read: this one's body would never come.
        unread = HeldBody(login)
        refused = await asyncio.wait_for(
            client.post("/movies/1/rating", content=unread.chunks(), headers=headers),
            HANG_GUARD_SECONDS,
        )
        assert refused.status_code == 503
        assert refused.headers["retry-after"] == "5"
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.headers["x-request-id"]
        assert refused.json()["type"] == OVERLOADED_TYPE
        assert not unread.asked.is_set()
        assert _refused() == before + 1
        for path in ("/healthz", "/readyz", "/metrics"):
            assert (await client.get(path)).status_code == 200

        for body in bodies:
            body.release.set()
        for task in held:
            answer = await asyncio.wait_for(task, HANG_GUARD_SECONDS)
            assert answer.status_code == 401  # admitted and answered: wrong credentials
        assert (await client.get("/movies/1")).status_code == 200


async def test_in_process_calls_are_not_counted(tmp_path: Path) -> None:
    """A limit of one, taken by a rating whose write asks movies (in process) whether the movie
    exists: were that call counted, it would be refused and the rating would fail."""
    settings = EMBEDDED.settings(tmp_path / "var", max_in_flight_requests=1)
    async with running_gateway(settings) as (_, client):
        account = await signed_up(client, "solo_rater")
        asked = http_metrics().requests.labels("movies", "GET", "/movies/{movie_id}", "200")
        before = asked._value.get()
        before_refused = _refused()

        rated = await client.put("/movies/42/rating", json={"value": 8}, headers=account.headers)

        assert rated.status_code == 200, rated.text
        assert asked._value.get() == before + 1  # the internal call was made, and answered
        assert _refused() == before_refused


async def test_committed_events_flow_while_the_process_refuses(tmp_path: Path) -> None:
    """The event plumbing is no HTTP request: with every slot taken and requests refused, a
    rating committed meanwhile (through the in-process path, which is not counted) still reaches
    the movie's aggregate by its event."""
    settings = EMBEDDED.settings(tmp_path / "var", max_in_flight_requests=2)
    async with running_gateway(settings) as (gateway, client):
        account = await signed_up(client, "event_rater")
        movies_db = gateway.services["movies"].state.ctx.db

        async def ratings_counted() -> int:
            async with movies_db.unit_of_work(write=False) as session:
                query = select(Movie.ratings_count).where(Movie.id == 7)
                return int((await session.execute(query)).scalar_one())

        assert await ratings_counted() == 0
        headers = {"content-type": "application/json"}
        bodies = [HeldBody(b"{}") for _ in range(2)]
        held = [
            asyncio.create_task(client.post("/auth/login", content=b.chunks(), headers=headers))
            for b in bodies
        ]
        for body in bodies:
            await asyncio.wait_for(body.asked.wait(), HANG_GUARD_SECONDS)
        assert (await client.get("/movies/7")).status_code == 503

        reviews = httpx.ASGITransport(app=gateway.services["reviews"])
        async with httpx.AsyncClient(transport=reviews, base_url="http://reviews.internal") as c:
            rated = await c.put("/movies/7/rating", json={"value": 9}, headers=account.headers)
        assert rated.status_code == 200, rated.text

        async def applied() -> bool:
            return await ratings_counted() == 1

        await eventually(applied, within=HANG_GUARD_SECONDS)
        assert (await client.get("/movies/7")).status_code == 503  # still full meanwhile
        for body in bodies:
            body.release.set()
        for task in held:
            await asyncio.wait_for(task, HANG_GUARD_SECONDS)
