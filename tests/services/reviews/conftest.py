"""Reviews runs on SQLite and, where their servers are configured, on PostgreSQL (its
distributed home) and MariaDB: a fresh database per test, chosen through the service's own
setting."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from movieverse.gateway.app import Gateway, create_gateway
from movieverse.services.reviews.models import outbox
from tests.support import (
    Account,
    Stack,
    admin_account,
    fast_auth_settings,
    fresh_database,
    start_from_migrated_sqlite,
)

ReviewsApp = tuple[Gateway, httpx.AsyncClient]

# Reviews and what its API tests need: accounts (auth, and users to delete one), a catalog to
# review (movies).
REVIEWS_AND_PEERS = ("auth", "users", "movies", "reviews")

HEAT = {"title": "Heat", "tmdb_id": 949, "vote_average": 7.0, "vote_count": 100}
AMELIE = {"title": "Amélie", "tmdb_id": 194, "vote_average": 8.0, "vote_count": 50}


@pytest.fixture(params=["sqlite", "postgres", "mysql"])
async def reviews_database(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[None]:
    if request.param == "sqlite":
        monkeypatch.delenv("MOVIEVERSE_REVIEWS_DATABASE_URL", raising=False)
        yield
        return
    async with fresh_database(request.param, prefix="mv_reviews", migrated_for=("reviews",)) as url:
        monkeypatch.setenv("MOVIEVERSE_REVIEWS_DATABASE_URL", url)
        yield


@pytest.fixture
async def reviews(reviews_database: None, tmp_path: Path) -> AsyncIterator[ReviewsApp]:
    settings = Stack("embedded", database_url=None, redis_url=None).settings(tmp_path / "var")
    await start_from_migrated_sqlite(settings)
    gateway = create_gateway(
        settings, service_overrides={"auth": fast_auth_settings()}, only=REVIEWS_AND_PEERS
    )
    async with gateway.edge.router.lifespan_context(gateway.edge):
        transport = httpx.ASGITransport(app=gateway)
        async with httpx.AsyncClient(transport=transport, base_url="http://reviews.test") as c:
            yield gateway, c


@pytest.fixture
async def admin(reviews: ReviewsApp) -> Account:
    gateway, client = reviews
    return await admin_account(gateway, client, "review_admin")


@pytest.fixture
async def movies(reviews: ReviewsApp, admin: Account) -> dict[str, int]:
    """Two catalog movies with their source's votes, by title."""
    _, client = reviews
    made: dict[str, int] = {}
    for movie in (HEAT, AMELIE):
        response = await client.post("/movies", json=movie, headers=admin.headers)
        assert response.status_code == 201, response.text
        made[str(movie["title"])] = response.json()["id"]
    return made


async def outbox_types(gateway: Gateway) -> list[str]:
    ctx = gateway.services["reviews"].state.ctx
    async with ctx.db.unit_of_work(write=False) as session:
        bodies = (await session.execute(select(outbox.c.body).order_by(outbox.c.seq))).scalars()
        return [json.loads(body)["type"] for body in bodies]


def payloads(events: list[dict[str, Any]], event_type: str) -> list[dict[str, Any]]:
    return [e["payload"] for e in events if e["type"] == event_type]
