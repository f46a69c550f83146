"""Every query of the indexer."""

from __future__ import annotations

from collections.abc import Sequence
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


class IndexerRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def put(
        self, kind: Kind, items: Sequence[tuple[str, dict[str, Any]]], *, at: datetime
    ) -> None:
        """Create or replace documents (visible), one statement each way for the whole batch."""
        if not items:
            return
        rows = {storage_id(kind, key): body for key, body in items}
        await self.session.execute(
            delete(SearchDocument).where(
                SearchDocument.kind == kind, SearchDocument.doc_id.in_(list(rows))
            )
        )
        await self.session.execute(
            insert(SearchDocument),
            [
                {"kind": kind, "doc_id": doc_id, "body": body, "visible": True, "updated_at": at}
                for doc_id, body in rows.items()
            ],
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
