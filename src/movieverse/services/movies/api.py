"""Movies' HTTP routes (thin: parse, call the service, shape the response)."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Annotated, Literal

import orjson
from fastapi import APIRouter, Depends, Path, Query, Request, Response, status

from movieverse.platform.assembly import CtxDep, ServiceContext, SessionDep, runtime_of
from movieverse.platform.httpcache import cacheable_json, require_current
from movieverse.platform.pagination import Page, PageDep, PageParams
from movieverse.platform.security import AdminUser
from movieverse.services.movies import discover, service, trending
from movieverse.services.movies.bootstrap import MoviesRuntime
from movieverse.services.movies.projections import CatalogReads, CountOnce
from movieverse.services.movies.schemas import (
    ChangesPage,
    FindResult,
    MovieCreate,
    MovieRead,
    MovieSummary,
    MovieUpdate,
)
from movieverse.services.movies.settings import MoviesSettings

movies_router = APIRouter(prefix="/movies", tags=["movies"])
discover_router = APIRouter(prefix="/discover", tags=["movies"])
find_router = APIRouter(prefix="/find", tags=["movies"])
trending_router = APIRouter(prefix="/trending", tags=["movies"])

MovieIdPath = Annotated[int, Path(ge=1, le=2**31 - 1)]


def _runtime(ctx: ServiceContext) -> MoviesRuntime:
    return runtime_of(ctx, MoviesRuntime)


def _settings(ctx: ServiceContext) -> MoviesSettings:
    return _runtime(ctx).settings


def _json(value: object) -> bytes:
    return orjson.dumps(value)


def _page_body(page: Page[MovieSummary]) -> bytes:
    return page.model_dump_json().encode()


# Builds a list page from the catalog's read projections, counting through the list cache.
BuildPage = Callable[[CatalogReads, CountOnce], Awaitable[Page[MovieSummary]]]


async def _list_page(
    request: Request,
    ctx: ServiceContext,
    request_key: str,
    build: BuildPage,
    *,
    trending: bool = False,
) -> Response:
    """A list page from the list cache (cache.py), or built from the read projections
    (projections.py), cached and sent: a hit reads nothing and serialises nothing."""
    runtime = _runtime(ctx)
    lists = runtime.lists
    generation = await lists.generation(trending=trending)  # before the query: see cache.py
    body = await lists.get(generation, request_key)
    if body is None:
        counted = functools.partial(lists.counted, generation)
        body = _page_body(await build(runtime.reads, counted))
        await lists.put(generation, request_key, body)
    return cacheable_json(request, body, cache_control=runtime.settings.cache_control)


async def _discover_list(
    request: Request, ctx: ServiceContext, query: discover.DiscoverQuery, page: PageParams
) -> Response:
    async def build(catalog: CatalogReads, count_once: CountOnce) -> Page[MovieSummary]:
        return await service.discover_page(catalog, query=query, params=page, count_once=count_once)

    return await _list_page(request, ctx, _request_key("discover", query, page), build)


def _request_key(route: str, *parts: object) -> str:
    """What a list page depends on, as text: the frozen query values' reprs are stable."""
    return route + ":" + ":".join(repr(part) for part in parts)


async def discover_query(
    with_genres: Annotated[
        str | None, Query(description="Genre ids; `,` = all of, `|` = any of", max_length=600)
    ] = None,
    without_genres: Annotated[str | None, Query(max_length=600)] = None,
    with_keywords: Annotated[str | None, Query(max_length=600)] = None,
    with_cast: Annotated[str | None, Query(max_length=600)] = None,
    with_crew: Annotated[str | None, Query(max_length=600)] = None,
    with_people: Annotated[str | None, Query(max_length=600)] = None,
    primary_release_year: Annotated[int | None, Query(ge=1870, le=2100)] = None,
    release_date_gte: Annotated[date | None, Query(alias="release_date.gte")] = None,
    release_date_lte: Annotated[date | None, Query(alias="release_date.lte")] = None,
    vote_average_gte: Annotated[float | None, Query(alias="vote_average.gte", ge=0, le=10)] = None,
    vote_average_lte: Annotated[float | None, Query(alias="vote_average.lte", ge=0, le=10)] = None,
    vote_count_gte: Annotated[int | None, Query(alias="vote_count.gte", ge=0, le=2**31 - 1)] = None,
    runtime_gte: Annotated[int | None, Query(alias="with_runtime.gte", ge=0, le=10_000)] = None,
    runtime_lte: Annotated[int | None, Query(alias="with_runtime.lte", ge=0, le=10_000)] = None,
    with_original_language: Annotated[
        str | None, Query(pattern=r"^[a-z]{2,3}$", description="ISO 639-1 code")
    ] = None,
    include_adult: bool = False,
    sort_by: Annotated[str, Query(description="field.asc or field.desc")] = "popularity.desc",
) -> discover.DiscoverQuery:
    discover.check_order("vote_average.gte", vote_average_gte, "vote_average.lte", vote_average_lte)
    discover.check_order("with_runtime.gte", runtime_gte, "with_runtime.lte", runtime_lte)
    discover.check_date_order(
        "release_date.gte", release_date_gte, "release_date.lte", release_date_lte
    )
    sort_field, descending = discover.parse_sort(sort_by)
    return discover.DiscoverQuery(
        with_genres=discover.parse_ids("with_genres", with_genres),
        without_genres=discover.parse_id_list("without_genres", without_genres),
        with_keywords=discover.parse_ids("with_keywords", with_keywords),
        with_cast=discover.parse_ids("with_cast", with_cast),
        with_crew=discover.parse_ids("with_crew", with_crew),
        with_people=discover.parse_ids("with_people", with_people),
        primary_release_year=primary_release_year,
        release_date_gte=release_date_gte,
        release_date_lte=release_date_lte,
        vote_average_gte=vote_average_gte,
        vote_average_lte=vote_average_lte,
        vote_count_gte=vote_count_gte,
        runtime_gte=runtime_gte,
        runtime_lte=runtime_lte,
        original_language=with_original_language,
        include_adult=include_adult,
        sort_field=sort_field,
        sort_descending=descending,
    )


