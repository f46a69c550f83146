"""Metadata runs on SQLite and, where PostgreSQL is configured, on PostgreSQL (its distributed
home, documents in JSONB): a fresh database per test, chosen through the service's own setting."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from movieverse.gateway.app import Gateway, create_gateway
from movieverse.services.metadata.models import outbox
from tests.support import (
    Account,
    Stack,
    admin_account,
    fast_auth_settings,
    fresh_database,
    signed_up,
    start_from_migrated_sqlite,
)

MetadataApp = tuple[Gateway, httpx.AsyncClient]


# Metadata and what its API tests need: accounts, and the catalog its people are credited in.
METADATA_AND_PEERS = ("auth", "movies", "metadata")


@pytest.fixture(params=["sqlite", "postgres"])
async def metadata_database(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[None]:
    """Points MOVIEVERSE_METADATA_DATABASE_URL at a fresh PostgreSQL database, or clears it so
    metadata uses its embedded SQLite file."""
    monkeypatch.delenv("MOVIEVERSE_METADATA_DOCUMENTS_URL", raising=False)
    if request.param == "sqlite":
        monkeypatch.delenv("MOVIEVERSE_METADATA_DATABASE_URL", raising=False)
        yield
        return
    async with fresh_database("postgres", prefix="mv_metadata", migrated_for=("metadata",)) as url:
        monkeypatch.setenv("MOVIEVERSE_METADATA_DATABASE_URL", url)
        yield


@pytest.fixture
async def metadata(metadata_database: None, tmp_path: Path) -> AsyncIterator[MetadataApp]:
    settings = Stack("embedded", database_url=None, redis_url=None).settings(tmp_path / "var")
    # No override for metadata: it reads its settings from the environment, as deployed.
    await start_from_migrated_sqlite(settings)
    gateway = create_gateway(
        settings, service_overrides={"auth": fast_auth_settings()}, only=METADATA_AND_PEERS
    )
    async with gateway.edge.router.lifespan_context(gateway.edge):
        transport = httpx.ASGITransport(app=gateway)
        async with httpx.AsyncClient(transport=transport, base_url="http://metadata.test") as c:
            yield gateway, c


@pytest.fixture
async def admin(metadata: MetadataApp) -> Account:
    gateway, client = metadata
    return await admin_account(gateway, client, "archivist")


@pytest.fixture
async def fan(metadata: MetadataApp) -> Account:
    return await signed_up(metadata[1], "film_fan")


async def put_person(
    client: httpx.AsyncClient, admin: Account, person_id: int, **fields: Any
) -> dict[str, Any]:
    response = await client.put(f"/people/{person_id}", json=fields, headers=admin.headers)
    assert response.status_code in {200, 201}, response.text
    body: dict[str, Any] = response.json()
    return body


async def outbox_events(gateway: Gateway) -> list[dict[str, Any]]:
    """Every event metadata staged, oldest first, read from its outbox table."""
    ctx = gateway.services["metadata"].state.ctx
    async with ctx.db.unit_of_work(write=False) as session:
        bodies = (await session.execute(select(outbox.c.body).order_by(outbox.c.seq))).scalars()
        return [json.loads(body) for body in bodies]
