"""Metadata's HTTP routes (thin: parse, call the service, shape the response)."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

import orjson
from fastapi import APIRouter, Depends, Path, Query, Request, Response, status
from pydantic import BaseModel

from movieverse.platform.assembly import CtxDep, SessionDep, runtime_of
from movieverse.platform.docs import DocumentStore
from movieverse.platform.httpcache import cacheable_json
from movieverse.platform.pagination import Page, PageDep
from movieverse.platform.security import AdminUser
from movieverse.services.metadata import service
from movieverse.services.metadata.bootstrap import MetadataRuntime
from movieverse.services.metadata.schemas import (
    AnalysisRead,
    AnalysisWrite,
    CreditsRead,
    CreditsWrite,
    GenreList,
    GenreRead,
    KeywordRead,
    KeywordWrite,
    PersonRead,
    PersonSummary,
    PersonWrite,
    ReviewAnalysisRead,
    ReviewSentimentRead,
)

genres_router = APIRouter(prefix="/genres", tags=["metadata"])
people_router = APIRouter(prefix="/people", tags=["metadata"])
metadata_router = APIRouter(prefix="/metadata", tags=["metadata"])

IdPath = Annotated[int, Path(ge=1, le=2**31 - 1)]


async def get_documents(ctx: CtxDep) -> DocumentStore:
    return runtime_of(ctx, MetadataRuntime).documents


DocumentsDep = Annotated[DocumentStore, Depends(get_documents)]


def _cache_control(ctx: CtxDep) -> str:
    return runtime_of(ctx, MetadataRuntime).settings.cache_control


def _cached(request: Request, ctx: CtxDep, value: BaseModel | dict[str, Any]) -> Response:
    body = value.model_dump_json().encode() if isinstance(value, BaseModel) else orjson.dumps(value)
    return cacheable_json(request, body, cache_control=_cache_control(ctx))


def _written(value: BaseModel, *, created: bool) -> Response:
    """201 when the PUT created the resource, 200 when it replaced it."""
    return Response(
        value.model_dump_json().encode(),
        status_code=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        media_type="application/json",
        headers={"Cache-Control": "no-store"},
    )


def _created_too(model: type[BaseModel]) -> dict[int | str, dict[str, Any]]:
    return {status.HTTP_201_CREATED: {"model": model, "description": "Created"}}


# Genres


@genres_router.get("", summary="Every genre of the catalog", response_model=GenreList)
async def list_genres(
    request: Request, session: SessionDep, ctx: CtxDep, store: DocumentsDep
) -> Response:
    return _cached(request, ctx, await service.genre_list(session, store=store))


@genres_router.get("/{genre_id}", summary="One genre", response_model=GenreRead)
async def get_genre(
    request: Request, genre_id: IdPath, session: SessionDep, ctx: CtxDep, store: DocumentsDep
) -> Response:
    return _cached(request, ctx, await service.genre(session, store=store, genre_id=genre_id))


# People


@people_router.get(
    "", summary="People whose name contains the text (any case)", response_model=Page[PersonSummary]
)
async def find_people(
    request: Request,
    name: Annotated[
        str,
        # NUL is refused here: PostgreSQL cannot compare text holding it.
        Query(min_length=1, max_length=100, pattern=r"^[^\x00]+$", description="Literal text"),
    ],
    page: PageDep,
    session: SessionDep,
    ctx: CtxDep,
    store: DocumentsDep,
) -> Response:
    result = await service.people_page(session, store=store, name=name, params=page)
    return _cached(request, ctx, result)


@people_router.get(
    "/popular", summary="The most popular people", response_model=Page[PersonSummary]
)
async def popular_people(
    request: Request, page: PageDep, session: SessionDep, ctx: CtxDep, store: DocumentsDep
) -> Response:
    result = await service.people_page(session, store=store, name=None, params=page)
    return _cached(request, ctx, result)


@people_router.get(
    "/{person_id}", summary="A person, with sub-resources appended", response_model=PersonRead
)
async def get_person(
    request: Request,
    person_id: IdPath,
    session: SessionDep,
    ctx: CtxDep,
    store: DocumentsDep,
    append_to_response: Annotated[
        str | None,
        Query(max_length=500, description=f"Comma-separated: {', '.join(service.APPENDABLE)}"),
    ] = None,
) -> Response:
    appends = service.parse_appends(append_to_response)
    document = await service.person_document(
        session, store=store, person_id=person_id, appends=appends
    )
    return _cached(request, ctx, document)


@people_router.put(
    "/{person_id}",
    summary="Create or replace a person (admin)",
    response_model=PersonRead,
    responses=_created_too(PersonRead),
)
async def put_person(
    person_id: IdPath,
    body: PersonWrite,
    admin: AdminUser,
    session: SessionDep,
    ctx: CtxDep,
    store: DocumentsDep,
) -> Response:
    person, created = await service.put_person(
        session, store=store, outbox=ctx.outbox, person_id=person_id, data=body
    )
    return _written(person, created=created)


@people_router.delete(
    "/{person_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Remove a person and their credits (admin)",
)
async def delete_person(
    person_id: IdPath, admin: AdminUser, session: SessionDep, ctx: CtxDep, store: DocumentsDep
) -> Response:
    await service.delete_person(session, store=store, outbox=ctx.outbox, person_id=person_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# Credits, keywords and analyses


@metadata_router.get(
    "/movies/{movie_id}/credits", summary="A movie's cast and crew", response_model=CreditsRead
)
async def get_credits(
    request: Request, movie_id: IdPath, session: SessionDep, ctx: CtxDep, store: DocumentsDep
) -> Response:
    return _cached(
        request, ctx, await service.movie_credits(session, store=store, movie_id=movie_id)
    )


@metadata_router.put(
    "/movies/{movie_id}/credits",
    summary="Replace a movie's cast and crew (admin)",
    response_model=CreditsRead,
    responses=_created_too(CreditsRead),
)
async def put_credits(
    movie_id: IdPath,
    body: CreditsWrite,
    admin: AdminUser,
    session: SessionDep,
    ctx: CtxDep,
    store: DocumentsDep,
) -> Response:
    credits, created = await service.replace_credits(
        session, store=store, outbox=ctx.outbox, movie_id=movie_id, data=body
    )
    return _written(credits, created=created)


@metadata_router.get("/keywords/{keyword_id}", summary="A keyword", response_model=KeywordRead)
async def get_keyword(
    request: Request, keyword_id: IdPath, session: SessionDep, ctx: CtxDep, store: DocumentsDep
) -> Response:
    return _cached(request, ctx, await service.keyword(session, store=store, keyword_id=keyword_id))


@metadata_router.put(
    "/keywords/{keyword_id}",
    summary="Create or rename a keyword (admin)",
    response_model=KeywordRead,
    responses=_created_too(KeywordRead),
)
async def put_keyword(
    keyword_id: IdPath,
    body: KeywordWrite,
    admin: AdminUser,
    session: SessionDep,
    ctx: CtxDep,
    store: DocumentsDep,
) -> Response:
    keyword, created = await service.put_keyword(
        session, store=store, outbox=ctx.outbox, keyword_id=keyword_id, data=body
    )
    return _written(keyword, created=created)


@metadata_router.get(
    "/movies/{movie_id}/analysis",
    summary="A movie's analysis (sentiment summaries, tags)",
    response_model=AnalysisRead,
)
async def get_analysis(
    request: Request, movie_id: IdPath, session: SessionDep, ctx: CtxDep, store: DocumentsDep
) -> Response:
    return _cached(request, ctx, await service.analysis(session, store=store, movie_id=movie_id))


@metadata_router.put(
    "/movies/{movie_id}/analysis",
    summary="Replace a movie's analysis: any JSON object up to 64 KiB (admin)",
    response_model=AnalysisRead,
    responses=_created_too(AnalysisRead),
)
async def put_analysis(
    movie_id: IdPath,
    body: AnalysisWrite,
    admin: AdminUser,
    session: SessionDep,
    ctx: CtxDep,
    store: DocumentsDep,
) -> Response:
    analysis, created = await service.put_analysis(
        session, store=store, outbox=ctx.outbox, movie_id=movie_id, data=body
    )
    return _written(analysis, created=created)


# Review analyses (written by the review-analyses consumer, from the ai service's scores)


@metadata_router.get(
    "/reviews/{review_id}/analysis",
    summary="The sentiment of one review, and whether the review is visible",
    response_model=ReviewAnalysisRead,
)
async def get_review_analysis(
    request: Request, review_id: UUID, session: SessionDep, ctx: CtxDep, store: DocumentsDep
) -> Response:
    analysis = await service.review_analysis(session, store=store, review_id=review_id)
    return _cached(request, ctx, analysis)


@metadata_router.get(
    "/movies/{movie_id}/review-sentiment",
    summary="A movie's sentiment over its visible reviews (count 0 when none was analysed)",
    response_model=ReviewSentimentRead,
)
async def get_review_sentiment(
    request: Request, movie_id: IdPath, session: SessionDep, ctx: CtxDep, store: DocumentsDep
) -> Response:
    totals = await service.movie_review_sentiment(session, store=store, movie_id=movie_id)
    return _cached(request, ctx, totals)
