"""Reviews' HTTP routes (thin: parse, call the service, shape the response).

The gateway sends ``/movies/{id}/rating``, ``/movies/{id}/reviews``, ``/users/me/ratings`` and
``/users/{username}/reviews`` here (DESIGN's route table), and everything under ``/reviews``.
"""

from __future__ import annotations

from functools import partial
from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Path, Query, Request, Response, status
from pydantic import BaseModel

from movieverse.platform.assembly import CtxDep, SessionDep, runtime_dependency
from movieverse.platform.httpcache import cacheable_json
from movieverse.platform.pagination import Page, PageDep
from movieverse.platform.ratelimit import per_user
from movieverse.platform.security import AdminUser, CurrentUser, OptionalUser
from movieverse.platform.writes import WritePath
from movieverse.services.reviews import service
from movieverse.services.reviews.bootstrap import ReviewsRuntime
from movieverse.services.reviews.models import ReportStatus, ReportTarget
from movieverse.services.reviews.schemas import (
    CommentCreate,
    CommentRead,
    RatingRead,
    RatingWrite,
    ReportCreate,
    ReportRead,
    ReviewCreate,
    ReviewRead,
    ReviewUpdate,
)

movies_router = APIRouter(prefix="/movies", tags=["reviews"])
users_router = APIRouter(prefix="/users", tags=["reviews"])
reviews_router = APIRouter(prefix="/reviews", tags=["reviews"])

MovieIdPath = Annotated[int, Path(ge=1, le=2**31 - 1, description="Catalog movie id")]
Username = Annotated[str, Path(pattern=r"^[a-z0-9_]{3,30}$")]
NO_CONTENT = status.HTTP_204_NO_CONTENT
Runtime = Annotated[ReviewsRuntime, Depends(runtime_dependency(ReviewsRuntime))]


def _writes(ctx: CtxDep) -> WritePath:
    return ctx.db.writes


def _public(request: Request, runtime: ReviewsRuntime, value: BaseModel) -> Response:
    return cacheable_json(
        request, value.model_dump_json().encode(), cache_control=runtime.settings.cache_control
    )


# Ratings and reviews of a movie


# A rating write takes no request session (SessionDep): it is one short transaction on the
# write path (platform/writes.py), which on SQLite runs it without aiosqlite's handovers. The
# session's standing is asked again just before it commits, as the request unit of work does.


@movies_router.put(
    "/{movie_id}/rating",
    summary="Rate a movie (0.5-10, in steps of 0.5)",
    dependencies=[per_user("rating")],
)
async def put_rating(
    movie_id: MovieIdPath, body: RatingWrite, user: CurrentUser, ctx: CtxDep, runtime: Runtime
) -> RatingRead:
    return await service.set_rating(
        writes=_writes(ctx),
        outbox=ctx.outbox,
        catalog=runtime.catalog,
        principal=user,
        movie_id=movie_id,
        value=body.value,
        before_commit=partial(ctx.verifier.ensure_standing, user),
    )


@movies_router.delete(
    "/{movie_id}/rating",
    status_code=NO_CONTENT,
    summary="Remove your rating",
    dependencies=[per_user("rating")],
)
async def delete_rating(movie_id: MovieIdPath, user: CurrentUser, ctx: CtxDep) -> Response:
    await service.remove_rating(
        writes=_writes(ctx),
        outbox=ctx.outbox,
        principal=user,
        movie_id=movie_id,
        before_commit=partial(ctx.verifier.ensure_standing, user),
    )
    return Response(status_code=NO_CONTENT)


@movies_router.post(
    "/{movie_id}/reviews",
    status_code=status.HTTP_201_CREATED,
    summary="Review a movie",
    dependencies=[per_user("review")],
)
async def post_review(
    movie_id: MovieIdPath,
    body: ReviewCreate,
    user: CurrentUser,
    session: SessionDep,
    ctx: CtxDep,
    runtime: Runtime,
) -> ReviewRead:
    return await service.create_review(
        session,
        outbox=ctx.outbox,
        catalog=runtime.catalog,
        principal=user,
        movie_id=movie_id,
        data=body,
    )


