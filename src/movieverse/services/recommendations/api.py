"""Recommendations' HTTP routes. The gateway sends ``/movies/{id}/similar`` and
``/movies/{id}/recommendations`` here, and everything under ``/recommendations``."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Request, Response

from movieverse.platform.assembly import CtxDep, ServiceContext, runtime_of
from movieverse.platform.pagination import PageDep
from movieverse.platform.security import AdminUser, CurrentUser, bearer_token
from movieverse.services.recommendations import service
from movieverse.services.recommendations.bootstrap import RecommendationsRuntime
from movieverse.services.recommendations.schemas import RecommendationPage

router = APIRouter(prefix="/recommendations", tags=["recommendations"])
movies_router = APIRouter(prefix="/movies", tags=["recommendations"])

GenresQuery = Annotated[
    str | None,
    Query(max_length=200, description="Comma-separated genre ids: movies in any of them"),
]
PRIVATE = {"Cache-Control": "private, no-store"}
PUBLIC = {"Cache-Control": "public, max-age=60"}


def _runtime(ctx: ServiceContext) -> RecommendationsRuntime:
    return runtime_of(ctx, RecommendationsRuntime)


def _cache_seconds(ctx: ServiceContext) -> float:
    return _runtime(ctx).settings.cache_seconds


def _json(body: bytes, headers: dict[str, str]) -> Response:
    return Response(body, media_type="application/json", headers=headers)


async def _user_page(
    request: Request,
    ctx: CtxDep,
    *,
    user_id: UUID,
    params: PageDep,
    genres: str | None,
    exclude_rated: bool,
    exclude_watchlist: bool,
    exclude_seen: bool,
    must_exist: bool,
    serve_stale: bool = False,
) -> Response:
    query = service.Query(
        page=params.page,
        per_page=params.per_page,
        genres=service.parse_genres(genres),
        exclude_rated=exclude_rated,
        exclude_watchlist=exclude_watchlist,
        exclude_seen=exclude_seen,
    )
    page = await service.personal_page(
        db=ctx.db,
        kv=ctx.kv,
        ai=_runtime(ctx).ai,
        authorization=f"Bearer {bearer_token(request)}",
        user_id=user_id,
        query=query,
        must_exist=must_exist,
        cache_seconds=_cache_seconds(ctx),
        flights=_runtime(ctx).flights,
        serve_stale=serve_stale,
    )
    return _json(page.body, PRIVATE)


@router.get(
    "/me",
    summary="Movies for you, best first, each with its reason",
    response_model=RecommendationPage,
)
async def my_recommendations(
    request: Request,
    user: CurrentUser,
    ctx: CtxDep,
    params: PageDep,
    genres: GenresQuery = None,
    exclude_rated: bool = True,
    exclude_watchlist: bool = True,
    exclude_seen: bool = True,
) -> Response:
    refresher = _runtime(ctx).refresher
    if refresher is not None:
        refresher.visited(user.user_id)
    return await _user_page(
        request,
        ctx,
        user_id=user.user_id,
        params=params,
        genres=genres,
        exclude_rated=exclude_rated,
        exclude_watchlist=exclude_watchlist,
        exclude_seen=exclude_seen,
        must_exist=False,
        serve_stale=True,
    )


@router.get(
    "/users/{user_id}",
    summary="A user's recommendations, as they would see them (admin)",
    response_model=RecommendationPage,
)
async def user_recommendations(
    request: Request,
    user_id: UUID,
    _: AdminUser,
    ctx: CtxDep,
    params: PageDep,
    genres: GenresQuery = None,
    exclude_rated: bool = True,
    exclude_watchlist: bool = True,
    exclude_seen: bool = True,
) -> Response:
    return await _user_page(
        request,
        ctx,
        user_id=user_id,
        params=params,
        genres=genres,
        exclude_rated=exclude_rated,
        exclude_watchlist=exclude_watchlist,
        exclude_seen=exclude_seen,
        must_exist=True,
    )


@movies_router.get(
    "/{movie_id}/similar",
    summary="Movies alike in genres, keywords and story",
    response_model=RecommendationPage,
)
async def similar_movies(movie_id: int, ctx: CtxDep, params: PageDep) -> Response:
    body = await service.for_movie(
        kv=ctx.kv,
        ai=_runtime(ctx).ai,
        movie_id=movie_id,
        basis="content",
        page=params.page,
        per_page=params.per_page,
        cache_seconds=_cache_seconds(ctx),
    )
    return _json(body, PUBLIC)


@movies_router.get(
    "/{movie_id}/recommendations",
    summary="Movies liked by the people who liked this one",
    response_model=RecommendationPage,
)
async def movie_recommendations(movie_id: int, ctx: CtxDep, params: PageDep) -> Response:
    body = await service.for_movie(
        kv=ctx.kv,
        ai=_runtime(ctx).ai,
        movie_id=movie_id,
        basis="model",
        page=params.page,
        per_page=params.per_page,
        cache_seconds=_cache_seconds(ctx),
    )
    return _json(body, PUBLIC)
