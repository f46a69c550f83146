"""/recommendations and a movie's similar movies, end to end: movies made and rated through
the APIs, a model trained by the ai service, lists kept from users' events."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from movieverse.platform.observability import process_registry
from movieverse.services.ai.repository import AiRepository, InteractionRow
from tests.services.ai.conftest import ANIMATION, CRIME
from tests.services.ai.test_ai_api import train
from tests.services.recommendations.conftest import RecsApp
from tests.support import Account, admin_account, eventually, signed_up


async def make_catalog(app: RecsApp, admin: Account) -> dict[str, list[int]]:
    """Twelve crime films and twelve animated ones, through the movies API."""
    _, client = app
    made: dict[str, list[int]] = {"crime": [], "animation": []}
    for kind, genre in (("crime", CRIME), ("animation", ANIMATION)):
        for n in range(12):
            response = await client.post(
                "/movies",
                json={"title": f"{kind.title()} {n}", "genre_ids": [genre], "vote_count": 100 - n},
                headers=admin.headers,
            )
            assert response.status_code == 201, response.text
            made[kind].append(response.json()["id"])
    ai = app[0].services["ai"].state.ctx

    async def known() -> bool:
        async with ai.db.unit_of_work(write=False) as session:
            return await AiRepository(session).movie_count() == 24

    await eventually(known)
    return made


async def seed_fans(app: RecsApp, movies: dict[str, list[int]]) -> None:
    """Imported viewers of each kind (as `movieverse import` writes them): fan n of a kind rated
    that kind's first n + 1 films."""
    ctx = app[0].services["ai"].state.ctx
    rows = []
    at = datetime(2026, 1, 1, tzinfo=UTC)
    for kind, films in movies.items():
        for n in range(30):
            user = uuid.uuid5(uuid.NAMESPACE_URL, f"imported:{kind}:{n}")
            rows += [
                InteractionRow(user, m, 8.0, at + timedelta(seconds=i))
                for i, m in enumerate(films[: n + 1])
            ]
    async with ctx.db.unit_of_work() as session:
        await AiRepository(session).put_interactions(rows)


async def rate(client: httpx.AsyncClient, account: Account, movie_id: int, value: float) -> None:
    response = await client.put(
        f"/movies/{movie_id}/rating", json={"value": value}, headers=account.headers
    )
    assert response.status_code in {200, 201}, response.text