@movies_router.get(
    "/{movie_id}/reviews", summary="A movie's reviews", response_model=Page[ReviewRead]
)
async def list_movie_reviews(
    request: Request,
    movie_id: MovieIdPath,
    page: PageDep,
    session: SessionDep,
    runtime: Runtime,
    sort_by: Literal["newest", "top", "rating"] = "newest",
    has_text: Annotated[
        bool | None, Query(description="Only reviews with (or without) text")
    ] = None,
) -> Response:
    result = await service.movie_reviews(
        session, catalog=runtime.catalog, movie_id=movie_id, sort=sort_by, has_text=has_text,
        params=page,
    )  # fmt: skip
    return _public(request, runtime, result)


# A user's ratings and reviews


@users_router.get("/me/ratings", summary="Your ratings, newest first")
async def my_ratings(user: CurrentUser, page: PageDep, session: SessionDep) -> Page[RatingRead]:
    return await service.my_ratings(session, principal=user, params=page)


@users_router.get(
    "/{username}/reviews", summary="A user's reviews, newest first", response_model=Page[ReviewRead]
)
async def list_user_reviews(
    request: Request, username: Username, page: PageDep, session: SessionDep, runtime: Runtime
) -> Response:
    result = await service.user_reviews(session, username=username, params=page)
    return _public(request, runtime, result)


# Moderation queue (before /{review_id}: "reports" is no review id)


@reviews_router.get("/reports", summary="Reports of reviews and comments (admin)")
async def list_reports(
    admin: AdminUser,
    page: PageDep,
    session: SessionDep,
    report_status: Annotated[ReportStatus | None, Query(alias="status")] = ReportStatus.OPEN,
) -> Page[ReportRead]:
    return await service.reports_page(session, status=report_status, params=page)


# One review


@reviews_router.get("/{review_id}", summary="A review")
async def get_review(review_id: UUID, viewer: OptionalUser, session: SessionDep) -> ReviewRead:
    return await service.get_review(session, review_id=review_id, viewer=viewer)


@reviews_router.patch(
    "/{review_id}",
    summary="Edit your review (only the fields sent)",
    dependencies=[per_user("review")],
)
async def patch_review(
    review_id: UUID, body: ReviewUpdate, user: CurrentUser, session: SessionDep, ctx: CtxDep
) -> ReviewRead:
    return await service.update_review(
        session, outbox=ctx.outbox, principal=user, review_id=review_id, changes=body
    )


@reviews_router.delete(
    "/{review_id}",
    status_code=NO_CONTENT,
    summary="Delete a review (its author or an admin)",
    dependencies=[per_user("review")],
)
async def delete_review(
    review_id: UUID, user: CurrentUser, session: SessionDep, ctx: CtxDep
) -> Response:
    await service.delete_review(session, outbox=ctx.outbox, principal=user, review_id=review_id)
    return Response(status_code=NO_CONTENT)


@reviews_router.put(
    "/{review_id}/like",
    summary="Like a review (not your own)",
    dependencies=[per_user("like")],
)
async def like(review_id: UUID, user: CurrentUser, session: SessionDep, ctx: CtxDep) -> Response:
    created = await service.like_review(
        session, outbox=ctx.outbox, principal=user, review_id=review_id
    )
    return Response(status_code=status.HTTP_201_CREATED if created else NO_CONTENT)


@reviews_router.delete(
    "/{review_id}/like",
    status_code=NO_CONTENT,
    summary="Take back a like",
    dependencies=[per_user("like")],
)
async def unlike(review_id: UUID, user: CurrentUser, session: SessionDep) -> Response:
    await service.unlike_review(session, principal=user, review_id=review_id)
    return Response(status_code=NO_CONTENT)


