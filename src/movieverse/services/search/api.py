"""The search service's HTTP routes (thin: parse, call the service, shape the response)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request, Response

from movieverse.platform.assembly import runtime_dependency
from movieverse.platform.errors import BadRequest
from movieverse.platform.httpcache import cacheable_json
from movieverse.platform.pagination import PageDep
from movieverse.platform.ratelimit import per_caller
from movieverse.platform.search.documents import Kind
from movieverse.platform.search.port import MovieFilters
from movieverse.platform.search.query import EARLIEST_YEAR, LATEST_YEAR, MAX_QUERY_CHARS
from movieverse.services.search import service
from movieverse.services.search.bootstrap import SearchRuntime
from movieverse.services.search.schemas import (
    MovieSearchPage,
    MultiSearchPage,
    PersonSearchPage,
    ReviewSearchPage,
    SemanticSearchPage,
    SuggestionList,
)

# Every search read counts against the caller's quota (per account with a token, else per address).
router = APIRouter(prefix="/search", tags=["search"], dependencies=[per_caller("search")])
# Longer than a query may be, so that an over-long one reaches the service's clear 400.
QueryText = Annotated[
    str, Query(min_length=1, max_length=MAX_QUERY_CHARS * 4, description="What to look for")
]
Year = Annotated[int | None, Query(ge=EARLIEST_YEAR, le=LATEST_YEAR)]
MAX_GENRES = 10
Runtime = Annotated[SearchRuntime, Depends(runtime_dependency(SearchRuntime))]


def _genres(raw: list[str]) -> tuple[str, ...]:
    """``genres=Action,Comedy`` or ``genres=Action&genres=Comedy``: movies in every one."""
    names = tuple(dict.fromkeys(n.strip() for item in raw for n in item.split(",") if n.strip()))
    if len(names) > MAX_GENRES:
        raise BadRequest(f"At most {MAX_GENRES} genres can be required at once")
    return names


async def movie_filters(
    genres: Annotated[list[str], Query(max_length=MAX_GENRES)] = [],  # noqa: B006
    year: Year = None,
    year_gte: Annotated[
        int | None, Query(alias="year.gte", ge=EARLIEST_YEAR, le=LATEST_YEAR)
    ] = None,
    year_lte: Annotated[
        int | None, Query(alias="year.lte", ge=EARLIEST_YEAR, le=LATEST_YEAR)
    ] = None,
    language: Annotated[
        str | None, Query(pattern=r"^[A-Za-z]{2,3}$", description="original language")
    ] = None,
    vote_average_gte: Annotated[float | None, Query(alias="vote_average.gte", ge=0, le=10)] = None,
    include_adult: bool = False,
) -> MovieFilters:
    """Filters of the movie searches: genres (all of them), year or year range, original
    language, a minimum vote average; adult titles only when asked for."""
    return MovieFilters(
        genres=_genres(genres),
        year_gte=year if year is not None else year_gte,
        year_lte=year if year is not None else year_lte,
        original_language=language,
        vote_average_gte=vote_average_gte,
        include_adult=include_adult,
    )


FiltersDep = Annotated[MovieFilters, Depends(movie_filters)]
Build = Callable[[], Awaitable[bytes]]


async def _kept(
    request: Request,
    runtime: SearchRuntime,
    kinds: tuple[Kind, ...],
    key: tuple[object, ...],
    build: Build,
) -> Response:
    """The body kept for ``key`` under the index's generation (cache.py), or built and kept;
    sent with its ETag, or 304 when the client holds it (as the catalog's reads are).

    The token is taken before the search, so a body is never kept under a newer one: a write
    the index shows after the token was taken changes the token, and the next request misses."""
    cache = runtime.cache
    token = runtime.index.generation(kinds) if cache.enabled else None
    body = cache.get((token, *key)) if token is not None else None
    if body is None:
        body = await build()
        if token is not None:
            cache.put((token, *key), body)
    return cacheable_json(request, body, cache_control=runtime.settings.cache_control)


@router.get(
    "/movies",
    summary="Movies by title, other titles, keywords and overview",
    response_model=MovieSearchPage,
)
async def search_movies(
    request: Request, runtime: Runtime, params: PageDep, q: QueryText, filters: FiltersDep
) -> Response:
    def build() -> Awaitable[bytes]:
        return service.search_movies(runtime.index, q=q, filters=filters, params=params)

    return await _kept(request, runtime, ("movies",), ("movies", q, filters, params), build)


@router.get(
    "/semantic",
    summary="Movies by meaning: sentence embeddings of title, overview and keywords",
    responses={501: {"description": "The semantic extra is not installed"}},
)
async def search_semantic(
    runtime: Runtime,
    params: PageDep,
    q: QueryText,
    filters: FiltersDep,
    mode: Literal["semantic", "hybrid"] = "semantic",
) -> SemanticSearchPage:
    return await service.search_semantic(
        runtime.index, runtime.embedder, q=q, mode=mode, filters=filters, params=params
    )


@router.get("/people", summary="People by name")
async def search_people(runtime: Runtime, params: PageDep, q: QueryText) -> PersonSearchPage:
    return await service.search_people(runtime.index, q=q, params=params)


@router.get("/reviews", summary="Reviews by title, text and author")
async def search_reviews(
    runtime: Runtime,
    params: PageDep,
    q: QueryText,
    movie_id: Annotated[int | None, Query(ge=1)] = None,
    include_spoilers: bool = False,
) -> ReviewSearchPage:
    return await service.search_reviews(
        runtime.index, q=q, movie_id=movie_id, include_spoilers=include_spoilers, params=params
    )


@router.get("/multi", summary="Movies and people in one ranking, each marked by media_type")
async def search_multi(runtime: Runtime, params: PageDep, q: QueryText) -> MultiSearchPage:
    return await service.search_multi(runtime.index, q=q, params=params)


@router.get(
    "/suggest",
    summary="Titles and names completing what is being typed",
    response_model=SuggestionList,
)
async def suggest(
    request: Request,
    runtime: Runtime,
    q: QueryText,
    limit: Annotated[int | None, Query(ge=1, le=50)] = None,
) -> Response:
    most = runtime.settings.max_suggestions
    size = min(limit or most, most)

    def build() -> Awaitable[bytes]:
        return service.suggest(runtime.index, q=q, limit=size)

    return await _kept(request, runtime, ("movies", "people"), ("suggest", q, size), build)
