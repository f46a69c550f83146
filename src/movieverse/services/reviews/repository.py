"""Every query reviews makes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, cast
from uuid import UUID

from sqlalchemy import (
    ColumnElement,
    Connection,
    Executable,
    Table,
    and_,
    bindparam,
    delete,
    func,
    select,
    update,
)
from sqlalchemy.dialects import mysql, postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from movieverse.platform.prepared import Prepared
from movieverse.services.reviews.models import (
    Comment,
    Like,
    MovieRatings,
    Rating,
    Report,
    ReportStatus,
    ReportTarget,
    Review,
)

ReviewSort = Literal["newest", "top", "rating"]
_RATINGS = cast(Table, Rating.__table__)
_TOTALS = cast(Table, MovieRatings.__table__)


@dataclass
class Totals:
    """A movie's rating totals, as :class:`MovieRatings` holds them."""

    movie_id: int
    count: int
    half_points_sum: int
    version: int


@dataclass(frozen=True)
class RatingState:
    half_points: int
    updated_at: datetime


# The rating write is the hottest path of the service: it runs on the write path
# (platform/writes.py), inline on SQLite, as plain statements (Core) on a synchronous connection.
# The statements are built once and prepared (platform/prepared.py): on the inline connection
# they skip SQLAlchemy's per-execution work, which costs more than SQLite's own.
_MINE = and_(_RATINGS.c.movie_id == _TOTALS.c.movie_id, _RATINGS.c.user_id == bindparam("b_user"))
_TOTALS_AND_MINE = (
    select(
        _TOTALS.c.count,
        _TOTALS.c.half_points_sum,
        _TOTALS.c.version,
        _RATINGS.c.half_points,
        _RATINGS.c.updated_at,
    )
    .select_from(_TOTALS.outerjoin(_RATINGS, _MINE))
    .where(_TOTALS.c.movie_id == bindparam("b_movie"))
)
_TOTALS_FOR_UPDATE = (
    select(_TOTALS.c.count, _TOTALS.c.half_points_sum, _TOTALS.c.version)
    .where(_TOTALS.c.movie_id == bindparam("b_movie"))
    .with_for_update()
)
_ONE_RATING = select(_RATINGS.c.half_points, _RATINGS.c.updated_at).where(
    _RATINGS.c.user_id == bindparam("b_user"), _RATINGS.c.movie_id == bindparam("b_movie")
)
_UPDATE_RATING = (
    update(_RATINGS)
    .where(_RATINGS.c.user_id == bindparam("b_user"), _RATINGS.c.movie_id == bindparam("b_movie"))
    .values(half_points=bindparam("b_points"), updated_at=bindparam("b_at"))
)
_DELETE_RATING = delete(_RATINGS).where(
    _RATINGS.c.user_id == bindparam("b_user"), _RATINGS.c.movie_id == bindparam("b_movie")
)
_SAVE_TOTALS = (
    update(_TOTALS)
    .where(_TOTALS.c.movie_id == bindparam("b_movie"))
    .values(
        count=bindparam("b_count"),
        half_points_sum=bindparam("b_sum"),
        version=bindparam("b_version"),
    )
)
_NEW_TOTALS = {"count": 0, "half_points_sum": 0, "version": 0}
_PREPARED_TOTALS_AND_MINE = Prepared(_TOTALS_AND_MINE)
_PREPARED_TOTALS_FOR_UPDATE = Prepared(_TOTALS_FOR_UPDATE)
_PREPARED_ONE_RATING = Prepared(_ONE_RATING)
_PREPARED_INSERT_RATING = Prepared(_RATINGS.insert())
_PREPARED_UPDATE_RATING = Prepared(_UPDATE_RATING)
_PREPARED_DELETE_RATING = Prepared(_DELETE_RATING)
_PREPARED_SAVE_TOTALS = Prepared(_SAVE_TOTALS)


def _totals_if_missing(dialect: str) -> Executable:
    """Insert a movie's empty totals unless they exist: one statement, no savepoint, whoever
    wins a race between two first ratings."""
    if dialect == "postgresql":
        return postgresql.insert(_TOTALS).on_conflict_do_nothing(index_elements=["movie_id"])
    if dialect in {"mysql", "mariadb"}:
        statement = mysql.insert(_TOTALS)
        return statement.on_duplicate_key_update(movie_id=statement.inserted.movie_id)
    return sqlite.insert(_TOTALS).on_conflict_do_nothing(index_elements=["movie_id"])


