"""Every query of the ai service."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import delete, func, select, tuple_
from sqlalchemy.dialects import mysql, postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from movieverse.services.ai.models import CatalogMovie, Interaction, TrainingJob, UserState

_INTERACTIONS = Interaction.__table__
_MOVIES = CatalogMovie.__table__
_USERS = UserState.__table__
SNAPSHOT_PAGE = 50_000
ACTIVE = ("queued", "running")


@dataclass(frozen=True, slots=True)
class InteractionRow:
    user_id: UUID
    movie_id: int
    rating: float
    rated_at: datetime


def _upsert(dialect: str, table: Any, keys: Sequence[str], columns: Sequence[str]) -> Any:
    """INSERT ... or replace the given columns, in each dialect's words."""
    if dialect in {"mysql", "mariadb"}:
        statement = mysql.insert(table)
        return statement.on_duplicate_key_update({c: statement.inserted[c] for c in columns})
    if dialect == "postgresql":
        pg = postgresql.insert(table)
        return pg.on_conflict_do_update(
            index_elements=list(keys), set_={c: pg.excluded[c] for c in columns}
        )
    lite = sqlite.insert(table)
    return lite.on_conflict_do_update(
        index_elements=list(keys), set_={c: lite.excluded[c] for c in columns}
    )


class AiRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    @property
    def _dialect(self) -> str:
        return self.session.get_bind().dialect.name

    # Interactions ---------------------------------------------------------------------------

    async def put_interactions(self, rows: Sequence[InteractionRow]) -> None:
        if not rows:
            return
        statement = _upsert(
            self._dialect, _INTERACTIONS, ("user_id", "movie_id"), ("rating", "rated_at")
        )
        await self.session.execute(
            statement,
            [
                {
                    "user_id": r.user_id,
                    "movie_id": r.movie_id,
                    "rating": r.rating,
                    "rated_at": r.rated_at,
                }
                for r in rows
            ],
        )

    async def delete_interactions(self, pairs: Sequence[tuple[UUID, int]]) -> None:
        if pairs:
            await self.session.execute(
                delete(Interaction).where(
                    tuple_(Interaction.user_id, Interaction.movie_id).in_(list(pairs))
                )
            )

    async def forget_user(self, user_id: UUID) -> None:
        await self.session.execute(delete(Interaction).where(Interaction.user_id == user_id))
        await self.session.execute(delete(UserState).where(UserState.user_id == user_id))

    async def mark_changed(self, changed: dict[UUID, datetime]) -> None:
        """Move each user's change time forward (never back: a late batch leaves it)."""
        if not changed:
            return
        found = await self.session.execute(
            select(UserState.user_id, UserState.changed_at).where(
                UserState.user_id.in_(list(changed))
            )
        )
        known: dict[UUID, datetime] = dict(found.all())
        rows = [
            {"user_id": user, "changed_at": at}
            for user, at in changed.items()
            if user not in known or known[user] < at
        ]
        if rows:
            await self.session.execute(
                _upsert(self._dialect, _USERS, ("user_id",), ("changed_at",)), rows
            )

    async def history(self, user_id: UUID) -> list[tuple[int, float]]:
        """(movie, rating), best rated first, then newest."""
        return (await self.history_as_of(user_id))[0]

    async def history_as_of(self, user_id: UUID) -> tuple[list[tuple[int, float]], datetime | None]:
        """The history and when it last changed, in one statement (a request's hot read)."""
        rows = (
            await self.session.execute(
                select(Interaction.movie_id, Interaction.rating, UserState.changed_at)
                .outerjoin(UserState, UserState.user_id == Interaction.user_id)
                .where(Interaction.user_id == user_id)
                .order_by(
                    Interaction.rating.desc(), Interaction.rated_at.desc(), Interaction.movie_id
                )
            )
        ).all()
        changed_at = rows[0][2] if rows else None
        return [(int(movie), float(rating)) for movie, rating, _ in rows], changed_at

    async def interaction_summary(self) -> tuple[int, datetime | None]:
        row = (
            await self.session.execute(
                select(func.count(), func.max(Interaction.rated_at)).select_from(Interaction)
            )
        ).one()
        return int(row[0]), row[1]

    async def interaction_pages(self) -> AsyncIterator[list[InteractionRow]]:
        """Every interaction in key order, a page at a time (keyset paging: no OFFSET scans)."""
        after: tuple[UUID, int] | None = None
        while True:
            query = select(
                Interaction.user_id, Interaction.movie_id, Interaction.rating, Interaction.rated_at
            ).order_by(Interaction.user_id, Interaction.movie_id)
            if after is not None:
                query = query.where(tuple_(Interaction.user_id, Interaction.movie_id) > after)
            rows = (await self.session.execute(query.limit(SNAPSHOT_PAGE))).all()
            if not rows:
                return
            page = [InteractionRow(*row) for row in rows]
            yield page
            after = (page[-1].user_id, page[-1].movie_id)

    async def rating_counts(self, movie_ids: Sequence[int] | None = None) -> dict[int, int]:
        query = select(Interaction.movie_id, func.count()).group_by(Interaction.movie_id)
        if movie_ids is not None:
            query = query.where(Interaction.movie_id.in_(movie_ids))
        return {int(m): int(c) for m, c in (await self.session.execute(query)).all()}

    # Movies ----------------------------------------------------------------------------------

    async def put_movies(self, rows: Sequence[dict[str, Any]]) -> None:
        if rows:
            columns = (
                "title",
                "genres",
                "genre_ids",
                "document",
                "popularity",
                "vote_count",
                "adult",
                "updated_at",
            )
            await self.session.execute(
                _upsert(self._dialect, _MOVIES, ("movie_id",), columns), rows
            )

    async def delete_movies(self, movie_ids: Sequence[int]) -> None:
        if movie_ids:
            await self.session.execute(
                delete(CatalogMovie).where(CatalogMovie.movie_id.in_(movie_ids))
            )
            await self.session.execute(
                delete(Interaction).where(Interaction.movie_id.in_(movie_ids))
            )

    async def movie(self, movie_id: int) -> CatalogMovie | None:
        return await self.session.get(CatalogMovie, movie_id)

    async def movies(self) -> list[CatalogMovie]:
        return list((await self.session.scalars(select(CatalogMovie))).all())

    async def movie_count(self) -> int:
        return int(
            (
                await self.session.execute(select(func.count()).select_from(CatalogMovie))
            ).scalar_one()
        )

    # Jobs ------------------------------------------------------------------------------------

    async def add_job(self, job: TrainingJob) -> None:
        self.session.add(job)
        await self.session.flush()

    async def job(self, job_id: UUID) -> TrainingJob | None:
        return await self.session.get(TrainingJob, job_id)

    async def active_job(self) -> TrainingJob | None:
        return (
            await self.session.scalars(
                select(TrainingJob).where(TrainingJob.status.in_(ACTIVE)).limit(1)
            )
        ).first()

    async def recent_jobs(self, *, limit: int) -> list[TrainingJob]:
        return list(
            (
                await self.session.scalars(
                    select(TrainingJob).order_by(TrainingJob.created_at.desc()).limit(limit)
                )
            ).all()
        )