DiscoverDep = Annotated[discover.DiscoverQuery, Depends(discover_query)]


@discover_router.get(
    "/movies", summary="Find movies by many filters and sorts", response_model=Page[MovieSummary]
)
async def discover_movies(
    request: Request, query: DiscoverDep, page: PageDep, ctx: CtxDep
) -> Response:
    return await _discover_list(request, ctx, query, page)


@movies_router.get("/popular", summary="Most popular movies", response_model=Page[MovieSummary])
async def popular(
    request: Request,
    page: PageDep,
    ctx: CtxDep,
    include_adult: bool = False,
) -> Response:
    query = discover.DiscoverQuery(include_adult=include_adult)

    return await _discover_list(request, ctx, query, page)


@movies_router.get(
    "/top_rated",
    summary="Best rated movies (with enough votes to mean it)",
    response_model=Page[MovieSummary],
)
async def top_rated(
    request: Request,
    page: PageDep,
    ctx: CtxDep,
    include_adult: bool = False,
) -> Response:
    settings = _settings(ctx)
    query = discover.DiscoverQuery(
        include_adult=include_adult,
        vote_count_gte=settings.top_rated_min_votes,
        sort_field="vote_average",
    )

    return await _discover_list(request, ctx, query, page)


@trending_router.get(
    "/movies/{window}",
    summary="Movies with the most recent audience activity (decayed), then the most popular",
    response_model=Page[MovieSummary],
)
async def trending_movies(
    request: Request,
    window: trending.Window,
    page: PageDep,
    ctx: CtxDep,
    include_adult: bool = False,
) -> Response:
    async def build(catalog: CatalogReads, count_once: CountOnce) -> Page[MovieSummary]:
        return await service.trending_page(
            catalog, window=window, params=page, include_adult=include_adult, count_once=count_once
        )

    key = _request_key("trending", window, page, include_adult)
    return await _list_page(request, ctx, key, build, trending=True)


@movies_router.get("/changes", summary="Feed of changed movie ids, for syncing")
async def changes(
    session: SessionDep,
    since: Annotated[
        str | None,
        Query(max_length=300, description="A cursor from the previous page, or an ISO instant"),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> ChangesPage:
    return await service.changes_page(session, since=since, limit=limit)


@movies_router.get(
    "/{movie_id}", summary="A movie, with sub-resources appended", response_model=MovieRead
)
async def get_movie(
    request: Request,
    movie_id: MovieIdPath,
    ctx: CtxDep,
    append_to_response: Annotated[
        str | None,
        Query(max_length=500, description=f"Comma-separated: {', '.join(service.APPENDABLE)}"),
    ] = None,
) -> Response:
    # The hottest catalog read: the page comes from the cache, or from one read projection on a
    # miss; a database session is opened only for appends that need one.
    appends = service.parse_appends(append_to_response)
    runtime = _runtime(ctx)
    body = await service.details_json(runtime.reads, movie_id=movie_id, cache=runtime.movies)
    if appends:
        async with ctx.db.unit_of_work(write=False) as session:
            document = orjson.loads(body)
            document.update(
                await service.appended(
                    session,
                    movie_id=movie_id,
                    appends=appends,
                    people=runtime.people,
                    related=runtime.related,
                )
            )
            body = _json(document)
    return cacheable_json(request, body, cache_control=_settings(ctx).cache_control)


@movies_router.post("", status_code=status.HTTP_201_CREATED, summary="Add a movie (admin)")
async def create_movie(
    body: MovieCreate, admin: AdminUser, session: SessionDep, ctx: CtxDep
) -> MovieRead:
    movie = await service.create_movie(
        session, outbox=ctx.outbox, data=body, cache=_runtime(ctx).movies
    )
    return service.movie_read(movie)


@movies_router.patch(
    "/{movie_id}", summary="Change a movie (admin); If-Match guards against lost updates"
)
async def update_movie(
    request: Request,
    movie_id: MovieIdPath,
    body: MovieUpdate,
    admin: AdminUser,
    session: SessionDep,
    ctx: CtxDep,
) -> Response:
    movie = await service.existing_movie(session, movie_id)
    require_current(request, service.movie_json(movie))
    movie = await service.update_movie(
        session, outbox=ctx.outbox, movie=movie, changes=body, cache=_runtime(ctx).movies
    )
    return cacheable_json(request, service.movie_json(movie), cache_control="no-store")


@movies_router.delete(
    "/{movie_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Remove a movie (admin)"
)
async def delete_movie(
    request: Request, movie_id: MovieIdPath, admin: AdminUser, session: SessionDep, ctx: CtxDep
) -> Response:
    movie = await service.existing_movie(session, movie_id)
    require_current(request, service.movie_json(movie))
    await service.delete_movie(session, outbox=ctx.outbox, movie=movie, cache=_runtime(ctx).movies)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@find_router.get("/{external_id}", summary="Look a movie up by its IMDb or TMDB id")
async def find(
    external_id: Annotated[str, Path(min_length=1, max_length=20, pattern=r"^[A-Za-z0-9]+$")],
    source: Literal["imdb_id", "tmdb_id"],
    session: SessionDep,
) -> FindResult:
    results = await service.find_external(session, source=source, external_id=external_id)
    return FindResult(movie_results=results)
