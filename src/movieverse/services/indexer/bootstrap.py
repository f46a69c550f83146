"""The indexer's composition root: the writable search index, its consumers, the reindex jobs."""

from __future__ import annotations

from contextlib import AsyncExitStack
from dataclasses import dataclass

from movieverse.platform.assembly import ServiceContext, add_readiness_probe
from movieverse.platform.events.consumers import subscribe_consumers
from movieverse.platform.search import open_search_index
from movieverse.platform.search.port import SearchIndex
from movieverse.services.indexer import service
from movieverse.services.indexer.consumers import IndexWrites, consumers
from movieverse.services.indexer.settings import IndexerSettings
from movieverse.services.indexer.uncommitted import UncommittedIndexWrites


@dataclass(frozen=True)
class IndexerRuntime:
    settings: IndexerSettings
    index: SearchIndex
    jobs: service.JobRunner


async def bootstrap(
    ctx: ServiceContext, own: IndexerSettings, stack: AsyncExitStack
) -> IndexerRuntime:
    index = await open_search_index(ctx.platform, writable=ctx.shared.consume)
    stack.push_async_callback(index.close)
    add_readiness_probe(ctx, "search_index", index.ping)
    writes = IndexWrites(
        index=index,
        vectors=service.Vectors(enabled=ctx.platform.semantic_search),
        uncommitted=UncommittedIndexWrites(),
    )
    jobs = service.JobRunner(ctx.db, index, writes.vectors, writes.uncommitted)
    stack.push_async_callback(jobs.close)
    subscribe_consumers(ctx.name, ctx.bus, ctx.inbox, consumers(writes))
    runtime = IndexerRuntime(settings=own, index=index, jobs=jobs)
    if ctx.shared.consume:
        await _start_jobs(ctx, runtime)
    return runtime


async def _start_jobs(ctx: ServiceContext, runtime: IndexerRuntime) -> None:
    """Resume a job a stopped process left; else rebuild indexes that are missing or outdated."""
    jobs = runtime.jobs
    await jobs.resume()
    stale = (await runtime.index.stats()).stale
    if jobs.busy or not stale or not runtime.settings.rebuild_stale_on_start:
        return
    async with ctx.db.unit_of_work() as session:
        job = await service.request_reindex(
            session, kinds=service.parse_kinds(stale), requested_by=None
        )
        job_id = job.id
    jobs.start(job_id)
