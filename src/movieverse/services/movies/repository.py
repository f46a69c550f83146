"""Every query movies makes through a session; hot read routes have theirs in projections.py."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    Row,
    Table,
    bindparam,
    delete,
    func,
    insert,
    or_,
    select,
    tuple_,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from movieverse.services.movies.models import (
    Activity,
    Base,
    Genre,
    Keyword,
    Movie,
    MovieGenre,
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


# Plain tables for the bulk import's statements (typed as Table, unlike a model's __table__).
_TABLES = Base.metadata.tables
# The key a newly imported movie is found again by: its TMDB id, else its MovieLens or ml-100k id.
_IMPORT_KEYS = ("tmdb_id", "movielens_id", "ml100k_id")


class ImportRepository:
    """The bulk import's statements (``importer.py``): plain executemany inserts and grouped
    updates, without the ORM's per-row bookkeeping, which dominated an import's time."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def keyword_names(self) -> dict[int, str]:
        rows = await self.session.execute(select(Keyword.id, Keyword.name))
        return {int(i): str(n) for i, n in rows}

    async def genre_names(self) -> dict[int, str]:
        rows = await self.session.execute(select(Genre.id, Genre.name))
        return {int(i): str(n) for i, n in rows}

    async def add_genres(self, names: Mapping[int, str]) -> None:
        await self.session.execute(
            _TABLES["movies_genres"].insert(), [{"id": i, "name": n} for i, n in names.items()]
        )

    async def add_keywords(self, names: Mapping[int, str]) -> None:
        await self.session.execute(
            _TABLES["movies_keywords"].insert(), [{"id": i, "name": n} for i, n in names.items()]
        )

    async def merge_keyword(self, *, local: int, into: int) -> None:
        """Re-point the movies of keyword ``local`` to ``into``, then drop ``local``."""
        links = _TABLES["movies_movie_keywords"]

        async def movies_of(keyword_id: int) -> set[int]:
            found = await self.session.execute(
                select(links.c.movie_id).where(links.c.keyword_id == keyword_id)
            )
            return set(found.scalars().all())

        moved = sorted(await movies_of(local) - await movies_of(into))
        await self.session.execute(delete(links).where(links.c.keyword_id == local))
        if moved:
            await self.session.execute(
                links.insert(), [{"movie_id": m, "keyword_id": into} for m in moved]
            )
        await self.session.execute(delete(_TABLES["movies_keywords"]).where(Keyword.id == local))

    async def matching(
        self, columns: Sequence[Any], by: Mapping[str, set[Any]]
    ) -> list[dict[str, Any]]:
        """``columns`` of every movie holding one of the external ids ``by`` names."""
        conditions = [getattr(Movie, name).in_(ids) for name, ids in by.items() if ids]
        if not conditions:
            return []
        rows = await self.session.execute(select(*columns).where(or_(*conditions)))
        return [dict(row) for row in rows.mappings()]

    async def links(
        self, movie_ids: set[int]
    ) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
        """The movies' (movie_id, genre_id) and (movie_id, keyword_id) pairs."""
        genres = await self.session.execute(
            select(MovieGenre.movie_id, MovieGenre.genre_id).where(
                MovieGenre.movie_id.in_(movie_ids)
            )
        )
        keywords = await self.session.execute(
            select(MovieKeyword.movie_id, MovieKeyword.keyword_id).where(
                MovieKeyword.movie_id.in_(movie_ids)
            )
        )
        return [(int(m), int(g)) for m, g in genres], [(int(m), int(k)) for m, k in keywords]

    async def insert_movies(self, rows: list[dict[str, Any]]) -> None:
        """Insert new movies and set each row's ``id``.

        A plain executemany, then one query for the ids by external id: every imported movie
        carries a TMDB, MovieLens or ml-100k id. (INSERT .. RETURNING with guaranteed row order
        is sent one row per statement on SQLite, which made it the slowest part of an import.)
        """
        table = _TABLES["movies_movies"]
        await self.session.execute(table.insert(), rows)
        wanted: dict[str, dict[int, dict[str, Any]]] = {name: {} for name in _IMPORT_KEYS}
        for row in rows:
            name = next((k for k in _IMPORT_KEYS if row.get(k) is not None), None)
            if name is None:
                raise RuntimeError("an imported movie carries no tmdb, MovieLens or ml-100k id")
            wanted[name][row[name]] = row
        keys = [table.c[name] for name in _IMPORT_KEYS]
        conditions = [table.c[name].in_(ids) for name, ids in wanted.items() if ids]
        found = await self.session.execute(select(table.c.id, *keys).where(or_(*conditions)))
        for movie_id, *values in found:
            for name, value in zip(_IMPORT_KEYS, values, strict=True):
                target = wanted[name].get(value) if value is not None else None
                if target is not None and target.get("id") is None:
                    target["id"] = int(movie_id)
        if any(r.get("id") is None for r in rows):
            raise RuntimeError("an inserted movie could not be found again by its external id")

    async def update_movies(self, groups: Mapping[tuple[str, ...], list[dict[str, Any]]]) -> None:
        """One executemany per set of changed columns; each row names its movie as ``_id``."""
        table = _TABLES["movies_movies"]
        for columns, params in groups.items():
            statement = (
                table.update()
                .where(table.c.id == bindparam("_id"))
                .values({c: bindparam(c) for c in columns})
            )
            await self.session.execute(statement, params)

    async def add_links(
        self, genre_rows: list[dict[str, int]], keyword_rows: list[dict[str, int]]
    ) -> None:
        if genre_rows:
            await self.session.execute(_TABLES["movies_movie_genres"].insert(), genre_rows)
        if keyword_rows:
            await self.session.execute(_TABLES["movies_movie_keywords"].insert(), keyword_rows)
