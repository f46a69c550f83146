"""The ai service through its HTTP API: training jobs, versions and swaps, scoring with reasons,
fold-in of fresh ratings, the fallback, and bad input."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx

from movieverse.contracts.envelope import new_event
from movieverse.contracts.movies import MovieUpdated
from movieverse.platform.db import utcnow
from movieverse.platform.service_tokens import ServiceCredential
from movieverse.services.ai.repository import AiRepository, InteractionRow
from tests.services.ai.conftest import (
    ANIMATED_MOVIES,
    ANIMATION,
    CRIME,
    CRIME_MOVIES,
    AiApp,
    movie_row,
    seed_tastes,
)
from tests.support import (
    Account,
    admin_account,
    eventually,
    movie_snapshot_fields,
    signed_up,
)


async def train(client: httpx.AsyncClient, admin: Account, **body: Any) -> dict[str, Any]:
    started = await client.post("/ai/train", json=body, headers=admin.headers)
    assert started.status_code == 202, started.text
    job_id = started.json()["id"]
    finished: dict[str, Any] = {}

    async def done() -> bool:
        response = await client.get(f"/ai/train/{job_id}", headers=admin.headers)
        finished.update(response.json())
        return finished["status"] in {"succeeded", "failed"}

    await eventually(done, within=60)
    return finished


async def recommend(client: httpx.AsyncClient, account: Account, **body: Any) -> dict[str, Any]:
    response = await client.post(
        "/ai/recommend", json={"user_id": account.user_id, **body}, headers=account.headers
    )
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


async def rate_directly(app: AiApp, user_id: str, movies: list[int], value: float = 9.0) -> None:
    ctx = app[0].services["ai"].state.ctx
    async with ctx.db.unit_of_work() as session:
        await AiRepository(session).put_interactions(
            [InteractionRow(uuid.UUID(user_id), movie, value, utcnow()) for movie in movies]
        )


async def test_a_trained_model_serves_personal_recommendations_with_reasons(ai_app: AiApp) -> None:
    gateway, client = ai_app
    await seed_tastes(gateway)
    admin = await admin_account(gateway, client)
    job = await train(client, admin, kind="hybrid")
    assert job["status"] == "succeeded", job
    assert job["version"]
    assert job["interactions"] > 500

    status = (await client.get("/ai/status", headers=admin.headers)).json()
    assert status["model"]["version"] == job["version"]
    assert status["model"]["data"]["interactions"] == job["interactions"]
    assert status["warning"] is None

    viewer = await signed_up(client, "heat_fan")
    await rate_directly(ai_app, viewer.user_id, [1, 2, 3])
    answer = await recommend(client, viewer, count=5)
    assert answer["source"] == "model"
    assert answer["model"]["version"] == job["version"]
    movies = [r["movie_id"] for r in answer["results"]]
    # Crime films the user has not rated yet, never the ones rated.
    assert set(movies) <= set(CRIME_MOVIES) - {1, 2, 3}, movies
    reasons = [r["reason"] for r in answer["results"]]
    assert any(r["kind"] == "rated" and r["movie_id"] in {1, 2, 3} for r in reasons), reasons
    named = next(r for r in reasons if r["kind"] == "rated")
    assert named["text"] == f"Because you rated Crime Movie {named['movie_id']} highly"


async def test_fresh_ratings_change_recommendations_without_retraining(ai_app: AiApp) -> None:
    gateway, client = ai_app
    await seed_tastes(gateway)
    admin = await admin_account(gateway, client)
    version = (await train(client, admin, kind="ease"))["version"]
    viewer = await signed_up(client, "switcher")
    await rate_directly(ai_app, viewer.user_id, [1, 2])
    before = await recommend(client, viewer, count=5)
    assert {r["movie_id"] for r in before["results"]} <= set(CRIME_MOVIES)
    # The same user now rates a handful of animated films, more than their crime ones.
    await rate_directly(ai_app, viewer.user_id, [21, 22, 23, 24, 25])
    after = await recommend(client, viewer, count=5)
    assert after["model"]["version"] == version
    assert {r["movie_id"] for r in after["results"]} & set(ANIMATED_MOVIES)
    assert not {r["movie_id"] for r in after["results"]} & {1, 2, 21, 22, 23, 24, 25}


async def test_without_a_model_the_fallback_is_popular_in_the_users_genres(ai_app: AiApp) -> None:
    gateway, client = ai_app
    await seed_tastes(gateway)
    viewer = await signed_up(client, "newcomer")
    answer = await recommend(client, viewer, count=4, favourite_genres=[ANIMATION])
    assert answer["source"] == "fallback"
    assert answer["model"] is None
    assert answer["genres"] == [ANIMATION]
    # The most rated animated films, most rated first, each saying why.
    assert [r["movie_id"] for r in answer["results"]] == [21, 22, 23, 24]
    assert {r["reason"]["text"] for r in answer["results"]} == {"Popular in Animation"}
    # A user with ratings but no favourites gets their ratings' genres.
    await rate_directly(ai_app, viewer.user_id, [5, 6])
    answer = await recommend(client, viewer, count=3)
    assert answer["genres"] == [CRIME]
    assert [r["movie_id"] for r in answer["results"]] == [1, 2, 3]


async def test_genre_filters_and_exclusions_apply_to_model_answers(ai_app: AiApp) -> None:
    gateway, client = ai_app
    await seed_tastes(gateway)
    admin = await admin_account(gateway, client)
    await train(client, admin, kind="ease")
    viewer = await signed_up(client, "picky")
    await rate_directly(ai_app, viewer.user_id, [1, 2, 3])
    answer = await recommend(client, viewer, count=10, genres=[ANIMATION], exclude=[21, 22])
    movies = [r["movie_id"] for r in answer["results"]]
    assert movies
    assert set(movies) <= set(ANIMATED_MOVIES) - {21, 22}
    kept = await recommend(client, viewer, count=50, exclude_rated=False)
    assert {1, 2, 3} & {r["movie_id"] for r in kept["results"]}


async def test_adult_and_uncatalogued_movies_are_left_out_unless_asked(ai_app: AiApp) -> None:
    gateway, client = ai_app
    await seed_tastes(gateway)
    admin = await admin_account(gateway, client)
    await train(client, admin, kind="ease")
    viewer = await signed_up(client, "careful")
    await rate_directly(ai_app, viewer.user_id, [1, 2, 3])
    before = [r["movie_id"] for r in (await recommend(client, viewer, count=5))["results"]]
    adult, removed = before[0], before[1]
    ctx = gateway.services["ai"].state.ctx
    async with ctx.db.unit_of_work() as session:
        repo = AiRepository(session)
        await repo.put_movies([{**movie_row(adult), "adult": True}])
        await repo.delete_movies([removed])
    ctx.runtime.catalog.invalidate()
    for query in ({}, {"genres": [CRIME]}):
        plain = await recommend(client, viewer, count=50, **query)
        assert not {adult, removed} & {r["movie_id"] for r in plain["results"]}, query
        shown = await recommend(client, viewer, count=50, include_adult=True, **query)
        movies = {r["movie_id"] for r in shown["results"]}
        assert adult in movies, query
        assert removed not in movies, query  # the model still has it; the catalog does not


async def test_similar_movies_by_taste_and_by_content(ai_app: AiApp) -> None:
    gateway, client = ai_app
    await seed_tastes(gateway)
    admin = await admin_account(gateway, client)
    await train(client, admin, kind="hybrid")
    for basis in ("model", "content"):
        response = await client.get("/ai/movies/21/similar", params={"count": 5, "basis": basis})
        assert response.status_code == 200, response.text
        similar = [r["movie_id"] for r in response.json()["results"]]
        assert len(similar) == 5, basis
        assert set(similar) <= set(ANIMATED_MOVIES) - {21}, (basis, similar)
    missing = await client.get("/ai/movies/9999/similar")
    assert missing.status_code == 404
    assert missing.json()["type"].endswith("not-found")


async def test_a_swap_fails_no_request(ai_app: AiApp) -> None:
    gateway, client = ai_app
    await seed_tastes(gateway)
    admin = await admin_account(gateway, client)
    first = (await train(client, admin, kind="ease"))["version"]
    viewer = await signed_up(client, "steady")
    await rate_directly(ai_app, viewer.user_id, [1, 2])
    seen_versions: set[str] = set()
    stop = asyncio.Event()

    async def keep_asking() -> None:
        while not stop.is_set():
            answer = await recommend(client, viewer, count=5)
            assert answer["source"] == "model"
            assert answer["results"]
            seen_versions.add(answer["model"]["version"])

    askers = [asyncio.create_task(keep_asking()) for _ in range(4)]
    second = (await train(client, admin, kind="als"))["version"]
    await eventually(lambda: asyncio.sleep(0, result=second in seen_versions), within=10)
    stop.set()
    await asyncio.gather(*askers)
    assert seen_versions == {first, second}
    versions = (await client.get("/ai/models", headers=admin.headers)).json()
    assert [v["version"] for v in versions] == [second, first]
    assert [v["current"] for v in versions] == [True, False]


async def test_a_corrupt_model_means_the_fallback_and_a_warning(ai_app: AiApp) -> None:
    gateway, client = ai_app
    await seed_tastes(gateway)
    admin = await admin_account(gateway, client)
    version = (await train(client, admin, kind="ease"))["version"]
    ctx = gateway.services["ai"].state.ctx
    holder = ctx.runtime.models
    (holder.store.root / version / "model.npz").write_bytes(b"not a model")
    holder.current = None  # as a process starting now would find it
    await holder.refresh()
    viewer = await signed_up(client, "unlucky")
    await rate_directly(ai_app, viewer.user_id, [1])
    answer = await recommend(client, viewer, count=3)
    assert answer["source"] == "fallback"
    assert answer["results"]
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert "fails its checksum" in ready.json()["services"]["ai"]["warnings"]["model"]


async def test_training_is_for_admins_and_one_at_a_time(ai_app: AiApp) -> None:
    gateway, client = ai_app
    viewer = await signed_up(client, "curious")
    refused = await client.post("/ai/train", json={}, headers=viewer.headers)
    assert refused.status_code == 403
    admin = await admin_account(gateway, client)
    unknown = await client.post("/ai/train", json={"kind": "bivae"}, headers=admin.headers)
    assert unknown.status_code == 422
    # Too little data: the job says so instead of producing a useless model.
    job = await train(client, admin)
    assert job["status"] == "failed"
    assert "at least" in job["error"]
    await seed_tastes(gateway)
    first = await client.post("/ai/train", json={"kind": "ease"}, headers=admin.headers)
    second = await client.post("/ai/train", json={"kind": "ease"}, headers=admin.headers)
    assert first.status_code == 202
    assert second.status_code == 409
    assert second.json()["status"] == 409
    await train_finished(client, admin, first.json()["id"])


async def train_finished(client: httpx.AsyncClient, admin: Account, job_id: str) -> None:
    async def done() -> bool:
        body = (await client.get(f"/ai/train/{job_id}", headers=admin.headers)).json()
        return bool(body["status"] in {"succeeded", "failed"})

    await eventually(done, within=60)


async def test_recommendations_are_private(ai_app: AiApp) -> None:
    gateway, client = ai_app
    alice = await signed_up(client, "alice")
    bob = await signed_up(client, "bob")
    response = await client.post(
        "/ai/recommend", json={"user_id": alice.user_id}, headers=bob.headers
    )
    assert response.status_code == 403
    anonymous = await client.post("/ai/recommend", json={"user_id": alice.user_id})
    assert anonymous.status_code == 401
    bad = await client.post(
        "/ai/recommend", json={"user_id": alice.user_id, "count": 0}, headers=alice.headers
    )
    assert bad.status_code == 422, bad.text
    # A MovieVerse service may ask on a user's behalf (recommendations refreshing its cache).
    platform = gateway.services["ai"].state.ctx.platform
    service = ServiceCredential(name="recommendations", settings=platform).bearer()
    assert service is not None
    on_behalf = await client.post(
        "/ai/recommend", json={"user_id": alice.user_id}, headers={"Authorization": service}
    )
    assert on_behalf.status_code == 200, on_behalf.text
    assert on_behalf.json()["results"] is not None


async def test_sentiment_of_a_text(ai_app: AiApp) -> None:
    _, client = ai_app
    good = await client.get("/ai/sentiment", params={"text": "A wonderful, moving film. Loved it!"})
    assert good.status_code == 200
    assert good.json()["label"] == "positive"
    assert good.json()["compound"] > 0.5
    bad = await client.get("/ai/sentiment", params={"text": "Dull, boring and far too long."})
    assert bad.json()["label"] == "negative"
    # A bad query parameter is a malformed request: 400 with the field named.
    empty = await client.get("/ai/sentiment", params={"text": ""})
    assert empty.status_code == 400
    assert empty.json()["errors"][0]["field"] == "query.text"
    # Long texts go in a body (a query string that long would break the request line).
    long_text = "An absolutely wonderful film. " * 600
    posted = await client.post("/ai/sentiment", json={"text": long_text})
    assert posted.status_code == 200
    assert posted.json()["label"] == "positive"
    too_long = await client.post("/ai/sentiment", json={"text": "x" * 20_001})
    assert too_long.status_code == 422


async def test_a_written_review_is_scored_and_kept_as_its_analysis(ai_app: AiApp) -> None:
    gateway, client = ai_app
    admin = await admin_account(gateway, client)
    made = await client.post("/movies", json={"title": "Heat"}, headers=admin.headers)
    assert made.status_code == 201, made.text
    movie = made.json()["id"]
    critic = await signed_up(client, "critic")
    written = await client.post(
        f"/movies/{movie}/reviews",
        json={"title": "Superb", "body": "A brilliant, gripping film. I loved every minute."},
        headers=critic.headers,
    )
    assert written.status_code == 201, written.text
    review = written.json()["id"]
    analysis: dict[str, Any] = {}

    async def analysed() -> bool:
        response = await client.get(f"/metadata/reviews/{review}/analysis")
        analysis.update(response.json())
        return response.status_code == 200

    await eventually(analysed)
    assert analysis["label"] == "positive"
    assert analysis["compound"] > 0.5
    assert analysis["model"] == "vader-3.3.2"
    summary = (await client.get(f"/metadata/movies/{movie}/review-sentiment")).json()
    assert summary["count"] == 1
    assert summary["positive_count"] == 1


async def test_scheduled_training_runs_only_when_the_data_changed(ai_app: AiApp) -> None:
    gateway, client = ai_app
    runner = gateway.services["ai"].state.ctx.runtime.training
    assert await runner.train_if_due(kind="ease", trigger="schedule") is None  # no data yet
    await seed_tastes(gateway)
    first = await runner.train_if_due(kind="ease", trigger="schedule")
    assert first is not None
    await runner.wait()
    admin = await admin_account(gateway, client)
    job = (await client.get(f"/ai/train/{first}", headers=admin.headers)).json()
    assert job["status"] == "succeeded"
    assert job["trigger"] == "schedule"
    # Nothing new since that model: no run.
    assert await runner.train_if_due(kind="ease", trigger="schedule") is None
    viewer = await signed_up(client, "late_rater")
    await rate_directly(ai_app, viewer.user_id, [3])
    assert await runner.train_if_due(kind="ease", trigger="schedule") is not None
    await runner.wait()


async def test_a_vote_after_a_title_change_in_one_batch_leaves_the_new_title(ai_app: AiApp) -> None:
    """An update that changes nothing the models read (a vote) is passed over before any
    transaction, and before a batch keeps only each movie's latest event: the title change
    before it in the same batch is applied, not superseded by an update that is then skipped."""
    gateway, _ = ai_app
    ctx = gateway.services["ai"].state.ctx
    async with ctx.db.unit_of_work() as session:
        await AiRepository(session).put_movies([movie_row(1)])

    def update(vote_count: int, changed: list[str]) -> Any:
        fields = movie_snapshot_fields(
            title="Heat (1995)", genres=["Crime"], genre_ids=[CRIME], popularity=99.0,
            vote_average=7.0, vote_count=vote_count,
        )  # fmt: skip
        payload = MovieUpdated(**fields, changed=changed)
        return new_event(payload, producer="movies", key="1")

    renamed, voted = update(0, ["title"]), update(1, ["vote_average", "vote_count"])
    await ctx.bus.publish_many([renamed, voted])  # one batch for ai's movies consumer

    async def title() -> str | None:
        async with ctx.db.unit_of_work(write=False) as session:
            movie = await AiRepository(session).movie(1)
            return None if movie is None else movie.title

    assert await title() == "Heat (1995)"
    assert await ctx.inbox.seen("movies", renamed)
    assert not await ctx.inbox.seen("movies", voted)  # never opened a transaction