class RatingRows:
    """A rating write's statements, on the write path's synchronous connection."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self._dialect = connection.dialect.name

    def locked_totals(self, movie_id: int, user_id: UUID) -> tuple[Totals, RatingState | None]:
        """The movie's totals, locked until commit, and the user's rating of it: rating writes on
        one movie take turns, so the totals never miss a concurrent change."""
        if self._dialect == "sqlite":
            # Writers take turns at SQLite's one write lock already (BEGIN IMMEDIATE), so one
            # statement can read both. On a server the rating must be read after the lock is
            # granted, by a statement of its own: a join would pair the fresh totals with the
            # rating as it was before the writer we waited for changed it.
            found = self._totals_and_rating(movie_id, user_id)
            if found is None:
                self._create_totals(movie_id)
                found = self._totals_and_rating(movie_id, user_id)
            assert found is not None
            return found
        if self._dialect in {"mysql", "mariadb"}:
            # InnoDB's locking read of a missing row locks the gap where it would go, and two
            # first writers of a movie that both hold that gap deadlock on their inserts. The
            # upsert locks the row itself, made or found, so they queue on it instead.
            self._create_totals(movie_id)
        totals = self._totals_for_update(movie_id)
        if totals is None:
            self._create_totals(movie_id)  # PostgreSQL: a first writer of the movie
            totals = self._totals_for_update(movie_id)
            assert totals is not None
        return totals, self.rating(user_id, movie_id)

    def _totals_and_rating(
        self, movie_id: int, user_id: UUID
    ) -> tuple[Totals, RatingState | None] | None:
        row = _PREPARED_TOTALS_AND_MINE.first(
            self.connection, {"b_movie": movie_id, "b_user": user_id}
        )
        if row is None:
            return None
        totals = Totals(movie_id, int(row[0]), int(row[1]), int(row[2]))
        return totals, None if row[3] is None else RatingState(int(row[3]), row[4])

    def _totals_for_update(self, movie_id: int) -> Totals | None:
        row = _PREPARED_TOTALS_FOR_UPDATE.first(self.connection, {"b_movie": movie_id})
        return None if row is None else Totals(movie_id, int(row[0]), int(row[1]), int(row[2]))

    def _create_totals(self, movie_id: int) -> None:
        self.connection.execute(
            _totals_if_missing(self._dialect), {"movie_id": movie_id, **_NEW_TOTALS}
        )

    def rating(self, user_id: UUID, movie_id: int) -> RatingState | None:
        row = _PREPARED_ONE_RATING.first(self.connection, {"b_user": user_id, "b_movie": movie_id})
        return None if row is None else RatingState(int(row[0]), row[1])

    def insert_rating(self, user_id: UUID, movie_id: int, rating: RatingState) -> None:
        _PREPARED_INSERT_RATING.execute(
            self.connection,
            {
                "user_id": user_id,
                "movie_id": movie_id,
                "half_points": rating.half_points,
                "source": "user",
                "created_at": rating.updated_at,
                "updated_at": rating.updated_at,
            },
        )

    def update_rating(self, user_id: UUID, movie_id: int, rating: RatingState) -> None:
        _PREPARED_UPDATE_RATING.execute(
            self.connection,
            {
                "b_user": user_id,
                "b_movie": movie_id,
                "b_points": rating.half_points,
                "b_at": rating.updated_at,
            },
        )

    def delete_rating(self, user_id: UUID, movie_id: int) -> None:
        _PREPARED_DELETE_RATING.execute(self.connection, {"b_user": user_id, "b_movie": movie_id})

    def save_totals(self, totals: Totals) -> None:
        _PREPARED_SAVE_TOTALS.execute(
            self.connection,
            {
                "b_movie": totals.movie_id,
                "b_count": totals.count,
                "b_sum": totals.half_points_sum,
                "b_version": totals.version,
            },
        )


class ReviewsRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    @property
    def _dialect(self) -> str:
        return self.session.get_bind().dialect.name

    # Ratings ---------------------------------------------------------------------------------

    async def add(self, row: Rating | Review | Like | Comment | Report) -> None:
        self.session.add(row)
        await self.session.flush()

    async def remove(self, row: Rating | Review | Comment) -> None:
        await self.session.delete(row)
        await self.session.flush()

    async def ratings_page(
        self, user_id: UUID, *, offset: int, limit: int
    ) -> tuple[int, list[Rating]]:
        where = Rating.user_id == user_id
        total = await self._count(Rating, where)
        rows = await self.session.execute(
            select(Rating)
            .where(where)
            .order_by(Rating.updated_at.desc(), Rating.id.desc())
            .offset(offset)
            .limit(limit)
        )
        return total, list(rows.scalars())

    async def ratings_by(self, movie_id: int, user_ids: Sequence[UUID]) -> dict[UUID, int]:
        """Half points each of these users gave the movie."""
        if not user_ids:
            return {}
        rows = await self.session.execute(
            select(Rating.user_id, Rating.half_points).where(
                Rating.movie_id == movie_id, Rating.user_id.in_(user_ids)
            )
        )
        return {row.user_id: row.half_points for row in rows}

    async def ratings_for(self, pairs: Sequence[tuple[UUID, int]]) -> dict[tuple[UUID, int], int]:
        """Half points per (user, movie), for lists of reviews of several movies."""
        found: dict[tuple[UUID, int], int] = {}
        for movie_id in sorted({m for _, m in pairs}):
            users = [u for u, m in pairs if m == movie_id]
            for user_id, points in (await self.ratings_by(movie_id, users)).items():
                found[(user_id, movie_id)] = points
        return found

    # Reviews ---------------------------------------------------------------------------------

    async def review(self, review_id: UUID) -> Review | None:
        return await self.session.get(Review, review_id)

    async def review_of(self, user_id: UUID, movie_id: int) -> Review | None:
        found = await self.session.execute(
            select(Review).where(Review.user_id == user_id, Review.movie_id == movie_id)
        )
        return found.scalar_one_or_none()

    async def movie_reviews(
        self, movie_id: int, *, sort: ReviewSort, has_text: bool | None, offset: int, limit: int
    ) -> tuple[int, list[Review]]:
        where: list[ColumnElement[bool]] = [Review.movie_id == movie_id, Review.hidden.is_(False)]
        if has_text is not None:
            where.append(Review.has_text.is_(has_text))
        total = await self._count(Review, *where)
        statement = select(Review).where(*where)
        if sort == "newest":
            statement = statement.order_by(Review.created_at.desc(), Review.id)
        elif sort == "top":
            statement = statement.order_by(
                Review.likes_count.desc(), Review.created_at.desc(), Review.id
            )
        else:
            statement = statement.outerjoin(
                Rating, and_(Rating.user_id == Review.user_id, Rating.movie_id == Review.movie_id)
            )
            by_rating = Rating.half_points.desc()
            # Reviews without a rating last: PostgreSQL puts NULLs first when descending.
            if self._dialect == "postgresql":
                by_rating = by_rating.nulls_last()
            statement = statement.order_by(by_rating, Review.created_at.desc(), Review.id)
        rows = await self.session.execute(statement.offset(offset).limit(limit))
        return total, list(rows.scalars())

    async def reviews_by_username(
        self, username: str, *, offset: int, limit: int
    ) -> tuple[int, list[Review]]:
        where = (Review.username == username, Review.hidden.is_(False))
        total = await self._count(Review, *where)
        rows = await self.session.execute(
            select(Review)
            .where(*where)
            .order_by(Review.created_at.desc(), Review.id)
            .offset(offset)
            .limit(limit)
        )
        return total, list(rows.scalars())

    async def adjust_counts(self, review_id: UUID, *, likes: int = 0, comments: int = 0) -> None:
        """Counters move in the database, not in Python: two likes at once both count."""
        await self.session.execute(
            update(Review)
            .where(Review.id == review_id)
            .values(
                likes_count=Review.likes_count + likes,
                comments_count=Review.comments_count + comments,
            )
        )

    # Likes -----------------------------------------------------------------------------------

    async def like(self, review_id: UUID, user_id: UUID) -> Like | None:
        return await self.session.get(Like, (review_id, user_id))

    async def delete_like(self, like: Like) -> None:
        await self.session.delete(like)
        await self.session.flush()

    # Comments --------------------------------------------------------------------------------

    async def comment(self, comment_id: UUID) -> Comment | None:
        return await self.session.get(Comment, comment_id)

    async def replies_count(self, comment_id: UUID) -> int:
        return await self._count(Comment, Comment.parent_id == comment_id)

    async def delete_comment(self, comment: Comment) -> None:
        # Replies go with it (and counted before: the counter drops by all of them).
        await self.session.execute(delete(Comment).where(Comment.parent_id == comment.id))
        await self.session.execute(delete(Comment).where(Comment.id == comment.id))

    async def comments_page(
        self, review_id: UUID, *, offset: int, limit: int
    ) -> tuple[int, list[Comment], list[Comment]]:
        """A page of top-level comments, oldest first, and every visible reply to them."""
        where = (
            Comment.review_id == review_id,
            Comment.parent_id.is_(None),
            Comment.hidden.is_(False),
        )
        total = await self._count(Comment, *where)
        top = list(
            (
                await self.session.execute(
                    select(Comment)
                    .where(*where)
                    .order_by(Comment.created_at, Comment.id)
                    .offset(offset)
                    .limit(limit)
                )
            ).scalars()
        )
        replies: list[Comment] = []
        if top:
            replies = list(
                (
                    await self.session.execute(
                        select(Comment)
                        .where(
                            Comment.parent_id.in_([c.id for c in top]),
                            Comment.hidden.is_(False),
                        )
                        .order_by(Comment.created_at, Comment.id)
                    )
                ).scalars()
            )
        return total, top, replies

    # Reports ---------------------------------------------------------------------------------

    async def report_by(
        self, target_type: ReportTarget, target_id: UUID, reporter_id: UUID
    ) -> Report | None:
        found = await self.session.execute(
            select(Report).where(
                Report.target_type == target_type,
                Report.target_id == target_id,
                Report.reporter_id == reporter_id,
            )
        )
        return found.scalar_one_or_none()

    async def reports_page(
        self, status: ReportStatus | None, *, offset: int, limit: int
    ) -> tuple[int, list[Report]]:
        where = [Report.status == status] if status is not None else []
        total = await self._count(Report, *where)
        rows = await self.session.execute(
            select(Report)
            .where(*where)
            .order_by(Report.created_at, Report.id)
            .offset(offset)
            .limit(limit)
        )
        return total, list(rows.scalars())

    async def resolve_reports(
        self, target_type: ReportTarget, target_id: UUID, when: object
    ) -> None:
        await self.session.execute(
            update(Report)
            .where(
                Report.target_type == target_type,
                Report.target_id == target_id,
                Report.status == ReportStatus.OPEN,
            )
            .values(status=ReportStatus.RESOLVED, resolved_at=when)
        )

    # A user's erasure -------------------------------------------------------------------------

    async def ratings_of_user(self, user_id: UUID) -> list[Rating]:
        return list(
            (await self.session.execute(select(Rating).where(Rating.user_id == user_id))).scalars()
        )

    async def reviews_of_user(self, user_id: UUID) -> list[Review]:
        return list(
            (await self.session.execute(select(Review).where(Review.user_id == user_id))).scalars()
        )

    async def likes_of_user(self, user_id: UUID) -> list[Like]:
        return list(
            (await self.session.execute(select(Like).where(Like.user_id == user_id))).scalars()
        )

    async def comments_of_user(self, user_id: UUID) -> list[Comment]:
        return list(
            (
                await self.session.execute(select(Comment).where(Comment.user_id == user_id))
            ).scalars()
        )

    async def delete_reports_by(self, user_id: UUID) -> None:
        await self.session.execute(delete(Report).where(Report.reporter_id == user_id))

    # -----------------------------------------------------------------------------------------

    async def _count(self, model: type[object], *where: ColumnElement[bool]) -> int:
        statement = select(func.count()).select_from(model).where(*where)
        return int((await self.session.execute(statement)).scalar_one())


def _import_upsert(dialect: str) -> Any:
    """INSERT that leaves an equal rating alone and corrects a different one. One statement for
    all rows (an executemany), compiled once: a VALUES list per batch compiled each time."""
    if dialect in {"mysql", "mariadb"}:
        upsert = mysql.insert(_RATINGS)
        # MySQL writes (and counts) only rows whose value actually changes.
        return upsert.on_duplicate_key_update(
            half_points=upsert.inserted.half_points, updated_at=upsert.inserted.updated_at
        )
    if dialect == "postgresql":
        pg = postgresql.insert(_RATINGS)
        return pg.on_conflict_do_update(
            index_elements=[_RATINGS.c.user_id, _RATINGS.c.movie_id],
            set_={"half_points": pg.excluded.half_points, "updated_at": pg.excluded.updated_at},
            where=_RATINGS.c.half_points != pg.excluded.half_points,
        )
    lite = sqlite.insert(_RATINGS)
    return lite.on_conflict_do_update(
        index_elements=[_RATINGS.c.user_id, _RATINGS.c.movie_id],
        set_={"half_points": lite.excluded.half_points, "updated_at": lite.excluded.updated_at},
        where=_RATINGS.c.half_points != lite.excluded.half_points,
    )


class RatingsImportRepository:
    """The bulk ratings import's statements (``importer.py``)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def upsert(self, rows: Sequence[dict[str, object]]) -> None:
        dialect = self.session.get_bind().dialect.name
        await self.session.execute(_import_upsert(dialect), rows)

    async def counted(self, movie_ids: Sequence[int]) -> dict[int, tuple[int, int]]:
        """Each movie's (count, sum of half points) over its ratings, recounted."""
        rows = await self.session.execute(
            select(Rating.movie_id, func.count(), func.sum(Rating.half_points))
            .where(Rating.movie_id.in_(movie_ids))
            .group_by(Rating.movie_id)
        )
        return {int(m): (int(count), int(points)) for m, count, points in rows}

    async def totals(self, movie_ids: Sequence[int]) -> dict[int, MovieRatings]:
        found = await self.session.execute(
            select(MovieRatings).where(MovieRatings.movie_id.in_(movie_ids))
        )
        return {t.movie_id: t for t in found.scalars()}
