"""The indexer's HTTP routes (admin only): reindex jobs and the state of the indexes."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, status

from movieverse.platform.assembly import SessionDep, runtime_dependency
from movieverse.platform.db import after_commit
from movieverse.platform.security import AdminUser
from movieverse.services.indexer import service
from movieverse.services.indexer.bootstrap import IndexerRuntime
from movieverse.services.indexer.repository import IndexerRepository
from movieverse.services.indexer.schemas import IndexStatus, ReindexCreate, ReindexJobRead

router = APIRouter(prefix="/indexer", tags=["indexer"])
Runtime = Annotated[IndexerRuntime, Depends(runtime_dependency(IndexerRuntime))]


@router.post(
    "/reindex",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Rebuild indexes from the indexer's documents and swap them in (admin)",
)
async def reindex(
    body: ReindexCreate, admin: AdminUser, session: SessionDep, runtime: Runtime
) -> ReindexJobRead:
    job = await service.request_reindex(
        session, kinds=service.parse_kinds(body.kinds), requested_by=admin.user_id
    )
    runner = runtime.jobs
    job_id = job.id

    async def start() -> None:
        runner.start(job_id)

    after_commit(session, start)
    return ReindexJobRead.model_validate(service.job_view(job))


@router.get("/jobs/{job_id}", summary="A reindex job's progress (admin)")
async def get_job(job_id: UUID, _: AdminUser, session: SessionDep) -> ReindexJobRead:
    job = await service.get_job(session, job_id=job_id)
    return ReindexJobRead.model_validate(service.job_view(job))


@router.get("/status", summary="Documents per index, live generations, recent jobs (admin)")
async def index_status(_: AdminUser, session: SessionDep, runtime: Runtime) -> IndexStatus:
    index = runtime.index
    stats = await index.stats()
    jobs = await IndexerRepository(session).recent_jobs(limit=10)
    return IndexStatus(
        engine=await index.ping(),
        documents=stats.documents,
        generations=stats.generations,
        stale=list(stats.stale),
        jobs=[ReindexJobRead.model_validate(service.job_view(j)) for j in jobs],
    )
