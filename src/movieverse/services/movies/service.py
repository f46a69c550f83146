"""Movies' business logic. Functions take the caller's session and never commit (rule 2)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import Row
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from movieverse.contracts.envelope import EventPayload, new_event
from movieverse.contracts.movies import MovieCreated, MovieDeleted, MovieUpdated
from movieverse.platform import appends
from movieverse.platform.db import utcnow
from movieverse.platform.errors import BadRequest, Conflict, FieldError, NotFound
from movieverse.platform.events.outbox import Outbox
from movieverse.platform.pagination import Page, PageParams, decode_cursor, encode_cursor
from movieverse.services.movies import discover, projections, trending
from movieverse.services.movies.cache import MovieCache
from movieverse.services.movies.models import SERVICE, Activity, Genre, Keyword, Movie
from movieverse.services.movies.people import PeopleDirectory
from movieverse.services.movies.projections import CatalogReads, CountOnce
from movieverse.services.movies.related import RelatedMovies
from movieverse.services.movies.repository import MovieRepository
from movieverse.services.movies.schemas import (
    ChangesPage,
    GenreRead,
    KeywordRead,
    MovieChange,
    MovieCreate,
    MovieRead,
    MovieSummary,
    MovieUpdate,
)
from movieverse.services.movies.scores import pooled
from movieverse.services.movies.snapshot import COLUMNS as SNAPSHOT_COLUMNS
from movieverse.services.movies.snapshot import Snapshot, movie_snapshot

# Sub-resources GET /movies/{id}?append_to_response= can add, and who provides them: credits
# come from metadata, similar and recommendations from the recommendations service.
APPENDABLE = ("credits", "keywords", "similar", "recommendations")


def parse_appends(raw: str | None) -> list[str]:
    return appends.parse_appends(raw, valid=APPENDABLE)


# A movie as the ORM loads it (writes, admin reads) or as a projection row (hot reads): both
# have the columns as attributes.
MovieFields = Movie | Row[Any]


def release_year(movie: MovieFields) -> int | None:
    """The year every representation shows: the date's when known, else the source's year (a
    MovieLens-only movie has no date, and its title no longer carries "(1995)")."""
    return movie.release_date.year if movie.release_date else movie.release_year


def movie_read(movie: Movie) -> MovieRead:
    return _movie_read(movie, [GenreRead(id=g.id, name=g.name) for g in movie.genres])


def _movie_read(movie: MovieFields, genres: list[GenreRead]) -> MovieRead:
    """``genres`` in name order, as the ORM relationship loads them."""
    return MovieRead(
        id=movie.id,
        tmdb_id=movie.tmdb_id,
        imdb_id=movie.imdb_id,
        title=movie.title,
        original_title=movie.original_title,
        original_language=movie.original_language,
        overview=movie.overview,
        tagline=movie.tagline,
        release_date=movie.release_date,
        release_year=release_year(movie),
        runtime=movie.runtime,
        status=movie.status,
        budget=movie.budget,
        revenue=movie.revenue,
        adult=movie.adult,
        homepage=movie.homepage,
        poster_path=movie.poster_path,
        backdrop_path=movie.backdrop_path,
        genres=genres,
        spoken_languages=list(movie.spoken_languages or []),
        production_countries=list(movie.production_countries or []),
        production_companies=list(movie.production_companies or []),
        popularity=movie.popularity,
        vote_average=movie.vote_average,
        vote_count=movie.vote_count,
        updated_at=movie.updated_at,
    )


def _genre_ids(movie: Movie) -> list[int]:
    """The genres loaded with the movie, in id order."""
    return sorted(g.id for g in movie.genres)


def _summary(movie: MovieFields, genre_ids: list[int]) -> MovieSummary:
    return MovieSummary(
        id=movie.id,
        title=movie.title,
        original_title=movie.original_title,
        original_language=movie.original_language,
        overview=movie.overview,
        release_date=movie.release_date,
        release_year=release_year(movie),
        genre_ids=genre_ids,
        popularity=movie.popularity,
        vote_average=movie.vote_average,
        vote_count=movie.vote_count,
        poster_path=movie.poster_path,
        backdrop_path=movie.backdrop_path,
        adult=movie.adult,
    )


def _summaries(rows: Sequence[Row[Any]]) -> list[MovieSummary]:
    return [_summary(row, projections.genre_ids(row)) for row in rows]


async def _existing(session: AsyncSession, movie_id: int) -> Movie:
    movie = await MovieRepository(session).get(movie_id)
    if movie is None:
        raise NotFound(f"No movie with id {movie_id}")
    return movie


def movie_json(movie: Movie) -> bytes:
    """A movie page's body without appends: also what If-Match on a write is compared with."""
    return orjson.dumps(movie_read(movie).model_dump(mode="json"))


