"""Training jobs: snapshot the interactions, fit and save a new version in a child process, make
it current, tell every process. One job at a time per deployment (the jobs table says which)."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any
from uuid import UUID

import numpy as np
import structlog

from movieverse.contracts.ai import ModelPublished
from movieverse.contracts.envelope import new_event, new_uuid7
from movieverse.ml.artifacts import ModelStore
from movieverse.ml.interactions import RatingLog
from movieverse.ml.models.registry import KINDS
from movieverse.ml.training_process import TrainingInput, train_and_save_in_child
from movieverse.platform.db import Database, utcnow
from movieverse.platform.errors import BadRequest, Conflict, NotFound
from movieverse.platform.events.outbox import Outbox
from movieverse.services.ai.models import SERVICE, TrainingJob
from movieverse.services.ai.repository import AiRepository
from movieverse.services.ai.runtime import ModelHolder

log = structlog.get_logger("movieverse.ml")


def check_kind(kind: str) -> str:
    if kind not in KINDS:
        raise BadRequest(f"Unknown model kind {kind!r}; known: {', '.join(KINDS)}")
    return kind


async def request_training(
    db: Database, *, kind: str, trigger: str, requested_by: UUID | None
) -> TrainingJob:
    async with db.unit_of_work() as session:
        repo = AiRepository(session)
        active = await repo.active_job()
        if active is not None:
            raise Conflict(f"Training job {active.id} is already {active.status}")
        job = TrainingJob(
            id=new_uuid7(),
            kind=check_kind(kind),
            status="queued",
            stage=None,
            trigger=trigger,
            interactions=0,
            details={},
            requested_by=requested_by,
            created_at=utcnow(),
        )
        await repo.add_job(job)
        return job


async def get_job(db: Database, *, job_id: UUID) -> dict[str, Any]:
    async with db.unit_of_work(write=False) as session:
        job = await AiRepository(session).job(job_id)
        if job is None:
            raise NotFound(f"No training job {job_id}")
        return job_view(job)


def job_view(job: TrainingJob) -> dict[str, Any]:
    return {
        "id": job.id,
        "kind": job.kind,
        "status": job.status,
        "stage": job.stage,
        "trigger": job.trigger,
        "version": job.version,
        "interactions": job.interactions,
        "details": job.details,
        "error": job.error,
        "created_at": job.created_at,
        "started_at": job.started_at,
        "finished_at": job.finished_at,
    }


async def _stage(db: Database, job_id: UUID, **changes: Any) -> None:
    async with db.unit_of_work() as session:
        job = await AiRepository(session).job(job_id)
        assert job is not None
        for name, value in changes.items():
            setattr(job, name, value)


async def snapshot(db: Database) -> tuple[RatingLog, np.ndarray, dict[int, str], datetime | None]:
    """Interactions (users coded 1..n in key order), the catalog's movie ids, their texts."""
    users: list[np.ndarray] = []
    items: list[np.ndarray] = []
    ratings: list[np.ndarray] = []
    stamps: list[np.ndarray] = []
    codes: dict[UUID, int] = {}
    newest: datetime | None = None
    async with db.unit_of_work(write=False) as session:
        repo = AiRepository(session)
        async for page in repo.interaction_pages():
            users.append(
                np.fromiter((codes.setdefault(r.user_id, len(codes) + 1) for r in page), np.int64)
            )
            items.append(np.fromiter((r.movie_id for r in page), np.int64))
            ratings.append(np.fromiter((r.rating for r in page), np.float32))
            stamps.append(np.fromiter((int(r.rated_at.timestamp()) for r in page), np.int64))
            latest = max(r.rated_at for r in page)
            newest = latest if newest is None or latest > newest else newest
        movies = await repo.movies()
    empty_i, empty_f = np.zeros(0, np.int64), np.zeros(0, np.float32)
    log_ = RatingLog(
        users=np.concatenate(users) if users else empty_i,
        items=np.concatenate(items) if items else empty_i,
        ratings=np.concatenate(ratings) if ratings else empty_f,
        timestamps=np.concatenate(stamps) if stamps else empty_i,
    )
    catalog = np.asarray(sorted(m.movie_id for m in movies), dtype=np.int64)
    return log_, catalog, {m.movie_id: m.document for m in movies}, newest


