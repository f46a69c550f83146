"""Metadata's composition root: the document store, the genre vocabulary seeded, consumers."""

from __future__ import annotations

from contextlib import AsyncExitStack
from dataclasses import dataclass

from movieverse.platform.assembly import ServiceContext, add_readiness_probe
from movieverse.platform.docs import DocumentStore, create_document_store
from movieverse.platform.events.consumers import subscribe_consumers
from movieverse.services.metadata import service
from movieverse.services.metadata.consumers import MetadataHandlers, consumers
from movieverse.services.metadata.models import SERVICE, documents
from movieverse.services.metadata.settings import MetadataSettings


@dataclass(frozen=True)
class MetadataRuntime:
    settings: MetadataSettings
    documents: DocumentStore


async def bootstrap(
    ctx: ServiceContext, own: MetadataSettings, stack: AsyncExitStack
) -> MetadataRuntime:
    store = create_document_store(
        own.documents_url, service=SERVICE, table=documents, database=ctx.db
    )
    stack.push_async_callback(store.close)
    add_readiness_probe(ctx, "documents", store.ping)
    # Look before writing: a start with the vocabulary in place then takes no write lock.
    async with ctx.db.unit_of_work(write=False) as session:
        stale = await service.genres_to_seed(session, store=store)
    if stale:
        async with ctx.db.unit_of_work() as session:
            await service.seed_genres(session, store=store, genres=stale)
    handlers = MetadataHandlers(store=store, outbox=ctx.outbox)
    subscribe_consumers(ctx.name, ctx.bus, ctx.inbox, consumers(handlers))
    return MetadataRuntime(settings=own, documents=store)