async def details_json(catalog: CatalogReads, *, movie_id: int, cache: MovieCache) -> bytes:
    """The movie page's body, from the cache or read and cached. The same bytes as
    :func:`movie_json` of the movie loaded by the ORM, so ETags agree between reads and writes."""
    body = await cache.get(movie_id)
    if body is None:
        row = await catalog.movie_page(movie_id)
        if row is None:
            raise NotFound(f"No movie with id {movie_id}")
        names = await catalog.genre_names(projections.genre_ids(row))
        genres = sorted((GenreRead(id=i, name=n) for i, n in names.items()), key=_by_name)
        body = orjson.dumps(_movie_read(row, genres).model_dump(mode="json"))
        await cache.put(movie_id, body)
    return body


def _by_name(genre: GenreRead) -> str:
    return genre.name


async def appended(
    session: AsyncSession,
    *,
    movie_id: int,
    appends: Sequence[str],
    people: PeopleDirectory,
    related: RelatedMovies,
) -> dict[str, Any]:
    """The sub-resources ``append_to_response`` asked for, by name."""
    extra: dict[str, Any] = {}
    for kind in ("similar", "recommendations"):
        if kind in appends:
            extra[kind] = await related.page(movie_id, kind)
    if "credits" in appends:
        extra["credits"] = await people.credits(movie_id)
    if "keywords" in appends:
        keywords = await MovieRepository(session).keywords(movie_id)
        extra["keywords"] = {
            "keywords": [KeywordRead(id=k.id, name=k.name).model_dump() for k in keywords]
        }
    return extra


async def discover_page(
    catalog: CatalogReads,
    *,
    query: discover.DiscoverQuery,
    params: PageParams,
    count_once: CountOnce,
) -> Page[MovieSummary]:
    total, rows = await catalog.discover(
        query, offset=params.offset, limit=params.per_page, count_once=count_once
    )
    return Page[MovieSummary].build(params, total=total, results=_summaries(rows))


MAX_TRENDING = 1000
LIST_ACTIVITY = {"watchlist": "watchlist_add", "favourites": "favourite_add", "seen": "seen_add"}


async def trending_page(
    catalog: CatalogReads,
    *,
    window: trending.Window,
    params: PageParams,
    include_adult: bool,
    count_once: CountOnce,
) -> Page[MovieSummary]:
    """Movies ranked by decayed recent activity, then by popularity."""
    spec = trending.WINDOWS[window]
    now = utcnow()
    ranked = trending.decayed_scores(
        await catalog.activity_since(now - spec.span), now=now, spec=spec
    )[:MAX_TRENDING]
    shown = await catalog.listable(
        [movie_id for movie_id, _ in ranked], include_adult=include_adult
    )
    active = [shown[movie_id] for movie_id, _ in ranked if movie_id in shown]
    from_active = active[params.offset : params.offset + params.per_page]
    rest_total, rest = await catalog.popular_excluding(
        [int(row.id) for row in active],
        include_adult=include_adult,
        offset=max(0, params.offset - len(active)),
        limit=params.per_page - len(from_active),
        count_once=count_once,
    )
    results = _summaries(from_active + rest)
    return Page[MovieSummary].build(params, total=len(active) + rest_total, results=results)


