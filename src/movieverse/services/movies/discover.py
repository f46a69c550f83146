"""The discover query: parsed filters and sorts, and their translation to SQL.

Parsing lives here (not in the router) because lists such as ``with_genres=28,12|16`` have a
grammar of their own: a comma means AND, a pipe means OR (TMDB's convention). Every invalid value
raises a 400 naming its parameter.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Literal, TypeVar

from sqlalchemy import ColumnElement, Select, exists, false, not_, select
from sqlalchemy.sql import operators
from sqlalchemy.sql.elements import UnaryExpression

from movieverse.platform.errors import BadRequest, FieldError
from movieverse.services.movies.models import Movie, MovieGenre, MovieKeyword, MoviePerson

SortField = Literal["popularity", "release_date", "vote_average", "vote_count", "title", "revenue"]
SORT_COLUMNS = {
    "popularity": Movie.popularity,
    "release_date": Movie.release_date,
    "vote_average": Movie.vote_average,
    "vote_count": Movie.vote_count,
    "title": Movie.title_sort,
    "revenue": Movie.revenue,
}
MAX_IDS = 50
T = TypeVar("T")


@dataclass(frozen=True)
class IdExpression:
    """``1,2|3`` → [[1], [2, 3]]: every group must match (AND), any id of a group (OR)."""

    groups: tuple[tuple[int, ...], ...]


@dataclass(frozen=True)
class DiscoverQuery:
    with_genres: IdExpression | None = None
    without_genres: tuple[int, ...] = ()
    with_keywords: IdExpression | None = None
    with_cast: IdExpression | None = None
    with_crew: IdExpression | None = None
    with_people: IdExpression | None = None
    primary_release_year: int | None = None
    release_date_gte: date | None = None
    release_date_lte: date | None = None
    vote_average_gte: float | None = None
    vote_average_lte: float | None = None
    vote_count_gte: int | None = None
    runtime_gte: int | None = None
    runtime_lte: int | None = None
    original_language: str | None = None
    include_adult: bool = False
    sort_field: SortField = "popularity"
    sort_descending: bool = True


def _problem(parameter: str, message: str) -> BadRequest:
    return BadRequest(
        f"Invalid value for {parameter}: {message}",
        errors=[FieldError(field=f"query.{parameter}", message=message, code="invalid")],
    )


def parse_ids(parameter: str, raw: str | None) -> IdExpression | None:
    if raw is None or raw == "":
        return None
    groups = []
    total = 0
    for group in raw.split(","):
        ids = []
        for item in group.split("|"):
            if not item.strip().isdigit():
                raise _problem(parameter, f"{item!r} is not an id (use ids joined by , or |)")
            value = int(item)
            if not 1 <= value <= 2**31 - 1:
                raise _problem(parameter, f"{value} is out of range")
            ids.append(value)
        total += len(ids)
        groups.append(tuple(ids))
    if total > MAX_IDS:
        raise _problem(parameter, f"at most {MAX_IDS} ids")
    return IdExpression(tuple(groups))


def parse_id_list(parameter: str, raw: str | None) -> tuple[int, ...]:
    expression = parse_ids(parameter, raw)
    if expression is None:
        return ()
    return tuple(i for group in expression.groups for i in group)


def parse_sort(raw: str) -> tuple[SortField, bool]:
    name, _, direction = raw.partition(".")
    if name not in SORT_COLUMNS or direction not in {"asc", "desc"}:
        options = ", ".join(f"{n}.asc|desc" for n in SORT_COLUMNS)
        raise _problem("sort_by", f"{raw!r} is not one of {options}")
    return name, direction == "desc"  # type: ignore[return-value]


def check_order(lower_name: str, lower: float | None, upper_name: str, upper: float | None) -> None:
    if lower is not None and upper is not None and lower > upper:
        raise _problem(lower_name, f"must not exceed {upper_name}")


def check_date_order(
    lower_name: str, lower: date | None, upper_name: str, upper: date | None
) -> None:
    if lower is not None and upper is not None and lower > upper:
        raise _problem(lower_name, f"must not exceed {upper_name}")


# How genre filters are written. "Is the movie in this set" (IN over the link table's
# (genre, movie) index) lets the database gather the set once: what counting every match
# needs, and what finds a page fastest when the set is small. A correlated EXISTS is probed
# movie by movie while walking the sort's index: the faster way to a page when matches are
# common (a common genre fills a page within the first few hundred movies), and far slower when
# they are rare (the walk goes through most of the catalog). A common keyword is walked the same
# way; people are rare and always gathered.
#
# Column filters (a year, a language, a score range) have indexes of their own, and SQLite, which
# plans without statistics (nobody runs ANALYZE on a service's file), reads every match through
# such an index and sorts them all, however common they are: at 1M movies, French movies by
# popularity took 61 ms that way against 0.6 ms walking the popularity index, a score range by
# title 224 ms against 1.8 ms. So on SQLite a walk hides the other filter columns from the
# planner (a unary plus, which changes no value). Servers plan from statistics and get the plain
# columns.
Form = Literal["gather", "walk"]


def page_form(*, matches: int, listed: int, rows: int) -> Form:
    """How to find the first ``rows`` (offset + page size) of ``matches`` movies in order among
    ``listed``: a walk reads about rows * listed / matches index entries, a gather about
    ``matches`` movies and sorts them. On the TMDB + MovieLens catalog (11,009 movies, page 5)
    Westerns (195) took 0.2 ms gathered and 2.3-4.4 ms walked, dramas (5,313) 0.15-2.2 ms walked
    and 3.6-6.1 ms gathered."""
    return "gather" if matches * matches < rows * max(listed, 1) else "walk"


def _genre_group(ids: tuple[int, ...], form: Form) -> ColumnElement[bool]:
    if form == "walk":
        return exists().where(MovieGenre.movie_id == Movie.id, MovieGenre.genre_id.in_(ids))
    return Movie.id.in_(select(MovieGenre.movie_id).where(MovieGenre.genre_id.in_(ids)))


def _keyword_group(ids: tuple[int, ...], form: Form) -> ColumnElement[bool]:
    if form == "walk":
        return exists().where(MovieKeyword.movie_id == Movie.id, MovieKeyword.keyword_id.in_(ids))
    return Movie.id.in_(select(MovieKeyword.movie_id).where(MovieKeyword.keyword_id.in_(ids)))


def _person_group(ids: tuple[int, ...], role: str | None) -> ColumnElement[bool]:
    conditions: list[ColumnElement[bool]] = [MoviePerson.person_id.in_(ids)]
    if role is not None:
        conditions.append(MoviePerson.role == role)
    return Movie.id.in_(select(MoviePerson.movie_id).where(*conditions))


def conditions(
    query: DiscoverQuery, *, form: Form = "gather", dialect: str | None = None
) -> list[ColumnElement[bool]]:
    """The WHERE clause of a discover query, as a list of conditions to AND; ``form`` says
    whether it counts the matches or fetches a page of them (see :data:`Form`), ``dialect``
    what database plans it."""
    where: list[ColumnElement[bool]] = [Movie.deleted_at.is_(None)]
    if not query.include_adult:
        # "= false", not "IS false": only the former is matched against an index.
        where.append(Movie.adult == false())
    where.extend(_relation_conditions(query, form))
    sort_column = SORT_COLUMNS[query.sort_field]

    def filtered(column: Any) -> Any:
        if form == "walk" and dialect == "sqlite" and column is not sort_column:
            return UnaryExpression(column, operator=operators.custom_op("+"), type_=column.type)
        return column

    if query.primary_release_year is not None:
        where.append(filtered(Movie.release_year) == query.primary_release_year)
    lower_bounds = [
        (Movie.release_date, query.release_date_gte),
        (Movie.vote_average, query.vote_average_gte),
        (Movie.vote_count, query.vote_count_gte),
        (Movie.runtime, query.runtime_gte),
    ]
    upper_bounds = [
        (Movie.release_date, query.release_date_lte),
        (Movie.vote_average, query.vote_average_lte),
        (Movie.runtime, query.runtime_lte),
    ]
    where.extend(filtered(column) >= value for column, value in lower_bounds if value is not None)
    where.extend(filtered(column) <= value for column, value in upper_bounds if value is not None)
    if query.original_language is not None:
        where.append(filtered(Movie.original_language) == query.original_language)
    return where


def _relation_conditions(query: DiscoverQuery, form: Form) -> list[ColumnElement[bool]]:
    """Genres, keywords and people: one condition per AND-group, an IN list per OR-group."""
    where: list[ColumnElement[bool]] = []
    if query.with_genres:
        where.extend(_genre_group(group, form) for group in query.with_genres.groups)
    if query.without_genres:
        where.append(not_(_genre_group(query.without_genres, form)))
    if query.with_keywords:
        where.extend(_keyword_group(group, form) for group in query.with_keywords.groups)
    people = [(query.with_cast, "cast"), (query.with_crew, "crew"), (query.with_people, None)]
    for expression, role in people:
        if expression:
            where.extend(_person_group(group, role) for group in expression.groups)
    return where


# Sort columns that may hold no value (unknown release date or revenue).
NULLABLE_SORTS = frozenset({"release_date", "revenue"})


def ordered(statement: Select[T], query: DiscoverQuery, *, dialect: str) -> Select[T]:
    """Sort, unknown values (no release date, no revenue) last either way, ties by id.

    The ORDER BY is kept to what an index on the sort column can serve: an "is it unknown" term
    first would make every query sort all its matches. SQLite and MySQL put NULLs first going
    up and last going down, PostgreSQL the other way round, so the extra term (or NULLS LAST) is
    only added where the dialect would otherwise list unknowns first -- and never for a column
    that cannot be NULL, or when a range filter on that column has already left unknowns out.
    """
    column = SORT_COLUMNS[query.sort_field]
    direction = column.desc() if query.sort_descending else column.asc()
    keys: list[ColumnElement[Any]] = [direction]
    if query.sort_field in NULLABLE_SORTS and not _known_only(query):
        if dialect == "postgresql":
            keys = [direction.nulls_last()] if query.sort_descending else keys
        elif not query.sort_descending:
            keys = [column.is_(None), direction]
    return statement.order_by(*keys, Movie.id.asc())


def _known_only(query: DiscoverQuery) -> bool:
    """Whether the filters already leave out movies without a value for the sort column."""
    if query.sort_field == "release_date":
        return query.release_date_gte is not None or query.release_date_lte is not None
    return False
