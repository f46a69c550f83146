"""``movieverse reindex``: rebuilding search indexes."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

import typer

from movieverse.cli.common import console, platform_settings
from movieverse.platform.assembly import SharedRuntime, service_runtime
from movieverse.platform.errors import Conflict
from movieverse.platform.search import open_search_index
from movieverse.platform.search.documents import KINDS
from movieverse.platform.search.port import IndexBusy
from movieverse.services.indexer import service as indexer_service
from movieverse.services.indexer.app import DEFINITION as INDEXER


def reindex(
    kinds: Annotated[
        list[str] | None,
        typer.Option("--kind", help="movies, people or reviews (repeatable); all when omitted"),
    ] = None,
) -> None:
    """Rebuild the search indexes from the indexer's documents and swap them in. On the embedded
    (tantivy) index the running server holds the writer: use POST /indexer/reindex there."""
    settings = platform_settings()
    unknown = sorted(set(kinds or ()) - set(KINDS))
    if unknown:
        console.print(f"[red]Unknown kind {', '.join(unknown)}.[/red] Known: {', '.join(KINDS)}")
        raise typer.Exit(2)

    async def run() -> dict[str, Any]:
        runtime = SharedRuntime(settings, consume=False)
        async with service_runtime(INDEXER, settings, runtime, start_relay=False) as ctx:
            index = await open_search_index(settings, writable=True)
            try:
                async with ctx.db.unit_of_work() as session:
                    job = await indexer_service.request_reindex(
                        session, kinds=indexer_service.parse_kinds(kinds), requested_by=None
                    )
                    job_id = job.id
                vectors = indexer_service.Vectors(enabled=settings.semantic_search)
                await indexer_service.run_job(ctx.db, index, job_id, vectors)
                async with ctx.db.unit_of_work(write=False) as session:
                    done = await indexer_service.get_job(session, job_id=job_id)
                    return indexer_service.job_view(done)
            finally:
                await index.close()

    try:
        job = asyncio.run(run())
    except (IndexBusy, Conflict) as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from exc
    colour = "green" if job["status"] == "succeeded" else "red"
    console.print(
        f"[{colour}]{job['status']}[/{colour}]: {job['done']} of {job['total']} documents "
        f"({', '.join(job['kinds'])})" + (f" -- {job['error']}" if job["error"] else "")
    )
    if job["status"] != "succeeded":
        raise typer.Exit(1)