async def record_list_activity(
    session: AsyncSession, *, movie_id: int, list_name: str, action: str, occurred_at: datetime
) -> None:
    """A user put a movie on a list: that is interest, and interest is what trending ranks."""
    kind = LIST_ACTIVITY.get(list_name)
    if action != "added" or kind is None:
        return
    await MovieRepository(session).record_activity(
        Activity(
            movie_id=movie_id,
            kind=kind,
            weight=trending.ACTIVITY_WEIGHTS[kind],
            occurred_at=occurred_at,
        )
    )


async def index_people(
    session: AsyncSession, *, movie_id: int, people: set[tuple[int, str]]
) -> None:
    """``metadata.credits.changed``: these people, in these roles, are now the movie's credits."""
    movies = MovieRepository(session)
    if await movies.get(movie_id, include_deleted=True) is None:
        return  # credits for a movie the catalog does not have: nothing to filter by
    await movies.replace_people(movie_id, people)


async def name_keyword(session: AsyncSession, *, keyword_id: int, name: str) -> None:
    """``metadata.keyword.changed``: add the keyword to the vocabulary, or rename it."""
    movies = MovieRepository(session)
    keyword = await movies.keyword(keyword_id)
    if keyword is None:
        await movies.add_keyword(Keyword(id=keyword_id, name=name))
    elif keyword.name != name:
        keyword.name = name


async def ids_by_tmdb_id(session: AsyncSession, *, tmdb_ids: Sequence[int]) -> dict[int, int]:
    return await MovieRepository(session).ids_by_tmdb_id(tmdb_ids)


async def popularity_by_id(session: AsyncSession, *, movie_ids: Sequence[int]) -> dict[int, float]:
    return await MovieRepository(session).popularity_by_id(movie_ids)


async def movielens_ids(session: AsyncSession, *, ml100k: bool) -> dict[int, int]:
    return await MovieRepository(session).movielens_ids(ml100k=ml100k)


async def catalog_size(session: AsyncSession) -> int:
    """How many movies the catalog lists (deleted ones left out)."""
    return await MovieRepository(session).count_listed()


async def prune_activity(session: AsyncSession) -> None:
    await MovieRepository(session).forget_activity_before(utcnow() - trending.LONGEST_WINDOW)


async def find_external(
    session: AsyncSession, *, source: str, external_id: str
) -> list[MovieSummary]:
    movies = MovieRepository(session)
    if source == "tmdb_id":
        if not external_id.isdigit():
            raise BadRequest("A tmdb_id is a positive integer")
        movie = await movies.by_tmdb_id(int(external_id))
    else:
        movie = await movies.by_imdb_id(external_id)
    if movie is None:
        return []
    return [_summary(movie, _genre_ids(movie))]


async def changes_page(session: AsyncSession, *, since: str | None, limit: int) -> ChangesPage:
    """Changed movie ids in commit order. ``since`` is a cursor from a previous page, or an
    ISO-8601 instant to start from."""
    after: tuple[datetime, int] | None = None
    if since:
        after = _parse_since(since)
    rows = await MovieRepository(session).changes(after=after, limit=limit)
    results = [MovieChange(id=i, updated_at=when, deleted=deleted) for i, when, deleted in rows]
    next_cursor = None
    if rows:
        last_id, last_when, _ = rows[-1]
        next_cursor = encode_cursor({"t": last_when.isoformat(), "id": last_id})
    elif after is not None:
        next_cursor = since  # nothing new yet: poll again with the same cursor
    return ChangesPage(results=results, next_cursor=next_cursor)


def _parse_since(since: str) -> tuple[datetime, int]:
    try:
        instant = datetime.fromisoformat(since.replace("Z", "+00:00"))
    except ValueError:
        position = decode_cursor(since)
        try:
            return datetime.fromisoformat(str(position["t"])), int(position["id"])
        except (KeyError, TypeError, ValueError) as exc:
            raise BadRequest(
                "since is neither a cursor from this feed nor an ISO-8601 instant"
            ) from exc
    if instant.tzinfo is None:
        raise BadRequest("since needs a timezone, e.g. 2026-01-31T12:00:00Z")
    return instant, 0


