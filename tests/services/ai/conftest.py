"""The ai service under test: the whole gateway, the ai tables on SQLite and, where PostgreSQL is
configured, on PostgreSQL, in a fresh database per test; models under the test's var dir."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from movieverse.gateway.app import Gateway, create_gateway
from movieverse.services.ai.repository import AiRepository, InteractionRow
from movieverse.services.ai.settings import AiSettings
from tests.support import Stack, fast_auth_settings, fresh_database, start_from_migrated_sqlite

AiApp = tuple[Gateway, httpx.AsyncClient]
CRIME, ANIMATION = 80, 16
# Movies 1-20 are crime films, 21-40 animated ones; the lowest ids are the most rated.
CRIME_MOVIES = list(range(1, 21))
ANIMATED_MOVIES = list(range(21, 41))


# The ai service and what feeds it: accounts, the catalog, the ratings reviews takes, and
# metadata, which keeps the analysis of the reviews ai scores.
AI_AND_PEERS = ("auth", "movies", "metadata", "reviews", "ai")


@pytest.fixture(params=["sqlite", "postgres"])
async def ai_database(request: pytest.FixtureRequest) -> AsyncIterator[str | None]:
    if request.param == "sqlite":
        yield None
        return
    async with fresh_database("postgres", prefix="mv_ai", migrated_for=("ai",)) as url:
        yield url


def ai_settings(database_url: str | None, **overrides: object) -> AiSettings:
    values: dict[str, object] = {
        "database_url": database_url,
        "train_on_start": False,
        "train_every_seconds": 0,
        "reload_seconds": 0.1,
        "min_interactions": 20,
    }
    values.update(overrides)
    return AiSettings(**values)  # type: ignore[arg-type]


@pytest.fixture
async def ai_app(ai_database: str | None, tmp_path: Path) -> AsyncIterator[AiApp]:
    settings = Stack("embedded", database_url=None, redis_url=None).settings(tmp_path / "var")
    await start_from_migrated_sqlite(settings)
    gateway = create_gateway(
        settings,
        only=AI_AND_PEERS,
        service_overrides={"auth": fast_auth_settings(), "ai": ai_settings(ai_database)},
    )
    async with gateway.edge.router.lifespan_context(gateway.edge):
        transport = httpx.ASGITransport(app=gateway)
        async with httpx.AsyncClient(transport=transport, base_url="http://ai.test") as client:
            yield gateway, client


def movie_row(movie_id: int) -> dict[str, object]:
    crime = movie_id in CRIME_MOVIES
    genre, name = (CRIME, "Crime") if crime else (ANIMATION, "Animation")
    words = "heist detective city night" if crime else "toys friendship adventure family"
    return {
        "movie_id": movie_id,
        "title": f"{'Crime' if crime else 'Cartoon'} Movie {movie_id}",
        "genres": [name],
        "genre_ids": [genre],
        "document": f"genre_{name.lower()} {words}",
        "popularity": 100.0 - movie_id,
        "vote_count": 0,
        "adult": False,
        "updated_at": datetime.now(UTC),
    }


async def seed_tastes(gateway: Gateway, *, users_per_taste: int = 30) -> dict[str, list[uuid.UUID]]:
    """Two kinds of viewers: crime fans rate crime films, animation fans animated ones (of
    their kind's first 12, fan n rates the first n + 1), so a model has a clear pattern to
    learn and the lower ids are strictly the more rated."""
    ctx = gateway.services["ai"].state.ctx
    rows = []
    fans: dict[str, list[uuid.UUID]] = {"crime": [], "animation": []}
    start = datetime(2026, 1, 1, tzinfo=UTC)
    for taste, movies in (("crime", CRIME_MOVIES), ("animation", ANIMATED_MOVIES)):
        for n in range(users_per_taste):
            user = uuid.uuid5(uuid.NAMESPACE_URL, f"fan:{taste}:{n}")
            fans[taste].append(user)
            for position, movie in enumerate(movies[:12]):
                if position > n:
                    break
                at = start + timedelta(minutes=n * 20 + position)
                rows.append(InteractionRow(user, movie, 8.0, at))
    async with ctx.db.unit_of_work() as session:
        repo = AiRepository(session)
        await repo.put_movies([movie_row(m) for m in CRIME_MOVIES + ANIMATED_MOVIES])
        await repo.put_interactions(rows)
    ctx.runtime.catalog.invalidate()
    return fans
