"""On a database server the event plumbing has connections of its own: a relay or a consumer never
waits behind a backlog of requests for the request pool (their events would go out late)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import text

from movieverse.platform.db import Database
from movieverse.platform.settings import PlatformSettings
from tests.support import fresh_database


@pytest.mark.parametrize("server", ["postgres", "mysql"])
async def test_urgent_work_has_a_pool_the_requests_cannot_exhaust(server: str) -> None:
    async with fresh_database(server, prefix="mvtest_plumbing") as url:
        db = Database.connect(url, PlatformSettings(db_pool_size=1, db_max_overflow=0))
        try:
            async with db.unit_of_work(write=False) as request:
                await request.execute(text("select 1"))  # holds the request pool's only one
                # Another request has to wait for it...
                with pytest.raises(TimeoutError):
                    async with asyncio.timeout(0.5), db.unit_of_work(write=False) as queued:
                        await queued.execute(text("select 1"))
                # ...the plumbing does not.
                async with asyncio.timeout(10), db.unit_of_work(urgent=True) as plumbing:
                    assert (await plumbing.execute(text("select 1"))).scalar() == 1
        finally:
            await db.dispose()


async def test_the_plumbing_pool_is_sized_by_its_settings() -> None:
    async with fresh_database("postgres", prefix="mvtest_plumbing") as url:
        settings = PlatformSettings(db_plumbing_pool_size=1, db_plumbing_max_overflow=0)
        db = Database.connect(url, settings)
        try:
            async with db.unit_of_work(urgent=True) as relay:
                await relay.execute(text("select 1"))  # the plumbing pool's only connection
                with pytest.raises(TimeoutError):
                    async with asyncio.timeout(0.5), db.unit_of_work(urgent=True) as consumer:
                        await consumer.execute(text("select 1"))
        finally:
            await db.dispose()


async def test_sqlite_has_one_pool_and_the_writer_turns_instead(tmp_path: Path) -> None:
    db = Database.connect(f"sqlite:///{tmp_path}/one.db", PlatformSettings())
    try:
        assert db.plumbing is db.engine
        async with db.unit_of_work(urgent=True) as session:
            assert (await session.execute(text("select 1"))).scalar() == 1
    finally:
        await db.dispose()