async def create_movie(
    session: AsyncSession, *, outbox: Outbox, data: MovieCreate, cache: MovieCache
) -> Movie:
    movies = MovieRepository(session)
    values = data.model_dump(exclude_unset=True, exclude={"title"})
    # Every check reads before anything changes: see update_movie.
    relations = await _resolve_relations(movies, data)
    await _refuse_taken_external_ids(movies, values, movie_id=None)
    now = utcnow()
    movie = Movie(
        title=data.title,
        title_sort=data.title.casefold(),
        adult=False,
        popularity=0.0,
        vote_average=0.0,
        vote_count=0,
        source_vote_average=0.0,
        source_vote_count=0,
        ratings_average=0.0,
        ratings_count=0,
        ratings_version=0,
        sources=["admin"],
        spoken_languages=[],
        production_countries=[],
        production_companies=[],
        genres=[],
        created_at=now,
        updated_at=now,
    )
    _apply(movie, values)
    relations.apply_genres(movie)
    try:
        await movies.add(movie)
    except IntegrityError as exc:
        raise _taken_meanwhile(exc) from exc
    await relations.apply_keywords(movies, movie)
    await _emit(outbox, session, MovieCreated, movie)
    # Nothing can be cached for a new id -- unless a deleted movie's page was, under a reused id.
    cache.forget_after_commit(session, movie.id)
    return movie


async def update_movie(
    session: AsyncSession, *, outbox: Outbox, movie: Movie, changes: MovieUpdate, cache: MovieCache
) -> Movie:
    movies = MovieRepository(session)
    values = changes.model_dump(exclude_unset=True)
    # Every check reads before the movie changes: a query after a change flushes it first
    # (autoflush), so a taken tmdb_id sent with genre_ids used to fail inside the genre lookup
    # as a database error (a 500) instead of as the 409 below.
    relations = await _resolve_relations(movies, changes)
    await _refuse_taken_external_ids(movies, values, movie_id=movie.id)
    _apply(movie, values)
    relations.apply_genres(movie)
    movie.updated_at = utcnow()
    try:
        await session.flush()
    except IntegrityError as exc:
        raise _taken_meanwhile(exc) from exc
    await relations.apply_keywords(movies, movie)
    await _emit(outbox, session, MovieUpdated, movie, changed=_snapshot_fields(values))
    cache.forget_after_commit(session, movie.id)
    return movie


def _snapshot_fields(values: dict[str, object]) -> list[str]:
    """The event snapshot's names of the fields a change touched."""
    renamed = {"genre_ids": "genres", "keyword_ids": "keywords"}
    return sorted({renamed.get(name, name) for name in values})


async def delete_movie(
    session: AsyncSession, *, outbox: Outbox, movie: Movie, cache: MovieCache
) -> None:
    """Soft delete: the row stays for the changes feed; every read treats it as gone."""
    now = utcnow()
    movie.deleted_at = now
    movie.updated_at = now
    await _emit_payload(outbox, session, MovieDeleted(movie_id=movie.id), movie.id)
    cache.forget_after_commit(session, movie.id)


async def existing_movie(session: AsyncSession, movie_id: int) -> Movie:
    return await _existing(session, movie_id)


_SCALARS = {
    "tmdb_id", "imdb_id", "original_title", "original_language", "overview", "tagline",
    "release_date", "runtime", "status", "budget", "revenue", "homepage", "poster_path",
    "backdrop_path", "popularity",
}  # fmt: skip
# An admin's vote_average/vote_count are the source's votes: MovieVerse's ratings pool with them.
_SOURCE_VOTES = {"vote_average": "source_vote_average", "vote_count": "source_vote_count"}
_LISTS = {"spoken_languages", "production_countries", "production_companies"}