@reviews_router.get("/{review_id}/comments", summary="Comments, oldest first, with their replies")
async def list_comments(
    review_id: UUID, viewer: OptionalUser, page: PageDep, session: SessionDep
) -> Page[CommentRead]:
    return await service.comments_page(session, review_id=review_id, viewer=viewer, params=page)


@reviews_router.post(
    "/{review_id}/comments",
    status_code=status.HTTP_201_CREATED,
    summary="Comment on a review, or reply to a comment (one level deep)",
    dependencies=[per_user("comment")],
)
async def post_comment(
    review_id: UUID, body: CommentCreate, user: CurrentUser, session: SessionDep, ctx: CtxDep
) -> CommentRead:
    return await service.post_comment(
        session, outbox=ctx.outbox, principal=user, review_id=review_id, data=body
    )


@reviews_router.delete(
    "/{review_id}/comments/{comment_id}",
    status_code=NO_CONTENT,
    summary="Delete a comment and its replies (its author or an admin)",
    dependencies=[per_user("comment")],
)
async def delete_comment(
    review_id: UUID, comment_id: UUID, user: CurrentUser, session: SessionDep
) -> Response:
    await service.delete_comment(
        session, principal=user, review_id=review_id, comment_id=comment_id
    )
    return Response(status_code=NO_CONTENT)


def _reported(report: ReportRead, created: bool) -> Response:
    code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
    return Response(report.model_dump_json(), status_code=code, media_type="application/json")


@reviews_router.post(
    "/{review_id}/report",
    summary="Report a review",
    response_model=ReportRead,
    dependencies=[per_user("report")],
)
async def report_review(
    review_id: UUID, body: ReportCreate, user: CurrentUser, session: SessionDep
) -> Response:
    made, created = await service.report(
        session, principal=user, target_type=ReportTarget.REVIEW, review_id=review_id,
        comment_id=None, data=body,
    )  # fmt: skip
    return _reported(made, created)


@reviews_router.post(
    "/{review_id}/comments/{comment_id}/report",
    summary="Report a comment",
    response_model=ReportRead,
    dependencies=[per_user("report")],
)
async def report_comment(
    review_id: UUID, comment_id: UUID, body: ReportCreate, user: CurrentUser, session: SessionDep
) -> Response:
    made, created = await service.report(
        session, principal=user, target_type=ReportTarget.COMMENT, review_id=review_id,
        comment_id=comment_id, data=body,
    )  # fmt: skip
    return _reported(made, created)


@reviews_router.post("/{review_id}/hide", summary="Hide a review from every list (admin)")
async def hide_review(
    review_id: UUID, admin: AdminUser, session: SessionDep, ctx: CtxDep
) -> ReviewRead:
    return await service.set_review_hidden(
        session, outbox=ctx.outbox, review_id=review_id, hidden=True
    )


@reviews_router.post("/{review_id}/unhide", summary="Show a hidden review again (admin)")
async def unhide_review(
    review_id: UUID, admin: AdminUser, session: SessionDep, ctx: CtxDep
) -> ReviewRead:
    return await service.set_review_hidden(
        session, outbox=ctx.outbox, review_id=review_id, hidden=False
    )


@reviews_router.post("/{review_id}/comments/{comment_id}/hide", summary="Hide a comment (admin)")
async def hide_comment(
    review_id: UUID, comment_id: UUID, admin: AdminUser, session: SessionDep
) -> CommentRead:
    return await service.set_comment_hidden(
        session, review_id=review_id, comment_id=comment_id, hidden=True
    )


@reviews_router.post(
    "/{review_id}/comments/{comment_id}/unhide", summary="Show a hidden comment again (admin)"
)
async def unhide_comment(
    review_id: UUID, comment_id: UUID, admin: AdminUser, session: SessionDep
) -> CommentRead:
    return await service.set_comment_hidden(
        session, review_id=review_id, comment_id=comment_id, hidden=False
    )
