"""The catalog's hot reads as Core selects of just the columns shown (issue 18, "Fast paths").

Movie pages and list pages are read here, through the database's read path (platform/reads.py),
not through ORM sessions: no identity map, no unit of work, one statement per step, and on
SQLite no thread handover for reads that finish within their budget. A page of a list is three
statements at most -- its count (cached by the caller), its ids in order from the sort's index,
then those movies' summary columns with their genre ids gathered in the same statement.

Writes, admin reads and aggregates stay on the ORM (repository.py).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Row, String, bindparam, cast, false, func, select

from movieverse.platform.reads import ReadPath
from movieverse.services.movies import discover
from movieverse.services.movies.discover import DiscoverQuery
from movieverse.services.movies.models import Activity, Genre, Movie, MovieGenre

# A list's total is counted once per catalog generation and reused by every sort and page of
# the same filters: the caller provides the cache (see cache.ListPageCache.counted).
CountOnce = Callable[[DiscoverQuery, Callable[[], Awaitable[int]]], Awaitable[int]]

# The movie's genre ids as one text ("18,35"), in the same statement as its row (as text first:
# PostgreSQL's string_agg takes no integers).
_GENRE_IDS = (
    select(func.aggregate_strings(cast(MovieGenre.genre_id, String), ","))
    .where(MovieGenre.movie_id == Movie.id)
    .scalar_subquery()
    .label("genre_id_list")
)

# What a movie in a list shows (schemas.MovieSummary).
SUMMARY_COLUMNS = (
    Movie.id, Movie.title, Movie.original_title, Movie.original_language, Movie.overview,
    Movie.release_date, Movie.release_year, Movie.popularity, Movie.vote_average, Movie.vote_count,
    Movie.poster_path, Movie.backdrop_path, Movie.adult, _GENRE_IDS,
)  # fmt: skip

# What a movie page shows (schemas.MovieRead), built once: a statement made per request costs
# more to build than SQLite takes to answer it.
_MOVIE_PAGE = select(
    *(column for column in Movie.__table__.c if column.name != "deleted_at"), _GENRE_IDS
).where(Movie.id == bindparam("movie_id"), Movie.deleted_at.is_(None))
_SUMMARIES = select(*SUMMARY_COLUMNS).where(Movie.id.in_(bindparam("ids", expanding=True)))
_GENRE_NAMES = select(Genre.id, Genre.name)


def genre_ids(row: Row[Any]) -> list[int]:
    """The row's genre ids, in id order."""
    listed: str | None = row.genre_id_list
    return sorted(int(part) for part in listed.split(",")) if listed else []


class CatalogReads:
    """Reads for movie and list pages. Long-lived: it keeps the genre vocabulary, which only
    grows (an import adds genres; none is renamed), and reloads it when a row names a new one."""

    def __init__(self, reads: ReadPath) -> None:
        self._reads = reads
        self._genre_names: dict[int, str] = {}

    async def movie_page(self, movie_id: int) -> Row[Any] | None:
        """A movie's row for its page (not deleted), with ``genre_id_list``."""
        return await self._reads.first(_MOVIE_PAGE, {"movie_id": movie_id})

    async def genre_names(self, ids: Sequence[int]) -> dict[int, str]:
        if any(i not in self._genre_names for i in ids):
            rows = await self._reads.rows(_GENRE_NAMES)
            self._genre_names = {int(row.id): str(row.name) for row in rows}
        return {i: self._genre_names[i] for i in ids if i in self._genre_names}

    async def summaries(self, ids: Sequence[int]) -> list[Row[Any]]:
        """The summary rows of ``ids``, in that order (ids not found are left out)."""
        if not ids:
            return []
        rows = await self._reads.rows(_SUMMARIES, {"ids": list(ids)})
        by_id = {int(row.id): row for row in rows}
        return [by_id[i] for i in ids if i in by_id]

    async def discover(
        self, query: DiscoverQuery, *, offset: int, limit: int, count_once: CountOnce
    ) -> tuple[int, list[Row[Any]]]:
        total = await self._matches(query, count_once)
        if offset >= total:
            return total, []  # past the last page: no need to look
        listed = await self._matches(DiscoverQuery(include_adult=query.include_adult), count_once)
        form = discover.page_form(matches=total, listed=listed, rows=offset + limit)
        where = discover.conditions(query, form=form, dialect=self._reads.dialect)
        return total, await self._page(where, query, offset=offset, limit=limit)

    async def _matches(self, query: DiscoverQuery, count_once: CountOnce) -> int:
        async def count() -> int:
            return await self._count(discover.conditions(query, form="gather"))

        return await count_once(query, count)

    async def popular_excluding(
        self,
        shown: Sequence[int],
        *,
        include_adult: bool,
        offset: int,
        limit: int,
        count_once: CountOnce,
    ) -> tuple[int, list[Row[Any]]]:
        """The most popular listable movies other than ``shown`` (listable movies already on
        the page above: trending's tail), and how many there are."""
        query = DiscoverQuery(include_adult=include_adult)
        total = await self._matches(query, count_once)
        if limit <= 0:
            return total - len(shown), []
        where = discover.conditions(query)
        if shown:
            where.append(Movie.id.not_in(shown))
        return total - len(shown), await self._page(where, query, offset=offset, limit=limit)

    async def listable(self, ids: Sequence[int], *, include_adult: bool) -> dict[int, Row[Any]]:
        """The summary rows of the movies among ``ids`` that lists may show (not deleted, adult
        only on request)."""
        if not ids:
            return {}
        statement = select(*SUMMARY_COLUMNS).where(Movie.id.in_(ids), Movie.deleted_at.is_(None))
        if not include_adult:
            statement = statement.where(Movie.adult == false())
        return {int(row.id): row for row in await self._reads.rows(statement)}

    async def activity_since(self, since: datetime) -> list[tuple[int, float, datetime]]:
        rows = await self._reads.rows(
            select(Activity.movie_id, Activity.weight, Activity.occurred_at).where(
                Activity.occurred_at >= since
            )
        )
        return [(int(r.movie_id), float(r.weight), r.occurred_at) for r in rows]

    async def _count(self, where: Sequence[ColumnElement[bool]]) -> int:
        row = await self._reads.first(select(func.count()).select_from(Movie).where(*where))
        return int(row[0]) if row is not None else 0

    async def _page(
        self,
        where: Sequence[ColumnElement[bool]],
        query: DiscoverQuery,
        *,
        offset: int,
        limit: int,
    ) -> list[Row[Any]]:
        """A page in two steps: the ids, in order, from the indexes alone (the sort's index
        also holds what every list checks), then those movies' rows. Skipping 10,000 wide rows to
        reach page 500 read each of them; skipping index entries costs a fraction of that."""
        dialect = self._reads.dialect
        ids_query = discover.ordered(select(Movie.id).where(*where), query, dialect=dialect)
        rows = await self._reads.rows(ids_query.offset(offset).limit(limit))
        return await self.summaries([int(row.id) for row in rows])
