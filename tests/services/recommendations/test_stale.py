"""A changed user's previous page, answered while their new one is computed: marked stale,
without what they just rated or listed, and never hiding a computation that fails."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from typing import Any

import httpx

from movieverse.platform.http import ServiceClient, ServiceUnreachable
from movieverse.services.recommendations.flights import SingleFlight
from movieverse.services.recommendations.service import rated_key
from tests.services.recommendations.conftest import RecsApp
from tests.services.recommendations.test_recommendations_api import (
    ai_calls,
    mine,
    rate,
    settled,
    trained,
)
from tests.support import Account, eventually, signed_up


class HeldAi:
    """The ai client port, answering only once ``release`` is set (or failing, if told to)."""

    def __init__(self, inner: ServiceClient) -> None:
        self.inner = inner
        self.release = asyncio.Event()
        self.failing = False
        self.asked = 0

    async def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        self.asked += 1
        if self.failing:
            raise ServiceUnreachable("ai: switched off by the test")
        await self.release.wait()
        return await self.inner.request(method, path, **kwargs)


async def _viewer_with_a_cached_page(
    app: RecsApp, name: str
) -> tuple[Account, dict[str, Any], Account]:
    """A viewer whose first page is cached, the page, and an admin."""
    _, client = app
    admin, movies = await trained(app)
    viewer = await signed_up(client, name)
    await rate(client, viewer, movies["crime"][0], 9)
    kv = app[0].services["recommendations"].state.ctx.kv

    async def noted() -> bool:  # recommendations saw the rating: it is in the page's key
        return await kv.get(rated_key(uuid.UUID(viewer.user_id))) is not None

    await eventually(noted)
    page: dict[str, Any] = {}

    async def personal() -> bool:  # the rating reached ai, and the page is cached
        page.update(await settled(client, viewer))
        return bool(page["source"] == "model")

    await eventually(personal)
    return viewer, page, admin


def _hold_ai(app: RecsApp) -> HeldAi:
    ctx = app[0].services["recommendations"].state.ctx
    held = HeldAi(ctx.runtime.ai)
    ctx.runtime = dataclasses.replace(ctx.runtime, ai=held)
    return held


async def test_after_a_rating_the_previous_page_is_answered_until_the_new_one_is_ready(
    unrefreshed_app: RecsApp,
) -> None:
    _, client = unrefreshed_app
    viewer, first, _ = await _viewer_with_a_cached_page(unrefreshed_app, "impatient")
    assert first["source"] == "model"
    assert not first["stale"]
    held = _hold_ai(unrefreshed_app)
    just_rated = first["results"][0]["id"]
    await rate(client, viewer, just_rated, 10)

    answered: dict[str, Any] = {}

    async def stale() -> bool:  # once the rating's event reached recommendations
        answered.update(await mine(client, viewer))
        return bool(answered["stale"])

    await eventually(stale)
    # The previous page at once, while the new one waits for ai: less the movie just rated.
    assert [r["id"] for r in answered["results"]] == [r["id"] for r in first["results"][1:]]
    assert answered["total_results"] == first["total_results"] - 1
    assert answered["model"] == first["model"]
    # Asking again while it is computed starts no second computation.
    flights = unrefreshed_app[0].services["recommendations"].state.ctx.runtime.flights

    async def asked_once() -> bool:
        return held.asked == 1

    await eventually(asked_once)
    assert (await mine(client, viewer))["stale"]
    assert held.asked == 1
    assert flights.running == 1

    calls = ai_calls()
    held.release.set()
    fresh = await settled(client, viewer)
    assert fresh["source"] == "model"
    assert just_rated not in [r["id"] for r in fresh["results"]]
    assert len(fresh["results"]) == len(first["results"])
    assert ai_calls() == calls + 1
    assert (await mine(client, viewer)) == fresh  # and now a hit


async def test_a_watchlisted_movie_is_left_out_of_the_stale_page_unless_asked_for(
    unrefreshed_app: RecsApp,
) -> None:
    _, client = unrefreshed_app
    viewer, first, _ = await _viewer_with_a_cached_page(unrefreshed_app, "planner")
    everything = await settled(client, viewer, exclude_watchlist="false")
    _hold_ai(unrefreshed_app)
    listed = first["results"][1]["id"]
    response = await client.put(f"/users/me/watchlist/{listed}", headers=viewer.headers)
    assert response.status_code in {200, 201, 204}, response.text

    async def stale(**params: Any) -> dict[str, Any]:
        found: dict[str, Any] = {}

        async def is_stale() -> bool:
            found.update(await mine(client, viewer, **params))
            return bool(found["stale"])

        await eventually(is_stale)
        return found

    default = await stale()
    assert listed not in [r["id"] for r in default["results"]]
    assert len(default["results"]) == len(first["results"]) - 1
    # A query that keeps watchlisted movies in keeps it in its stale page too.
    kept = await stale(exclude_watchlist="false")
    assert [r["id"] for r in kept["results"]] == [r["id"] for r in everything["results"]]


async def test_a_failed_computation_is_not_hidden_behind_stale_pages(
    unrefreshed_app: RecsApp,
) -> None:
    gateway, client = unrefreshed_app
    viewer, first, _ = await _viewer_with_a_cached_page(unrefreshed_app, "unlucky")
    held = _hold_ai(unrefreshed_app)
    held.failing = True
    await rate(client, viewer, first["results"][0]["id"], 10)

    async def stale() -> bool:
        return bool((await mine(client, viewer))["stale"])

    await eventually(stale)  # its computation, in the background, failed
    flights = gateway.services["recommendations"].state.ctx.runtime.flights

    async def settled_down() -> bool:
        return bool(flights.running == 0)

    await eventually(settled_down)
    response = await client.get("/recommendations/me", headers=viewer.headers)
    assert response.status_code == 503, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    # Once ai answers again, so does the page: waited for, not stale.
    held.failing = False
    held.release.set()
    again = await mine(client, viewer)
    assert not again["stale"]
    assert again["source"] == "model"


async def test_admins_views_are_never_stale(unrefreshed_app: RecsApp) -> None:
    _, client = unrefreshed_app
    viewer, first, admin = await _viewer_with_a_cached_page(unrefreshed_app, "watched")
    admin_headers = admin.headers
    response = await client.get(f"/recommendations/users/{viewer.user_id}", headers=admin_headers)
    assert response.status_code == 200
    held = _hold_ai(unrefreshed_app)
    await rate(client, viewer, first["results"][0]["id"], 10)

    async def stale() -> bool:
        return bool((await mine(client, viewer))["stale"])

    await eventually(stale)
    admin_view = asyncio.create_task(
        client.get(f"/recommendations/users/{viewer.user_id}", headers=admin_headers)
    )
    await asyncio.sleep(0.2)
    assert not admin_view.done()  # waiting for the new page, not answered the old one
    held.release.set()
    response = await admin_view
    assert response.status_code == 200
    assert response.json()["stale"] is False


async def test_a_started_computation_runs_without_waiters_and_a_failure_is_remembered() -> None:
    flights: SingleFlight[str] = SingleFlight()
    release = asyncio.Event()

    async def compute() -> str:
        await release.wait()
        return "done"

    task = flights.start("alice", compute)
    assert flights.start("alice", compute) is task
    assert flights.joined == 1
    release.set()
    assert await task == "done"
    assert not flights.failed_recently("alice")

    async def broken() -> str:
        raise RuntimeError("ai is down")

    failing = flights.start("bob", broken)
    await asyncio.gather(failing, return_exceptions=True)
    await asyncio.sleep(0)  # the done callback
    assert flights.failed_recently("bob")
    assert flights.running == 0
    assert await flights.run("bob", compute) == "done"
    assert not flights.failed_recently("bob")  # a success clears it


async def test_close_stops_computations_nobody_waits_for() -> None:
    flights: SingleFlight[str] = SingleFlight()
    never = asyncio.Event()

    async def compute() -> str:
        await never.wait()
        return "unreachable"

    task = flights.start("alice", compute)
    await flights.close()
    assert task.cancelled()
    assert flights.running == 0
