"""Every query movies makes through a session; hot read routes have theirs in projections.py."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Row, Table, bindparam, delete, func, insert, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from movieverse.services.movies.models import (
    Activity,
    Genre,
    Keyword,
    Movie,
    MovieKeyword,
    MoviePerson,
)


class MovieRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, movie_id: int, *, include_deleted: bool = False) -> Movie | None:
        movie = await self.session.get(Movie, movie_id)
        if movie is None or (movie.deleted_at is not None and not include_deleted):
            return None
        return movie

    async def by_ids(
        self, ids: Sequence[int], *, include_deleted: bool = False
    ) -> dict[int, Movie]:
        if not ids:
            return {}
        statement = select(Movie).where(Movie.id.in_(ids))
        if not include_deleted:
            statement = statement.where(Movie.deleted_at.is_(None))
        return {m.id: m for m in (await self.session.execute(statement)).scalars()}

    async def rating_states(self, ids: Sequence[int]) -> Sequence[Row[*tuple[Any, ...]]]:
        """What applying rating totals reads of each movie (deleted ones too), as plain rows:
        the consumer of every rating write needs no ORM objects to decide what moved."""
        movies = cast(Table, Movie.__table__)
        rows = await self.session.execute(
            select(
                movies.c.id,
                movies.c.ratings_version,
                movies.c.source_vote_average,
                movies.c.source_vote_count,
                movies.c.vote_average,
                movies.c.vote_count,
                movies.c.deleted_at,
            ).where(movies.c.id.in_(ids))
        )
        return rows.all()

    async def save_ratings(self, rows: Sequence[dict[str, object]], *, touched: bool) -> None:
        """Store movies' rating totals and pooled votes, one statement for them all; ``touched``
        rows carry ``b_updated_at`` too (their votes moved, so the changes feed lists them)."""
        if not rows:
            return
        movies = cast(Table, Movie.__table__)
        values: dict[str, object] = {
            "ratings_count": bindparam("b_count"),
            "ratings_average": bindparam("b_average"),
            "ratings_version": bindparam("b_version"),
            "vote_average": bindparam("b_vote_average"),
            "vote_count": bindparam("b_vote_count"),
        }
        if touched:
            values["updated_at"] = bindparam("b_updated_at")
        await self.session.execute(
            update(movies).where(movies.c.id == bindparam("b_id")).values(values),
            list(rows),
        )

    async def by_tmdb_id(self, tmdb_id: int) -> Movie | None:
        found = await self.session.execute(
            select(Movie).where(Movie.tmdb_id == tmdb_id, Movie.deleted_at.is_(None))
        )
        return found.scalar_one_or_none()

    async def by_imdb_id(self, imdb_id: str) -> Movie | None:
        found = await self.session.execute(
            select(Movie).where(Movie.imdb_id == imdb_id, Movie.deleted_at.is_(None))
        )
        return found.scalar_one_or_none()

    async def holder_of(
        self, column: str, value: int | str, *, other_than: int | None
    ) -> tuple[int, bool] | None:
        """The movie other than ``other_than`` that has this external id, and whether it is
        deleted: the unique index covers deleted movies too, so they hold their ids."""
        external = {"tmdb_id": Movie.tmdb_id, "imdb_id": Movie.imdb_id}[column]
        statement = select(Movie.id, Movie.deleted_at.is_not(None)).where(external == value)
        if other_than is not None:
            statement = statement.where(Movie.id != other_than)
        row = (await self.session.execute(statement)).first()
        return None if row is None else (int(row[0]), bool(row[1]))

    async def add(self, movie: Movie) -> None:
        self.session.add(movie)
        await self.session.flush()

    async def keywords(self, movie_id: int) -> list[Keyword]:
        rows = await self.session.execute(
            select(Keyword)
            .join(MovieKeyword, MovieKeyword.keyword_id == Keyword.id)
            .where(MovieKeyword.movie_id == movie_id)
            .order_by(Keyword.name, Keyword.id)
        )
        return list(rows.scalars())

    async def keyword_names(self, movie_ids: Sequence[int]) -> dict[int, list[str]]:
        """Several movies' keyword names at once, each list in :meth:`keywords`' order."""
        rows = await self.session.execute(
            select(MovieKeyword.movie_id, Keyword.name)
            .join(Keyword, MovieKeyword.keyword_id == Keyword.id)
            .where(MovieKeyword.movie_id.in_(movie_ids))
            .order_by(MovieKeyword.movie_id, Keyword.name, Keyword.id)
        )
        names: dict[int, list[str]] = {}
        for movie_id, name in rows:
            names.setdefault(int(movie_id), []).append(name)
        return names

    async def existing_genres(self, ids: Sequence[int]) -> list[Genre]:
        rows = await self.session.execute(select(Genre).where(Genre.id.in_(ids)))
        return list(rows.scalars())

    async def existing_keyword_ids(self, ids: Sequence[int]) -> set[int]:
        rows = await self.session.execute(select(Keyword.id).where(Keyword.id.in_(ids)))
        return set(rows.scalars())

    async def keyword(self, keyword_id: int) -> Keyword | None:
        return await self.session.get(Keyword, keyword_id)

    async def add_keyword(self, keyword: Keyword) -> None:
        self.session.add(keyword)
        await self.session.flush()

    async def delete_keyword(self, keyword_id: int) -> None:
        await self.session.execute(
            delete(MovieKeyword).where(MovieKeyword.keyword_id == keyword_id)
        )
        await self.session.execute(delete(Keyword).where(Keyword.id == keyword_id))

    async def set_keywords(self, movie_id: int, keyword_ids: Sequence[int]) -> None:
        await self.session.execute(delete(MovieKeyword).where(MovieKeyword.movie_id == movie_id))
        if keyword_ids:
            await self.session.execute(
                insert(MovieKeyword),
                [{"movie_id": movie_id, "keyword_id": k} for k in dict.fromkeys(keyword_ids)],
            )

    async def record_activity(self, activity: Activity) -> None:
        self.session.add(activity)
        await self.session.flush()

    async def record_activities(self, rows: Sequence[dict[str, object]]) -> None:
        if rows:
            # The table, not the entity: a Core executemany, without the ORM's bulk insert
            # bookkeeping (every rating write ends in one of these rows).
            await self.session.execute(insert(cast(Table, Activity.__table__)), list(rows))

    async def forget_activity_before(self, cutoff: datetime) -> None:
        await self.session.execute(delete(Activity).where(Activity.occurred_at < cutoff))

    async def popularity_by_id(self, movie_ids: Sequence[int]) -> dict[int, float]:
        rows = await self.session.execute(
            select(Movie.id, Movie.popularity).where(Movie.id.in_(movie_ids))
        )
        return {int(i): float(p) for i, p in rows}

    async def ids_by_tmdb_id(self, tmdb_ids: Sequence[int]) -> dict[int, int]:
        """Catalog ids of the (not deleted) movies with these TMDB ids, keyed by TMDB id."""
        rows = await self.session.execute(
            select(Movie.tmdb_id, Movie.id).where(
                Movie.tmdb_id.in_(tmdb_ids), Movie.deleted_at.is_(None)
            )
        )
        return {int(t): int(i) for t, i in rows if t is not None}

    async def movielens_ids(self, *, ml100k: bool) -> dict[int, int]:
        """Catalog ids of every (not deleted) movie by its MovieLens id (or ml-100k item id)."""
        column = Movie.ml100k_id if ml100k else Movie.movielens_id
        rows = await self.session.execute(
            select(column, Movie.id).where(column.is_not(None), Movie.deleted_at.is_(None))
        )
        return {int(external): int(movie_id) for external, movie_id in rows if external is not None}

    async def count_listed(self) -> int:
        statement = select(func.count()).select_from(Movie).where(Movie.deleted_at.is_(None))
        return int((await self.session.execute(statement)).scalar_one())

    async def replace_people(self, movie_id: int, people: set[tuple[int, str]]) -> None:
        await self.session.execute(delete(MoviePerson).where(MoviePerson.movie_id == movie_id))
        if people:
            await self.session.execute(
                insert(MoviePerson),
                [{"movie_id": movie_id, "person_id": p, "role": r} for p, r in sorted(people)],
            )

    async def changes(
        self, *, after: tuple[datetime, int] | None, limit: int
    ) -> list[tuple[int, datetime, bool]]:
        statement = select(Movie.id, Movie.updated_at, Movie.deleted_at.is_not(None))
        if after is not None:
            statement = statement.where(tuple_(Movie.updated_at, Movie.id) > tuple_(*after))
        statement = statement.order_by(Movie.updated_at, Movie.id).limit(limit)
        rows = await self.session.execute(statement)
        return [(int(i), when, bool(deleted)) for i, when, deleted in rows]