def _apply(movie: Movie, values: dict[str, Any]) -> None:
    for name, value in values.items():
        if name == "title":
            movie.title = value
            movie.title_sort = value.casefold()
        elif name in _SCALARS:
            setattr(movie, name, str(value) if name == "homepage" and value is not None else value)
            if name == "release_date":
                movie.release_year = value.year if value is not None else None
        elif name == "adult":
            movie.adult = bool(value)
        elif name in _LISTS:
            setattr(movie, name, list(value or []))
        elif name in _SOURCE_VOTES:
            setattr(movie, _SOURCE_VOTES[name], value or 0)
    _repool(movie)


def _repool(movie: Movie) -> None:
    movie.vote_average, movie.vote_count = pooled(
        movie.source_vote_average or 0.0,
        movie.source_vote_count or 0,
        movie.ratings_average or 0.0,
        movie.ratings_count or 0,
    )


@dataclass(frozen=True)
class RatingTotals:
    """MovieVerse's ratings of one movie, whole: what ``reviews.movie_ratings.changed`` says."""

    movie_id: int
    count: int
    average: float
    version: int


async def apply_ratings(
    session: AsyncSession, *, outbox: Outbox, cache: MovieCache, totals: Sequence[RatingTotals]
) -> None:
    """``reviews.movie_ratings.changed``, a batch at a time: only a newer version than the one
    applied changes a movie. This is the hottest consumer (every rating write ends here), so the
    batch costs one read of its movies' votes, one write of them, and for the movies whose
    votes moved one read of the rest (their snapshots) and of their keywords, however many
    movies it touches."""
    newest = {t.movie_id: t for t in totals}  # in order; a movie's later totals win
    repository = MovieRepository(session)
    states = {row.id: row for row in await repository.rating_states(list(newest))}
    now = utcnow()
    touched: list[dict[str, object]] = []
    untouched: list[dict[str, object]] = []
    moved_ids: list[int] = []
    for movie_id, total in newest.items():
        row = states.get(movie_id)
        if row is None or total.version <= (row.ratings_version or 0):
            continue
        vote_average, vote_count = pooled(
            row.source_vote_average or 0.0,
            row.source_vote_count or 0,
            total.average or 0.0,
            total.count or 0,
        )
        values: dict[str, object] = {
            "b_id": movie_id,
            "b_count": total.count,
            "b_average": total.average,
            "b_version": total.version,
            "b_vote_average": vote_average,
            "b_vote_count": vote_count,
        }
        if (vote_average, vote_count) == (row.vote_average, row.vote_count) or (
            row.deleted_at is not None
        ):
            untouched.append(values)
        else:
            touched.append({**values, "b_updated_at": now})
            moved_ids.append(movie_id)
    # Core statements, not an ORM flush: this runs once per batch of every rating write.
    await repository.save_ratings(touched, touched=True)
    await repository.save_ratings(untouched, touched=False)
    if not touched:
        return
    # Only the movies whose votes moved are loaded whole, for their snapshots (after the update,
    # so they carry the new votes).
    loaded = await repository.by_ids(moved_ids, include_deleted=True)
    moved = [loaded[movie_id] for movie_id in moved_ids if movie_id in loaded]
    keywords = await repository.keyword_names(moved_ids)
    changed = ["vote_average", "vote_count"]
    await outbox.add(
        session,
        *(
            new_event(
                _snapshot(MovieUpdated, m, keywords.get(m.id, []), changed=changed),
                producer=SERVICE,
                key=str(m.id),
            )
            for m in moved
        ),
    )
    cache.forget_after_commit(session, *(movie.id for movie in moved))


@dataclass(frozen=True)
class ReviewInterest:
    movie_id: int
    kind: str
    occurred_at: datetime


async def record_review_activity(session: AsyncSession, interest: Sequence[ReviewInterest]) -> None:
    """Ratings and new reviews are interest too: trending counts them (a batch in one insert)."""
    await MovieRepository(session).record_activities(
        [
            {
                "movie_id": a.movie_id,
                "kind": a.kind,
                "weight": trending.ACTIVITY_WEIGHTS[a.kind],
                "occurred_at": a.occurred_at,
            }
            for a in interest
        ]
    )