async def mine(client: httpx.AsyncClient, account: Account, **params: Any) -> dict[str, Any]:
    response = await client.get("/recommendations/me", params=params, headers=account.headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def settled(client: httpx.AsyncClient, account: Account, **params: Any) -> dict[str, Any]:
    """The user's page once it is not a stale one (answered while a new one is computed)."""
    found: dict[str, Any] = {}

    async def fresh() -> bool:
        found.update(await mine(client, account, **params))
        return not found["stale"]

    await eventually(fresh)
    return found


def ai_calls() -> float:
    value = process_registry().get_sample_value(
        "movieverse_http_requests_total",
        {"service": "ai", "method": "POST", "route": "/ai/recommend", "status": "200"},
    )
    return value or 0.0


async def trained(app: RecsApp) -> tuple[Account, dict[str, list[int]]]:
    gateway, client = app
    admin = await admin_account(gateway, client)
    movies = await make_catalog(app, admin)
    await seed_fans(app, movies)
    job = await train(client, admin, kind="hybrid")
    assert job["status"] == "succeeded", job
    recs = gateway.services["recommendations"].state.ctx

    version = str(job["version"]).encode()

    async def model_noted() -> bool:
        noted: bytes | None = await recs.kv.get("recs:model")
        return noted == version

    await eventually(model_noted)
    return admin, movies


async def test_ratings_made_now_change_recommendations_with_reasons(recs_app: RecsApp) -> None:
    _, client = recs_app
    _, movies = await trained(recs_app)
    crime, animation = movies["crime"], movies["animation"]
    viewer = await signed_up(client, "night_owl")
    await rate(client, viewer, crime[0], 9)
    await rate(client, viewer, crime[1], 8)

    async def both_ratings_count() -> bool:
        page = await mine(client, viewer, per_page=50)
        ids = {r["id"] for r in page["results"]}
        return bool(page["source"] == "model" and not ids & {crime[0], crime[1]})

    await eventually(both_ratings_count)
    page = await mine(client, viewer, per_page=5)
    assert page["page"] == 1
    assert page["per_page"] == 5
    assert page["total_results"] >= 5
    assert len(page["results"]) == 5
    ids = [r["id"] for r in page["results"]]
    assert set(ids) <= set(crime) - {crime[0], crime[1]}, ids
    reasons = {r["reason"]["text"] for r in page["results"]}
    assert {"Because you rated Crime 0 highly", "Because you rated Crime 1 highly"} & reasons

    # A handful of fresh ratings of animated films turns the list around, no retraining.
    for film in animation[:4]:
        await rate(client, viewer, film, 10)

    async def turned() -> bool:
        # All four ratings have reached ai (each one's event travels on its own) once none of
        # the four is recommended back; by then animated films lead the list.
        after = [r["id"] for r in (await mine(client, viewer, per_page=20))["results"]]
        return bool(set(after[:5]) & set(animation)) and not set(after) & set(animation[:4])

    await eventually(turned)
    after = await mine(client, viewer, per_page=20)
    assert not {r["id"] for r in after["results"]} & {crime[0], crime[1], *animation[:4]}
    assert {r["id"] for r in after["results"][:5]} & set(animation)


async def test_lists_are_left_out_unless_asked_and_genres_filter(recs_app: RecsApp) -> None:
    _, client = recs_app
    _, movies = await trained(recs_app)
    crime = movies["crime"]
    viewer = await signed_up(client, "list_keeper")
    await rate(client, viewer, crime[0], 9)
    response = await client.put(f"/users/me/watchlist/{crime[1]}", headers=viewer.headers)
    assert response.status_code in {200, 201, 204}, response.text
    response = await client.put(f"/users/me/seen/{crime[2]}", headers=viewer.headers)
    assert response.status_code in {200, 201, 204}, response.text

    async def lists_known() -> bool:
        ids = {r["id"] for r in (await mine(client, viewer, per_page=50))["results"]}
        return crime[1] not in ids and crime[2] not in ids

    await eventually(lists_known)
    everything = await mine(
        client, viewer, per_page=50, exclude_watchlist="false", exclude_seen="false"
    )
    assert {crime[1], crime[2]} <= {r["id"] for r in everything["results"]}
    rated_too = await mine(client, viewer, per_page=50, exclude_rated="false")
    assert crime[0] in {r["id"] for r in rated_too["results"]}
    animated = await mine(client, viewer, genres=str(ANIMATION))
    assert animated["results"]
    assert {r["id"] for r in animated["results"]} <= set(movies["animation"])


async def test_answers_are_cached_until_the_user_rates_again(recs_app: RecsApp) -> None:
    _, client = recs_app
    _, movies = await trained(recs_app)
    viewer = await signed_up(client, "repeat_visitor")
    await rate(client, viewer, movies["crime"][0], 9)
    await eventually(lambda: _is_model(client, viewer))
    first = await settled(client, viewer)
    await refreshes_done(recs_app)  # the refresher's own calls to ai are not counted below
    calls = ai_calls()
    again = await mine(client, viewer)
    assert again == first
    assert ai_calls() == calls  # served from the cache
    await rate(client, viewer, movies["crime"][3], 10)

    async def refreshed() -> bool:
        page = await mine(client, viewer, per_page=50)
        return not page["stale"] and movies["crime"][3] not in {r["id"] for r in page["results"]}

    await eventually(refreshed)
    assert ai_calls() > calls

    # A restarted embedded cache has seen no model event: the ai service's answer names the
    # model, and caching goes on.
    kv = recs_app[0].services["recommendations"].state.ctx.kv
    await kv.delete("recs:model")
    await mine(client, viewer, per_page=7)
    await refreshes_done(recs_app)
    calls = ai_calls()
    await mine(client, viewer, per_page=7)
    assert ai_calls() == calls


async def refreshes_done(app: RecsApp) -> None:
    refresher = app[0].services["recommendations"].state.ctx.runtime.refresher
    assert refresher is not None

    async def idle() -> bool:
        return bool(refresher.idle)

    await eventually(idle)


async def test_a_rating_refreshes_the_first_page_before_the_next_visit(recs_app: RecsApp) -> None:
    """The page /recommendations/me shows by default is recomputed in the background after a
    rating: the next visit is a cache hit, and already without the movie just rated."""
    _, client = recs_app
    _, movies = await trained(recs_app)
    refresher = recs_app[0].services["recommendations"].state.ctx.runtime.refresher
    viewer = await signed_up(client, "regular")
    await rate(client, viewer, movies["crime"][0], 9)
    await eventually(lambda: _is_model(client, viewer))
    before = await mine(client, viewer)
    await refreshes_done(recs_app)
    done = refresher.refreshed
    newly_rated = before["results"][0]["id"]
    await rate(client, viewer, newly_rated, 10)

    async def refreshed() -> bool:
        return bool(refresher.idle and refresher.refreshed > done)

    await eventually(refreshed)
    calls = ai_calls()
    after = await mine(client, viewer)
    assert ai_calls() == calls  # the visit itself asked nothing of ai
    assert not after["stale"]
    assert newly_rated not in [r["id"] for r in after["results"]]
    assert after["source"] == "model"
    # Other pages and filters are not precomputed: they are asked for, then cached as before.
    await mine(client, viewer, per_page=5)
    assert ai_calls() == calls + 1


async def _is_model(client: httpx.AsyncClient, viewer: Account) -> bool:
    return bool((await mine(client, viewer))["source"] == "model")


async def test_without_a_model_popular_in_favourite_genres_is_marked_and_not_cached(
    recs_app: RecsApp,
) -> None:
    gateway, client = recs_app
    admin = await admin_account(gateway, client)
    movies = await make_catalog(recs_app, admin)
    await seed_fans(recs_app, movies)
    viewer = await signed_up(client, "first_timer")
    response = await client.patch(
        "/users/me/preferences", json={"favourite_genres": [ANIMATION]}, headers=viewer.headers
    )
    assert response.status_code == 200, response.text

    async def by_genre() -> bool:
        return bool((await mine(client, viewer))["genres"] == [ANIMATION])

    await eventually(by_genre)
    await refreshes_done(recs_app)  # the refresher's own call to ai is not counted below
    page = await mine(client, viewer, per_page=3)
    assert page["source"] == "fallback"
    assert page["model"] is None
    assert [r["id"] for r in page["results"]] == movies["animation"][:3]
    assert {r["reason"]["text"] for r in page["results"]} == {"Popular in Animation"}
    calls = ai_calls()
    await mine(client, viewer, per_page=3)
    assert ai_calls() == calls + 1  # a fallback is asked for again, never cached


async def test_admins_see_anyones_recommendations_and_strangers_are_404(recs_app: RecsApp) -> None:
    _, client = recs_app
    admin, movies = await trained(recs_app)
    viewer = await signed_up(client, "observed")
    await rate(client, viewer, movies["crime"][0], 9)
    await eventually(lambda: _is_model(client, viewer))
    seen = await client.get(f"/recommendations/users/{viewer.user_id}", headers=admin.headers)
    assert seen.status_code == 200
    assert seen.json()["results"] == (await mine(client, viewer))["results"]
    refused = await client.get(f"/recommendations/users/{viewer.user_id}", headers=viewer.headers)
    assert refused.status_code == 403
    stranger = await client.get(f"/recommendations/users/{uuid.uuid4()}", headers=admin.headers)
    assert stranger.status_code == 404
    assert stranger.json()["type"].endswith("not-found")


async def test_bad_filters_are_400(recs_app: RecsApp) -> None:
    _, client = recs_app
    viewer = await signed_up(client, "typo")
    for params in ({"genres": "crime"}, {"genres": "80,,-1"}, {"per_page": 101}, {"page": 0}):
        response = await client.get("/recommendations/me", params=params, headers=viewer.headers)
        assert response.status_code == 400, (params, response.text)
        assert response.json()["errors"], params
    anonymous = await client.get("/recommendations/me")
    assert anonymous.status_code == 401


async def test_similar_movies_and_the_movie_page_appends(recs_app: RecsApp) -> None:
    _, client = recs_app
    _, movies = await trained(recs_app)
    animated = movies["animation"]
    for path in ("similar", "recommendations"):
        response = await client.get(f"/movies/{animated[0]}/{path}", params={"per_page": 5})
        assert response.status_code == 200, response.text
        ids = [r["id"] for r in response.json()["results"]]
        assert len(ids) == 5, (path, ids)
        assert set(ids) <= set(animated[1:]), (path, ids)
    page = await client.get(
        f"/movies/{animated[0]}", params={"append_to_response": "similar,recommendations"}
    )
    assert page.status_code == 200, page.text
    body = page.json()
    assert body["id"] == animated[0]
    assert {r["id"] for r in body["similar"]["results"]} <= set(animated[1:])
    assert body["recommendations"]["results"]
    missing = await client.get("/movies/999999/similar")
    assert missing.status_code == 404
