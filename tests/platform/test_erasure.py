"""The erasure ledger's late pass: every due user swept, whatever one of them does."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from uuid import UUID, uuid4

import pytest
from sqlalchemy import MetaData, create_engine, select
from sqlalchemy.ext.asyncio import AsyncSession

from movieverse.platform.db import Database, utcnow
from movieverse.platform.erasure import ErasureLedger, erased_users_table
from movieverse.platform.settings import PlatformSettings

METADATA = MetaData()
LEDGER = erased_users_table(METADATA, "toy")


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    url = f"sqlite:///{tmp_path / 'erasure.db'}"
    engine = create_engine(url)
    METADATA.create_all(engine)
    engine.dispose()
    database = Database.connect(url, PlatformSettings(environment="test"))
    yield database
    await database.dispose()


async def test_a_failing_user_leaves_the_others_swept_and_is_tried_again(db: Database) -> None:
    users = [uuid4() for _ in range(4)]
    broken = users[1]  # erased second: it used to stop the pass for everyone after it
    erased: list[UUID] = []
    failing = {broken}

    async def erase(_session: AsyncSession, user_id: UUID) -> None:
        if user_id in failing:
            raise RuntimeError("a row this user's erasure trips over")
        erased.append(user_id)

    ledger = ErasureLedger(table=LEDGER, db=db, erase=erase, grace=timedelta(seconds=60))
    for user in users:
        async with db.unit_of_work() as session:
            await ledger.record(session, user)

    later = utcnow() + timedelta(minutes=5)
    assert await ledger.sweep(now=later) == 3
    assert sorted(erased) == sorted(u for u in users if u != broken)
    async with db.unit_of_work(write=False) as session:
        pending = (
            await session.execute(select(LEDGER.c.user_id).where(LEDGER.c.swept_at.is_(None)))
        ).scalars()
        assert list(pending) == [broken]

    failing.clear()  # fixed: the next round sweeps it, and only it
    erased.clear()
    assert await ledger.sweep(now=later) == 1
    assert erased == [broken]