@dataclass(frozen=True)
class _Relations:
    """The genres and keywords a write sets, checked to exist; None: left as they are."""

    genres: list[Genre] | None
    keyword_ids: list[int] | None

    def apply_genres(self, movie: Movie) -> None:
        if self.genres is not None:
            movie.genres = sorted(self.genres, key=lambda g: g.name)

    async def apply_keywords(self, movies: MovieRepository, movie: Movie) -> None:
        if self.keyword_ids is not None:
            await movies.set_keywords(movie.id, self.keyword_ids)


async def _resolve_relations(
    movies: MovieRepository, data: MovieCreate | MovieUpdate
) -> _Relations:
    genres: list[Genre] | None = None
    keyword_ids: list[int] | None = None
    if "genre_ids" in data.model_fields_set:
        wanted = list(dict.fromkeys(data.genre_ids))
        genres = await movies.existing_genres(wanted)
        missing = sorted(set(wanted) - {g.id for g in genres})
        if missing:
            raise _unknown("genre_ids", missing)
    if "keyword_ids" in data.model_fields_set:
        keyword_ids = list(dict.fromkeys(data.keyword_ids))
        missing = sorted(set(keyword_ids) - await movies.existing_keyword_ids(keyword_ids))
        if missing:
            raise _unknown("keyword_ids", missing)
    return _Relations(genres=genres, keyword_ids=keyword_ids)


def _unknown(field: str, ids: list[int]) -> BadRequest:
    return BadRequest(
        f"Unknown {field}: {', '.join(map(str, ids))}",
        errors=[FieldError(field=f"body.{field}", message=f"unknown ids {ids}", code="unknown")],
    )


_EXTERNAL_IDS = ("tmdb_id", "imdb_id")


async def _refuse_taken_external_ids(
    movies: MovieRepository, values: dict[str, Any], *, movie_id: int | None
) -> None:
    """An external id names one movie: another movie holding one of those sent is a 409 that
    says which movie (a deleted movie keeps its ids: the unique index covers it too)."""
    taken: list[FieldError] = []
    for field in _EXTERNAL_IDS:
        value = values.get(field)
        if value is None:
            continue
        holder = await movies.holder_of(field, value, other_than=movie_id)
        if holder is not None:
            holder_id, deleted = holder
            message = f"movie {holder_id}{' (deleted)' if deleted else ''} has {field} {value}"
            taken.append(FieldError(field=f"body.{field}", message=message, code="taken"))
    if taken:
        raise Conflict("; ".join(e.message[0].upper() + e.message[1:] for e in taken), errors=taken)


def _taken_meanwhile(exc: IntegrityError) -> Exception:
    """A unique index refused the flush although the check above passed: a concurrent write
    took the id in between. Any other integrity failure is a bug, not the client's mistake."""
    text = str(exc.orig)
    fields = [field for field in _EXTERNAL_IDS if field in text]
    if not fields:
        return exc
    return Conflict(
        f"Another movie took this {' or '.join(fields)} meanwhile",
        errors=[FieldError(field=f"body.{f}", message="taken", code="taken") for f in fields],
    )


async def _emit(
    outbox: Outbox,
    session: AsyncSession,
    kind: type[MovieCreated] | type[MovieUpdated],
    movie: Movie,
    *,
    changed: list[str] | None = None,
) -> None:
    keywords = [k.name for k in await MovieRepository(session).keywords(movie.id)]
    await _emit_payload(
        outbox, session, _snapshot(kind, movie, keywords, changed=changed), movie.id
    )


def _snapshot(
    kind: type[MovieCreated] | type[MovieUpdated],
    movie: Movie,
    keywords: list[str],
    *,
    changed: list[str] | None = None,
) -> Snapshot:
    return movie_snapshot(
        kind,
        movie_id=movie.id,
        columns={column: getattr(movie, column) for column in SNAPSHOT_COLUMNS},
        genres=[(g.id, g.name) for g in movie.genres],
        keywords=keywords,
        changed=changed,
    )


async def _emit_payload(
    outbox: Outbox, session: AsyncSession, payload: EventPayload, movie_id: int
) -> None:
    await outbox.add(session, new_event(payload, producer=SERVICE, key=str(movie_id)))