async def run_training(
    db: Database,
    *,
    job_id: UUID,
    store: ModelStore,
    holder: ModelHolder,
    outbox: Outbox,
    min_interactions: int,
    keep_versions: int,
) -> None:
    try:
        await _stage(db, job_id, status="running", stage="snapshot", started_at=utcnow())
        async with db.unit_of_work(write=False) as session:
            job = await AiRepository(session).job(job_id)
            assert job is not None
            kind = job.kind
        log_, catalog, documents, newest = await snapshot(db)
        if len(log_) < min_interactions:
            raise ValueError(f"{len(log_)} interactions; a model needs at least {min_interactions}")
        await _stage(db, job_id, stage="fitting", interactions=len(log_))
        data = {
            "interactions": len(log_),
            "users": len(np.unique(log_.users)),
            "newest_interaction_at": newest.isoformat() if newest else None,
            "source": "ai_interactions",
        }
        # Fitted and saved in a child process (see training_process.py for why).
        saved = await train_and_save_in_child(
            TrainingInput(log_, kind, catalog, documents, store.root, data)
        )
        meta = saved.meta
        await _stage(db, job_id, stage="loading")
        await asyncio.to_thread(store.prune, keep=keep_versions)
        await holder.refresh()
        async with db.unit_of_work() as session:
            done = await AiRepository(session).job(job_id)
            assert done is not None
            done.status, done.stage, done.version = "succeeded", None, meta.version
            done.finished_at = utcnow()
            done.details = {
                "train_seconds": round(saved.seconds, 3),
                "items": saved.items,
                "substitutions": saved.substitutions,
            }
            event = ModelPublished(version=meta.version, kind=meta.kind, interactions=len(log_))
            await outbox.add(session, new_event(event, producer=SERVICE, key=meta.version))
        log.info("ai.training.succeeded", job=str(job_id), version=meta.version)
    except asyncio.CancelledError:
        await _stage(db, job_id, status="failed", error="the process stopped", finished_at=utcnow())
        raise
    except Exception as exc:  # a failed run must be recorded, whatever failed
        log.exception("ai.training.failed", job=str(job_id))
        await _stage(
            db, job_id, status="failed", stage=None, error=str(exc)[:500], finished_at=utcnow()
        )


class TrainingRunner:
    """Runs queued training jobs in the background of the ai process, and on a schedule."""

    def __init__(
        self,
        db: Database,
        *,
        store: ModelStore,
        holder: ModelHolder,
        outbox: Outbox,
        min_interactions: int,
        keep_versions: int,
    ) -> None:
        self.db = db
        self.store = store
        self.holder = holder
        self.outbox = outbox
        self.min_interactions = min_interactions
        self.keep_versions = keep_versions
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def busy(self) -> bool:
        return bool(self._tasks)

    def start(self, job_id: UUID) -> None:
        task = asyncio.create_task(
            run_training(
                self.db,
                job_id=job_id,
                store=self.store,
                holder=self.holder,
                outbox=self.outbox,
                min_interactions=self.min_interactions,
                keep_versions=self.keep_versions,
            ),
            name=f"train-{job_id}",
        )
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def resume(self) -> None:
        """A job a stopped process left queued or running is failed: a new one can start."""
        async with self.db.unit_of_work() as session:
            job = await AiRepository(session).active_job()
            if job is not None:
                job.status, job.error, job.finished_at = "failed", "the process stopped", utcnow()

    async def train_if_due(self, *, kind: str, trigger: str) -> UUID | None:
        """Start a job when there is enough data and it is newer than the current model's."""
        if self.busy:
            return None
        async with self.db.unit_of_work(write=False) as session:
            count, newest = await AiRepository(session).interaction_summary()
        if count < self.min_interactions:
            return None
        current = self.holder.current
        if current is not None:
            data = current.meta.data
            if data.get("interactions") == count and data.get("newest_interaction_at") == (
                newest.isoformat() if newest else None
            ):
                return None
        try:
            job = await request_training(self.db, kind=kind, trigger=trigger, requested_by=None)
        except Conflict:
            return None
        self.start(job.id)
        return job.id

    async def schedule(self, *, every: float, kind: str) -> None:
        while True:
            await asyncio.sleep(every)
            await self.train_if_due(kind=kind, trigger="schedule")

    async def wait(self) -> None:
        while self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
