"""The ai service's HTTP routes: training (admin), model status, scoring for the
recommendations service, similar movies, and sentiment of a text."""

from __future__ import annotations

import asyncio
from dataclasses import asdict
from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Query, status

from movieverse.ml.sentiment import MODEL_NAME as SENTIMENT_MODEL
from movieverse.ml.sentiment import score_text
from movieverse.platform.assembly import CtxDep, SessionDep, runtime_dependency
from movieverse.platform.errors import Forbidden
from movieverse.platform.security import AdminUser, CurrentUser
from movieverse.services.ai import jobs, service
from movieverse.services.ai.bootstrap import AiRuntime
from movieverse.services.ai.repository import AiRepository
from movieverse.services.ai.schemas import (
    MAX_RESULTS,
    AiStatus,
    ModelRead,
    RecommendationsRead,
    RecommendRequest,
    SentimentRead,
    SentimentText,
    TrainCreate,
    TrainingJobRead,
)

router = APIRouter(prefix="/ai", tags=["ai"])
Runtime = Annotated[AiRuntime, Depends(runtime_dependency(AiRuntime))]


def _read(result: service.Recommendations) -> RecommendationsRead:
    return RecommendationsRead.model_validate(
        {
            "source": result.source,
            "model": result.model,
            "known_user": result.known_user,
            "genres": result.genres,
            "as_of": result.as_of,
            "results": [
                {
                    "movie_id": r.movie_id,
                    "title": r.title,
                    "score": r.score,
                    "reason": asdict(r.reason),
                }
                for r in result.results
            ],
        }
    )


@router.post(
    "/train",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Train a model on the current interactions and make it current (admin)",
)
async def train(
    body: TrainCreate, admin: AdminUser, ctx: CtxDep, runtime: Runtime
) -> TrainingJobRead:
    kind = body.kind or runtime.settings.model_kind
    job = await jobs.request_training(ctx.db, kind=kind, trigger="api", requested_by=admin.user_id)
    runtime.training.start(job.id)
    return TrainingJobRead.model_validate(jobs.job_view(job))


@router.get("/train/{job_id}", summary="A training job's progress (admin)")
async def training_job(job_id: UUID, _: AdminUser, ctx: CtxDep) -> TrainingJobRead:
    return TrainingJobRead.model_validate(await jobs.get_job(ctx.db, job_id=job_id))


@router.get("/status", summary="The current model, the data and recent training jobs (admin)")
async def ai_status(_: AdminUser, session: SessionDep, runtime: Runtime) -> AiStatus:
    holder = runtime.models
    repo = AiRepository(session)
    interactions, _newest = await repo.interaction_summary()
    current = holder.current
    model = None
    if current is not None:
        model = ModelRead.model_validate({**current.meta.as_dict(), "current": True})
    recent = await repo.recent_jobs(limit=10)
    return AiStatus(
        model=model,
        warning=holder.warning(),
        interactions=interactions,
        movies=await repo.movie_count(),
        jobs=[TrainingJobRead.model_validate(jobs.job_view(j)) for j in recent],
    )


@router.get("/models", summary="Model versions on disk, newest first (admin)")
async def model_versions(_: AdminUser, runtime: Runtime) -> list[ModelRead]:
    holder = runtime.models
    current = holder.current.version if holder.current else None
    return [
        ModelRead.model_validate({**meta.as_dict(), "current": meta.version == current})
        for meta in holder.store.versions()
    ]


@router.post(
    "/recommend",
    summary="Score movies for a user (the user themself, an admin, or a MovieVerse service)",
)
async def recommend(
    body: RecommendRequest, principal: CurrentUser, session: SessionDep, runtime: Runtime
) -> RecommendationsRead:
    # A service: recommendations refreshing a user's cached answer after their rating.
    if body.user_id != principal.user_id and not (principal.is_admin or principal.is_service):
        raise Forbidden("Only the user themself or an admin may ask for their recommendations")
    result = await service.recommend(
        session,
        holder=runtime.models,
        catalog=runtime.catalog,
        user_id=body.user_id,
        count=body.count,
        exclude=body.exclude,
        genres=body.genres,
        favourite_genres=body.favourite_genres,
        exclude_rated=body.exclude_rated,
        include_adult=body.include_adult,
    )
    return _read(result)


@router.get("/movies/{movie_id}/similar", summary="Movies most like this one")
async def similar(
    movie_id: int,
    runtime: Runtime,
    count: Annotated[int, Query(ge=1, le=MAX_RESULTS)] = 20,
    include_adult: bool = False,
    basis: Annotated[
        Literal["model", "content"],
        Query(description="content: alike in genres, keywords and story; model: also taste"),
    ] = "model",
) -> RecommendationsRead:
    result = await service.similar(
        basis=basis,
        holder=runtime.models,
        catalog=runtime.catalog,
        movie_id=movie_id,
        count=count,
        include_adult=include_adult,
    )
    return _read(result)


# A query string stays well under what HTTP servers accept in a request line even when every
# character is percent-encoded 4-byte UTF-8; longer texts go in a POST body.
MAX_QUERY_TEXT = 1_000


def _sentiment(text: str) -> SentimentRead:
    scored = score_text(text)
    return SentimentRead.model_validate({**scored.as_dict(), "model": SENTIMENT_MODEL})


@router.get("/sentiment", summary="Sentiment of a short text (VADER)")
async def sentiment(
    text: Annotated[str, Query(min_length=1, max_length=MAX_QUERY_TEXT)],
) -> SentimentRead:
    return _sentiment(text)


@router.post("/sentiment", summary="Sentiment of a text up to 20,000 characters (VADER)")
async def sentiment_of_body(body: SentimentText) -> SentimentRead:
    # Up to half a second of CPU for the longest texts: off the event loop.
    return await asyncio.to_thread(_sentiment, body.text)
