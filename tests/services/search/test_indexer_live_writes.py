"""A reindex against a consumer's index write whose transaction commits after the rebuild began.

The consumer writes the index before it commits (service.py). Without waiting for that commit,
the rebuild read the indexer's table without the write, had not captured it (it came before the
rebuild began), and swapped in the older row. The rebuild's step hooks place each side exactly;
nothing here depends on timing.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from movieverse.contracts.envelope import Event, new_event
from movieverse.contracts.metadata import PersonChanged, PersonDeleted
from movieverse.platform.db import Database
from movieverse.platform.search.documents import Kind
from movieverse.platform.search.port import RebuildStep
from movieverse.platform.search.query import parse_query
from movieverse.platform.search.tantivy_index import TantivySearchIndex
from movieverse.platform.settings import PlatformSettings
from movieverse.services.indexer.models import Base
from movieverse.services.indexer.service import (
    Vectors,
    apply_person_events,
    request_reindex,
    run_job,
)
from movieverse.services.indexer.uncommitted import UncommittedIndexWrites
from tests.support import fresh_database

# Only guards against a hang (before the fix, on SQLite, the job's next write waits for the
# consumer's commit, which waits for this); the steps themselves take milliseconds.
HANG_GUARD_SECONDS = 60.0


@pytest.fixture(params=["sqlite", "postgres"])
async def database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    settings = PlatformSettings(environment="test", var_dir=tmp_path)
    if request.param == "sqlite":
        db = Database.connect(f"sqlite:///{tmp_path / 'indexer.db'}", settings)
        async with db.engine.begin() as connection:
            await connection.run_sync(Base.metadata.create_all)
        yield db
        await db.dispose()
        return
    async with fresh_database("postgres", prefix="mv_indexer_live") as url:
        db = Database.connect(url, settings)
        async with db.engine.begin() as connection:
            await connection.run_sync(Base.metadata.create_all)
        yield db
        await db.dispose()


def _person_event(person_id: int, name: str | None) -> Event:
    payload: PersonChanged | PersonDeleted = PersonDeleted(person_id=person_id)
    if name is not None:
        payload = PersonChanged(
            person_id=person_id, name=name, known_for_department=None, popularity=1.0,
            profile_path=None, imdb_id=None, tmdb_id=None,
        )  # fmt: skip
    return new_event(payload, producer="metadata", key=str(person_id))


class _SeenWaiting(UncommittedIndexWrites):
    """Says when a reindex starts waiting for open transactions."""

    def __init__(self) -> None:
        super().__init__()
        self.waiting = asyncio.Event()

    async def settled(self, kind: Kind) -> None:
        if kind == "people":
            self.waiting.set()
        await super().settled(kind)


async def _names(index: TantivySearchIndex) -> dict[int, str]:
    page = await index.search_people(parse_query("person"), offset=0, limit=50)
    return {hit.document.id: hit.document.name for hit in page.hits}


async def test_a_reindex_keeps_a_write_committed_after_the_rebuild_began(
    database: Database, tmp_path: Path
) -> None:
    index = await TantivySearchIndex.open(tmp_path / "search", writable=True)
    uncommitted = _SeenWaiting()
    vectors = Vectors(enabled=False)
    async with database.unit_of_work() as session:
        before = [
            _person_event(1, "Person Ada old"),
            _person_event(2, "Person Bob doomed"),
            _person_event(3, "Person Cy kept"),
        ]
        await apply_person_events(session, index=index, events=before, uncommitted=uncommitted)
    async with database.unit_of_work() as session:
        job = await request_reindex(session, kinds=("movies", "people"), requested_by=None)
        job_id = job.id

    written = asyncio.Event()
    commit = asyncio.Event()
    source_pulled = asyncio.Event()

    async def consumer() -> None:
        # A consumer's batch: table and index written, then (told to) commit.
        async with database.unit_of_work() as session:
            changes = [_person_event(1, "Person Ada new"), _person_event(2, None)]
            await apply_person_events(session, index=index, events=changes, uncommitted=uncommitted)
            written.set()
            await commit.wait()

    consuming: list[asyncio.Task[None]] = []

    async def hook(kind: Kind, step: RebuildStep, batch: int) -> None:
        if (kind, step) == ("movies", "swapped"):
            # Between the two kinds' rebuilds: the write lands before the people's one begins.
            consuming.append(asyncio.create_task(consumer()))
            await written.wait()
        if (kind, step, batch) == ("people", "batch_pulled", 0):
            source_pulled.set()

    index.rebuild_hook = hook
    try:
        job_run = asyncio.create_task(
            run_job(database, index, job_id, vectors, uncommitted=uncommitted)
        )
        # The people's rebuild has begun; its source either waits for the consumer's commit
        # (the fix) or reads the table without it.
        waits = asyncio.create_task(uncommitted.waiting.wait())
        reads = asyncio.create_task(source_pulled.wait())
        done, _ = await asyncio.wait(
            {waits, reads}, timeout=HANG_GUARD_SECONDS, return_when=asyncio.FIRST_COMPLETED
        )
        waits.cancel()
        reads.cancel()
        commit.set()
        assert done, "the reindex neither waited for the consumer's commit nor read its batch"
        await asyncio.gather(*consuming)
        await asyncio.wait_for(job_run, HANG_GUARD_SECONDS)
        assert await _names(index) == {1: "Person Ada new", 3: "Person Cy kept"}
        assert await index.count("people") == 2
    finally:
        index.rebuild_hook = None
        commit.set()
        await index.close()
