"""The indexer's logic: events in, documents kept and indexed; reindex jobs.

Order of effects. A batch's documents go to the indexer's table in the consumer's transaction and
to the index before it commits. If the process dies between the two, the events come again (the
inbox has not recorded them) and are applied again: index writes are upserts and deletes by id,
so applying twice leaves what applying once does. Nothing acknowledged is lost.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from movieverse.contracts.envelope import Event, new_uuid7
from movieverse.contracts.metadata import PersonChanged, PersonDeleted
from movieverse.contracts.movies import MovieDeleted, MovieSnapshot, read_snapshot
from movieverse.contracts.reviews import ReviewRemoved, ReviewRestored, ReviewWritten
from movieverse.platform.db import Database, utcnow
from movieverse.platform.errors import Conflict, NotFound
from movieverse.platform.search.documents import (
    KINDS,
    Document,
    Kind,
    MovieDocument,
    PersonDocument,
    ReviewDocument,
    from_json,
    to_json,
)
from movieverse.platform.search.embeddings import (
    Embedder,
    embedding_text,
    load_embedder,
    semantic_installed,
    text_key,
)
from movieverse.platform.search.port import Batch, SearchIndex
from movieverse.services.indexer.metrics import indexer_metrics
from movieverse.services.indexer.models import ReindexJob
from movieverse.services.indexer.repository import IndexerRepository, Stored
from movieverse.services.indexer.uncommitted import UncommittedIndexWrites

log = structlog.get_logger("movieverse.indexer")
REINDEX_BATCH = 2000


def movie_document(snapshot: MovieSnapshot) -> MovieDocument:
    return MovieDocument(
        id=snapshot.movie_id,
        title=snapshot.title,
        original_title=snapshot.original_title,
        alternate_titles=tuple(snapshot.alternative_titles),
        overview=snapshot.overview,
        keywords=tuple(snapshot.keywords),
        genres=tuple(snapshot.genres),
        release_date=snapshot.release_date,
        release_year=snapshot.release_year,
        original_language=snapshot.original_language,
        popularity=snapshot.popularity,
        vote_average=snapshot.vote_average,
        vote_count=snapshot.vote_count,
        adult=snapshot.adult,
    )


def person_document(person: PersonChanged) -> PersonDocument:
    return PersonDocument(
        id=person.person_id,
        name=person.name,
        known_for_department=person.known_for_department,
        popularity=person.popularity,
        profile_path=person.profile_path,
    )


def review_document(review: ReviewWritten) -> ReviewDocument:
    return ReviewDocument(
        id=str(review.review_id),
        movie_id=review.movie_id,
        username=review.username,
        title=review.title,
        body=review.body,
        language=review.language,
        spoiler=review.spoiler,
        created_at=review.written_at,
    )


@dataclass
class _Changes:
    """What a batch leaves of each id: its last document, or its removal."""

    kind: Kind
    latest: dict[str, Document | None]

    @classmethod
    def of(cls, kind: Kind) -> _Changes:
        return cls(kind=kind, latest={})

    def put(self, document: Document) -> None:
        self.latest[document.key] = document

    def drop(self, key: str) -> None:
        self.latest[key] = None


class Vectors:
    """Makes movies' sentence embeddings when semantic search is on (the extra installed and
    ``MOVIEVERSE_SEMANTIC_SEARCH`` left true), reusing a stored vector while the text it was
    made from is unchanged. The model loads on first use, on a worker thread."""

    def __init__(self, *, enabled: bool) -> None:
        self.enabled = enabled and semantic_installed()
        self._embedder: Embedder | None = None

    async def _model(self) -> Embedder | None:
        if self.enabled and self._embedder is None:
            self._embedder = await asyncio.to_thread(load_embedder)
        return self._embedder

    async def for_movies(
        self, repo: IndexerRepository, movies: Sequence[MovieDocument]
    ) -> dict[str, tuple[str, bytes]]:
        """``{key: (vector_key, vector)}`` for the movies. With semantic search off, only the
        stored vectors whose text is unchanged: switching it off for a while loses none."""
        if not movies:
            return {}
        texts = {m.key: embedding_text(m) for m in movies}
        wanted = {key: text_key(text) for key, text in texts.items()}
        stored = await repo.vectors("movies", list(texts))
        found = {k: v for k, v in stored.items() if v[0] == wanted[k]}
        missing = [key for key in texts if key not in found]
        embedder = await self._model() if missing and self.enabled else None
        if embedder is not None:
            made = await asyncio.to_thread(embedder.encode, [texts[k] for k in missing])
            found.update({k: (wanted[k], v) for k, v in zip(missing, made, strict=True)})
        return found


async def _apply(
    session: AsyncSession,
    index: SearchIndex,
    changes: _Changes,
    events: Sequence[Event],
    vectors: Vectors | None = None,
    *,
    uncommitted: UncommittedIndexWrites | None = None,
) -> None:
    now = utcnow()
    repo = IndexerRepository(session)
    kept = [d for d in changes.latest.values() if d is not None]
    gone = [key for key, d in changes.latest.items() if d is None]
    movies = [d for d in kept if isinstance(d, MovieDocument)]
    made = await vectors.for_movies(repo, movies) if vectors is not None else {}
    await repo.remove(changes.kind, gone)
    stored = []
    for document in kept:
        vector_key, vector = made.get(document.key, (None, None))
        stored.append(Stored(document.key, to_json(document), vector, vector_key))
    await repo.put(changes.kind, stored, at=now)
    if uncommitted is not None:
        uncommitted.track(session, changes.kind)
    await index.delete(changes.kind, gone)
    await index.upsert(kept, vectors={key: vector for key, (_, vector) in made.items()})
    indexer_metrics().observe(changes.kind, events, now)


async def apply_movie_events(
    session: AsyncSession,
    *,
    index: SearchIndex,
    events: Sequence[Event],
    vectors: Vectors,
    uncommitted: UncommittedIndexWrites | None = None,
) -> None:
    changes = _Changes.of("movies")
    for event in events:
        if event.type == MovieDeleted.event_type:
            changes.drop(str(MovieDeleted.from_event(event).movie_id))
        else:
            changes.put(movie_document(read_snapshot(event)))
    await _apply(session, index, changes, events, vectors, uncommitted=uncommitted)


async def apply_person_events(
    session: AsyncSession,
    *,
    index: SearchIndex,
    events: Sequence[Event],
    uncommitted: UncommittedIndexWrites | None = None,
) -> None:
    changes = _Changes.of("people")
    for event in events:
        if event.type == PersonDeleted.event_type:
            changes.drop(str(PersonDeleted.from_event(event).person_id))
        else:
            changes.put(person_document(PersonChanged.from_event(event)))
    await _apply(session, index, changes, events, uncommitted=uncommitted)


async def apply_review_events(
    session: AsyncSession,
    *,
    index: SearchIndex,
    events: Sequence[Event],
    uncommitted: UncommittedIndexWrites | None = None,
) -> None:
    """Written: kept and indexed. Deleted: gone. Hidden: kept out of sight, indexed again when
    restored (from the copy kept here: the restore event carries no text)."""
    repo = IndexerRepository(session)
    now = utcnow()
    for event in events:
        if event.type == ReviewRemoved.event_type:
            removed = ReviewRemoved.from_event(event)
            key = str(removed.review_id)
            if removed.reason == "hidden":
                await repo.set_visible("reviews", key, visible=False, at=now)
            else:
                await repo.remove("reviews", [key])
            _track(uncommitted, session)
            await index.delete("reviews", [key])
        elif event.type == ReviewRestored.event_type:
            key = str(ReviewRestored.from_event(event).review_id)
            if await repo.set_visible("reviews", key, visible=True, at=now):
                kept = await repo.get("reviews", key)
                if kept is not None:
                    _track(uncommitted, session)
                    await index.upsert([from_json("reviews", kept.body)])
        else:
            document = review_document(ReviewWritten.from_event(event))
            hidden = await repo.get("reviews", document.key)
            visible = hidden is None or hidden.visible
            await repo.put("reviews", [Stored(document.key, to_json(document))], at=now)
            if visible:
                _track(uncommitted, session)
                await index.upsert([document])
            else:  # an edit of a hidden review stays hidden
                await repo.set_visible("reviews", document.key, visible=False, at=now)
    indexer_metrics().observe("reviews", events, now)


def _track(uncommitted: UncommittedIndexWrites | None, session: AsyncSession) -> None:
    if uncommitted is not None:
        uncommitted.track(session, "reviews")


# -- reindex jobs -----------------------------------------------------------------------------


def parse_kinds(kinds: Sequence[str] | None) -> tuple[Kind, ...]:
    if not kinds:
        return KINDS
    return tuple(kind for kind in KINDS if kind in set(kinds))


async def request_reindex(
    session: AsyncSession, *, kinds: tuple[Kind, ...], requested_by: UUID | None
) -> ReindexJob:
    """Queue a job; one runs at a time, so a second request while one is active is a conflict."""
    repo = IndexerRepository(session)
    active = await repo.active_job()
    if active is not None:
        raise Conflict(f"Reindex job {active.id} is {active.status}; wait for it to finish")
    total = 0
    for kind in kinds:
        total += await repo.count_visible(kind)
    job = ReindexJob(
        id=new_uuid7(), kinds=",".join(kinds), status="queued", total=total, done=0,
        requested_by=requested_by, created_at=utcnow(),
    )  # fmt: skip
    await repo.add_job(job)
    return job


async def get_job(session: AsyncSession, *, job_id: UUID) -> ReindexJob:
    job = await IndexerRepository(session).job(job_id)
    if job is None:
        raise NotFound(f"No reindex job {job_id}")
    return job


async def _stored_batches(
    db: Database,
    kind: Kind,
    job_id: UUID,
    vectors: Vectors,
    uncommitted: UncommittedIndexWrites | None,
) -> AsyncIterator[Batch]:
    """The visible documents of ``kind`` in id order, a batch per short read transaction, with the
    job's progress written as it goes. Movies without a current vector get one on the way.

    First pulled once the rebuild has begun (and captures live writes): it first waits for the
    index writes made until then to be committed, so that it reads them (uncommitted.py)."""
    if uncommitted is not None:
        await uncommitted.settled(kind)
    after: str | None = None
    while True:
        async with db.unit_of_work(write=False) as session:
            rows = await IndexerRepository(session).visible_after(kind, after, limit=REINDEX_BATCH)
        if not rows:
            return
        after = rows[-1].doc_id
        documents = [from_json(kind, row.body) for row in rows]
        async with db.unit_of_work() as session:
            repo = IndexerRepository(session)
            movies = [d for d in documents if isinstance(d, MovieDocument)]
            made = await vectors.for_movies(repo, movies)
            await repo.set_vectors(kind, made)
            job = await repo.job(job_id)
            if job is not None:
                job.done += len(rows)
        yield Batch(documents, {key: vector for key, (_, vector) in made.items()})
        indexer_metrics().reindex_backlog.dec(len(rows))


async def run_job(
    db: Database,
    index: SearchIndex,
    job_id: UUID,
    vectors: Vectors,
    *,
    uncommitted: UncommittedIndexWrites | None = None,
) -> None:
    """Rebuild each kind the job names and swap it in; the job row says how far it got.
    ``uncommitted``: this process's consumers' (none in a process without consumers)."""
    async with db.unit_of_work() as session:
        job = await IndexerRepository(session).job(job_id)
        if job is None or job.status != "queued":
            return
        job.status, job.started_at = "running", utcnow()
        kinds = [k for k in KINDS if k in job.kinds.split(",")]
        indexer_metrics().reindex_backlog.set(job.total)
    error: str | None = None
    try:
        for kind in kinds:
            source = _stored_batches(db, kind, job_id, vectors, uncommitted)
            loaded = await index.rebuild(kind, source)
            log.info("reindexed", kind=kind, documents=loaded, job=str(job_id))
    except Exception as exc:  # the job records why; the live index is untouched
        log.exception("reindex_failed", job=str(job_id))
        error = f"{type(exc).__name__}: {exc}"[:500]
    async with db.unit_of_work() as session:
        job = await IndexerRepository(session).job(job_id)
        if job is not None:
            job.status = "failed" if error else "succeeded"
            job.error, job.finished_at = error, utcnow()
    indexer_metrics().reindex_backlog.set(0)


class JobRunner:
    """Runs queued reindex jobs one at a time in the background of the indexer process."""

    def __init__(
        self,
        db: Database,
        index: SearchIndex,
        vectors: Vectors,
        uncommitted: UncommittedIndexWrites | None = None,
    ) -> None:
        self.db = db
        self.index = index
        self.vectors = vectors
        self.uncommitted = uncommitted
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def busy(self) -> bool:
        return bool(self._tasks)

    def start(self, job_id: UUID) -> None:
        task = asyncio.create_task(
            run_job(self.db, self.index, job_id, self.vectors, uncommitted=self.uncommitted),
            name=f"reindex-{job_id}",
        )
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def resume(self) -> None:
        """A job left queued or running by a stopped process starts over (a rebuild is whole)."""
        async with self.db.unit_of_work() as session:
            job = await IndexerRepository(session).active_job()
            if job is None:
                return
            job.status, job.done = "queued", 0
            job_id = job.id
        self.start(job_id)

    async def wait(self) -> None:
        while self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


def job_view(job: ReindexJob) -> dict[str, Any]:
    return {
        "id": job.id,
        "kinds": job.kinds.split(","),
        "status": job.status,
        "total": job.total,
        "done": job.done,
        "error": job.error,
        "created_at": job.created_at,
        "started_at": job.started_at,
        "finished_at": job.finished_at,
    }


def lag_seconds(event_time: datetime, now: datetime) -> float:
    return max((now - event_time).total_seconds(), 0.0)
