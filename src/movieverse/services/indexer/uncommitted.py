"""Index writes whose consumer transaction has not ended yet, so that a reindex can wait for them.

A consumer writes the search index before its transaction commits (service.py says why). A
rebuild that begins in between would lose such a write: the index took it before the rebuild
began, so the rebuild does not capture it as a live write, and the indexer's table, which the
rebuild reads, does not show it until the commit. The table's older row would win (a deleted
document come back) until the next reindex. So a reindex waits, before it reads its first
batch, for the transactions that wrote the index until then to end: each write is then either
in what it reads or made after the rebuild began, and captured by it.
"""

from __future__ import annotations

import asyncio

import structlog
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, SessionTransaction

from movieverse.platform.search.documents import KINDS, Kind

log = structlog.get_logger("movieverse.indexer")
# A consumer's transaction ends milliseconds after its index write; this only bounds a hang.
SETTLE_BOUND_SECONDS = 60.0


class UncommittedIndexWrites:
    """The open transactions of this process that wrote each kind's index."""

    def __init__(self) -> None:
        self._open: dict[Kind, set[asyncio.Future[None]]] = {kind: set() for kind in KINDS}

    def track(self, session: AsyncSession, kind: Kind) -> None:
        """Call before writing ``kind``'s index in the session's transaction."""
        if not session.in_transaction():
            return  # nothing written to the table is waiting for a commit
        key = f"movieverse_uncommitted_index_{kind}"
        if key in session.info:
            return
        ended: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        writes = self._open[kind]
        writes.add(ended)
        session.info[key] = ended

        def on_end(_: Session, transaction: SessionTransaction) -> None:
            # Commit or rollback of the outermost transaction (not of a savepoint).
            if transaction.parent is None and not ended.done():
                ended.set_result(None)
                writes.discard(ended)
                session.info.pop(key, None)

        event.listen(session.sync_session, "after_transaction_end", on_end)

    async def settled(self, kind: Kind) -> None:
        """Wait for the transactions open now that wrote ``kind``'s index to end."""
        pending = set(self._open[kind])
        if not pending:
            return
        _, late = await asyncio.wait(pending, timeout=SETTLE_BOUND_SECONDS)
        if late:
            log.warning("reindex_read_before_index_writes_committed", kind=kind, open=len(late))
