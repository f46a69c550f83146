"""Every query of the indexer."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from movieverse.platform.search.documents import Kind
from movieverse.services.indexer.models import ReindexJob, SearchDocument

_NUMERIC_KINDS = frozenset({"movies", "people"})


def storage_id(kind: Kind, key: str) -> str:
    """Integer ids zero-padded to 20 digits, so that keyset paging walks them in numeric order."""
    return key.zfill(20) if kind in _NUMERIC_KINDS else key


@dataclass(frozen=True)
class Stored:
    """A document as the indexer keeps it, with its vector when it has one."""

    key: str
    body: dict[str, Any]
    vector: bytes | None = None
    vector_key: str | None = None


class IndexerRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def put(self, kind: Kind, items: Sequence[Stored], *, at: datetime) -> None:
        """Create or replace documents (visible), one statement each way for the whole batch."""
        if not items:
            return
        rows = {storage_id(kind, item.key): item for item in items}
        await self.session.execute(
            delete(SearchDocument).where(
                SearchDocument.kind == kind, SearchDocument.doc_id.in_(list(rows))
            )
        )
        await self.session.execute(
            insert(SearchDocument),
            [
                {
                    "kind": kind, "doc_id": doc_id, "body": item.body, "visible": True,
                    "vector": item.vector, "vector_key": item.vector_key, "updated_at": at,
                }
                for doc_id, item in rows.items()
            ],
        )  # fmt: skip

    async def vectors(self, kind: Kind, keys: Sequence[str]) -> dict[str, tuple[str, bytes]]:
        """``{key: (vector_key, vector)}`` of those documents that have a vector."""
        if not keys:
            return {}
        by_id = {storage_id(kind, key): key for key in keys}
        rows = await self.session.execute(
            select(SearchDocument.doc_id, SearchDocument.vector_key, SearchDocument.vector).where(
                SearchDocument.kind == kind,
                SearchDocument.doc_id.in_(list(by_id)),
                SearchDocument.vector.is_not(None),
            )
        )
        return {
            by_id[doc_id]: (vector_key or "", vector)
            for doc_id, vector_key, vector in rows
            if vector is not None
        }

    async def set_vectors(self, kind: Kind, vectors: dict[str, tuple[str, bytes]]) -> None:
        for key, (vector_key, vector) in vectors.items():
            await self.session.execute(
                update(SearchDocument)
                .where(SearchDocument.kind == kind, SearchDocument.doc_id == storage_id(kind, key))
                .values(vector=vector, vector_key=vector_key)
            )

    async def remove(self, kind: Kind, keys: Sequence[str]) -> None:
        if keys:
            await self.session.execute(
                delete(SearchDocument).where(
                    SearchDocument.kind == kind,
                    SearchDocument.doc_id.in_([storage_id(kind, k) for k in keys]),
                )
            )

    async def get(self, kind: Kind, key: str) -> SearchDocument | None:
        return await self.session.get(SearchDocument, (kind, storage_id(kind, key)))

    async def set_visible(self, kind: Kind, key: str, *, visible: bool, at: datetime) -> bool:
        """Whether there was such a document."""
        result = await self.session.execute(
            update(SearchDocument)
            .where(SearchDocument.kind == kind, SearchDocument.doc_id == storage_id(kind, key))
            .values(visible=visible, updated_at=at)
        )
        return bool(getattr(result, "rowcount", 0))

    async def visible_after(
        self, kind: Kind, after: str | None, *, limit: int
    ) -> list[SearchDocument]:
        """The next ``limit`` visible documents in id order, after the storage id ``after``."""
        query = select(SearchDocument).where(
            SearchDocument.kind == kind, SearchDocument.visible.is_(True)
        )
        if after is not None:
            query = query.where(SearchDocument.doc_id > after)
        query = query.order_by(SearchDocument.doc_id).limit(limit)
        return list((await self.session.scalars(query)).all())

    async def count_visible(self, kind: Kind) -> int:
        query = select(func.count()).where(
            SearchDocument.kind == kind, SearchDocument.visible.is_(True)
        )
        return int((await self.session.execute(query)).scalar_one())

    async def add_job(self, job: ReindexJob) -> None:
        self.session.add(job)
        await self.session.flush()

    async def job(self, job_id: UUID) -> ReindexJob | None:
        return await self.session.get(ReindexJob, job_id)

    async def active_job(self) -> ReindexJob | None:
        query = (
            select(ReindexJob)
            .where(ReindexJob.status.in_(("queued", "running")))
            .order_by(ReindexJob.created_at)
            .limit(1)
        )
        return (await self.session.scalars(query)).first()

    async def recent_jobs(self, *, limit: int) -> list[ReindexJob]:
        query = select(ReindexJob).order_by(ReindexJob.created_at.desc()).limit(limit)
        return list((await self.session.scalars(query)).all())
