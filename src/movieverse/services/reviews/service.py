"""Reviews' business logic. Functions take the caller's session and never commit (rule 2)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from uuid import UUID

from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import AsyncSession

from movieverse.contracts.envelope import EventPayload, new_event, new_uuid7
from movieverse.contracts.reviews import (
    CommentPosted,
    MovieRatingsChanged,
    RatingChanged,
    ReviewLiked,
    ReviewRemoved,
    ReviewRestored,
    ReviewWritten,
)
from movieverse.platform.catalog import Catalog
from movieverse.platform.db import utcnow
from movieverse.platform.errors import BadRequest, Conflict, Forbidden, NotFound
from movieverse.platform.events.outbox import Outbox
from movieverse.platform.pagination import Page, PageParams
from movieverse.platform.security import Principal
from movieverse.platform.writes import WritePath, in_session
from movieverse.services.reviews.models import (
    SERVICE,
    Comment,
    Like,
    MovieRatings,
    Report,
    ReportStatus,
    ReportTarget,
    Review,
)
from movieverse.services.reviews.repository import (
    RatingRows,
    RatingState,
    ReviewSort,
    ReviewsRepository,
    Totals,
)
from movieverse.services.reviews.schemas import (
    CommentCreate,
    CommentRead,
    RatingRead,
    ReportCreate,
    ReportRead,
    ReviewCreate,
    ReviewRead,
    ReviewUpdate,
)


def to_half_points(value: float) -> int:
    return round(value * 2)


def to_value(half_points: int) -> float:
    return half_points / 2


async def _emit(
    session: AsyncSession, outbox: Outbox, payload: EventPayload, *, key: object
) -> None:
    await outbox.add(session, new_event(payload, producer=SERVICE, key=str(key)))


async def _known_movie(catalog: Catalog, movie_id: int) -> None:
    if await catalog.movie_exists(movie_id) is False:
        raise NotFound(f"No movie with id {movie_id} in the catalog")


# Ratings ---------------------------------------------------------------------------------------


async def set_rating(
    *,
    writes: WritePath,
    outbox: Outbox,
    catalog: Catalog,
    principal: Principal,
    movie_id: int,
    value: float,
    before_commit: Callable[[], None] | None = None,
) -> RatingRead:
    """Rate a movie (again). ``before_commit`` is the caller's last check (is the session still
    in standing?), made just before the write commits."""
    await _known_movie(catalog, movie_id)
    rating = await writes.run(
        partial(
            change_rating, outbox=outbox, user_id=principal.user_id, movie_id=movie_id, value=value
        ),
        before_commit=before_commit,
    )
    return RatingRead(
        movie_id=movie_id, value=to_value(rating.half_points), rated_at=rating.updated_at
    )


def change_rating(
    connection: Connection, *, outbox: Outbox, user_id: UUID, movie_id: int, value: float | None
) -> RatingState:
    """Set (or with None remove) a rating and the movie's totals, in one turn per movie: a
    function of the write path's connection (platform/writes.py), the hottest write there is."""
    rows = RatingRows(connection)
    totals, existing = rows.locked_totals(movie_id, user_id)  # rating writes take turns
    previous = existing.half_points if existing is not None else None
    wanted = to_half_points(value) if value is not None else None
    if existing is not None and wanted == previous:
        return existing  # the same value again: nothing changes, nothing to announce
    if wanted is None:
        if existing is None:
            raise NotFound(f"You have not rated movie {movie_id}")
        rows.delete_rating(user_id, movie_id)
        rating = existing
    else:
        rating = RatingState(wanted, utcnow())
        if existing is None:
            rows.insert_rating(user_id, movie_id, rating)
        else:
            rows.update_rating(user_id, movie_id, rating)
    _move_totals(totals, previous=previous, wanted=wanted)
    rows.save_totals(totals)
    change = RatingChanged(
        movie_id=movie_id,
        user_id=user_id,
        value=to_value(wanted) if wanted is not None else None,
        previous=to_value(previous) if previous is not None else None,
    )
    # One insert for both: every statement of the hottest write counts.
    outbox.add_sync(
        connection,
        *(
            new_event(p, producer=SERVICE, key=str(movie_id))
            for p in (change, totals_changed(totals))
        ),
    )
    return rating


async def _apply_rating(
    session: AsyncSession, *, outbox: Outbox, user_id: UUID, movie_id: int, value: float | None
) -> RatingState:
    """:func:`change_rating` in a unit of work already open (a review that brings its rating,
    an erasure), as part of its transaction."""
    return await in_session(
        session,
        partial(change_rating, outbox=outbox, user_id=user_id, movie_id=movie_id, value=value),
    )


def _move_totals(totals: Totals, *, previous: int | None, wanted: int | None) -> None:
    totals.count += (wanted is not None) - (previous is not None)
    totals.half_points_sum += (wanted or 0) - (previous or 0)
    totals.version += 1


def totals_changed(totals: MovieRatings | Totals) -> MovieRatingsChanged:
    average = totals.half_points_sum / totals.count / 2 if totals.count else 0.0
    return MovieRatingsChanged(
        movie_id=totals.movie_id,
        count=totals.count,
        average=round(average, 4),
        version=totals.version,
    )


async def remove_rating(
    *,
    writes: WritePath,
    outbox: Outbox,
    principal: Principal,
    movie_id: int,
    before_commit: Callable[[], None] | None = None,
) -> None:
    await writes.run(
        partial(
            change_rating, outbox=outbox, user_id=principal.user_id, movie_id=movie_id, value=None
        ),
        before_commit=before_commit,
    )


async def my_ratings(
    session: AsyncSession, *, principal: Principal, params: PageParams
) -> Page[RatingRead]:
    total, rows = await ReviewsRepository(session).ratings_page(
        principal.user_id, offset=params.offset, limit=params.per_page
    )
    results = [
        RatingRead(movie_id=r.movie_id, value=to_value(r.half_points), rated_at=r.updated_at)
        for r in rows
    ]
    return Page[RatingRead].build(params, total=total, results=results)


# Reviews ---------------------------------------------------------------------------------------


def _review_read(review: Review, half_points: int | None) -> ReviewRead:
    return ReviewRead(
        id=review.id,
        movie_id=review.movie_id,
        username=review.username,
        title=review.title,
        body=review.body,
        spoiler=review.spoiler,
        language=review.language,
        rating=to_value(half_points) if half_points is not None else None,
        likes_count=review.likes_count,
        comments_count=review.comments_count,
        hidden=review.hidden,
        created_at=review.created_at,
        updated_at=review.updated_at,
    )


async def _reads(session: AsyncSession, reviews: Sequence[Review]) -> list[ReviewRead]:
    points = await ReviewsRepository(session).ratings_for(
        [(r.user_id, r.movie_id) for r in reviews]
    )
    return [_review_read(r, points.get((r.user_id, r.movie_id))) for r in reviews]


def _has_text(review: Review) -> bool:
    return bool(review.body and review.body.strip())


async def create_review(
    session: AsyncSession,
    *,
    outbox: Outbox,
    catalog: Catalog,
    principal: Principal,
    movie_id: int,
    data: ReviewCreate,
) -> ReviewRead:
    await _known_movie(catalog, movie_id)
    if principal.username is None:
        raise BadRequest("Your access token carries no username; sign in again")
    repo = ReviewsRepository(session)
    mine = await repo.review_of(principal.user_id, movie_id)
    if mine is not None:
        raise Conflict(f"You reviewed this movie already: edit review {mine.id} instead")
    if data.rating is not None:
        await _apply_rating(
            session, outbox=outbox, user_id=principal.user_id, movie_id=movie_id, value=data.rating
        )
    now = utcnow()
    review = Review(
        id=new_uuid7(), movie_id=movie_id, user_id=principal.user_id, username=principal.username,
        title=data.title, body=data.body, spoiler=data.spoiler, language=data.language,
        likes_count=0, comments_count=0, hidden=False, created_at=now, updated_at=now,
    )  # fmt: skip
    review.has_text = _has_text(review)
    await repo.add(review)
    await _emit(session, outbox, _written(review, created=True), key=movie_id)
    return (await _reads(session, [review]))[0]


def _written(review: Review, *, created: bool) -> ReviewWritten:
    return ReviewWritten(
        review_id=review.id,
        movie_id=review.movie_id,
        user_id=review.user_id,
        username=review.username,
        title=review.title,
        has_text=review.has_text,
        spoiler=review.spoiler,
        language=review.language,
        created=created,
        body=review.body,
        written_at=review.updated_at,
    )


async def _visible_review(
    session: AsyncSession, review_id: UUID, viewer: Principal | None
) -> Review:
    """The review, if the viewer may see it: hidden ones only to their author and admins."""
    review = await ReviewsRepository(session).review(review_id)
    if review is None:
        raise NotFound(f"No review with id {review_id}")
    if review.hidden and not (
        viewer is not None and (viewer.is_admin or viewer.user_id == review.user_id)
    ):
        raise NotFound(f"No review with id {review_id}")
    return review


async def get_review(
    session: AsyncSession, *, review_id: UUID, viewer: Principal | None
) -> ReviewRead:
    review = await _visible_review(session, review_id, viewer)
    return (await _reads(session, [review]))[0]


def _own(review: Review | Comment, principal: Principal, *, admins_too: bool) -> None:
    if principal.user_id == review.user_id or (admins_too and principal.is_admin):
        return
    raise Forbidden("Only its author can do that" + (" (or an admin)" if admins_too else ""))


async def update_review(
    session: AsyncSession,
    *,
    outbox: Outbox,
    principal: Principal,
    review_id: UUID,
    changes: ReviewUpdate,
) -> ReviewRead:
    review = await _visible_review(session, review_id, principal)
    _own(review, principal, admins_too=False)
    values = changes.model_dump(exclude_unset=True)
    if "spoiler" in values and values["spoiler"] is None:
        raise BadRequest("spoiler is true or false, not null")
    for name, value in values.items():
        setattr(review, name, value)
    review.has_text = _has_text(review)
    review.updated_at = utcnow()
    await session.flush()
    await _emit(session, outbox, _written(review, created=False), key=review.movie_id)
    return (await _reads(session, [review]))[0]


async def delete_review(
    session: AsyncSession, *, outbox: Outbox, principal: Principal, review_id: UUID
) -> None:
    repo = ReviewsRepository(session)
    review = await _visible_review(session, review_id, principal)
    _own(review, principal, admins_too=True)
    await repo.resolve_reports(ReportTarget.REVIEW, review.id, utcnow())
    await repo.remove(review)  # likes and comments go with it
    await _emit(
        session,
        outbox,
        ReviewRemoved(review_id=review.id, movie_id=review.movie_id, reason="deleted"),
        key=review.movie_id,
    )


async def movie_reviews(
    session: AsyncSession,
    *,
    catalog: Catalog,
    movie_id: int,
    sort: ReviewSort,
    has_text: bool | None,
    params: PageParams,
) -> Page[ReviewRead]:
    await _known_movie(catalog, movie_id)
    total, reviews = await ReviewsRepository(session).movie_reviews(
        movie_id, sort=sort, has_text=has_text, offset=params.offset, limit=params.per_page
    )
    return Page[ReviewRead].build(params, total=total, results=await _reads(session, reviews))


async def user_reviews(
    session: AsyncSession, *, username: str, params: PageParams
) -> Page[ReviewRead]:
    total, reviews = await ReviewsRepository(session).reviews_by_username(
        username, offset=params.offset, limit=params.per_page
    )
    return Page[ReviewRead].build(params, total=total, results=await _reads(session, reviews))


# Likes -----------------------------------------------------------------------------------------


async def like_review(
    session: AsyncSession, *, outbox: Outbox, principal: Principal, review_id: UUID
) -> bool:
    """Like a review (once: liking again changes nothing); says whether it was new."""
    repo = ReviewsRepository(session)
    review = await _visible_review(session, review_id, principal)
    if review.user_id == principal.user_id:
        raise Forbidden("You cannot like your own review")
    if await repo.like(review.id, principal.user_id) is not None:
        return False
    await repo.add(Like(review_id=review.id, user_id=principal.user_id, created_at=utcnow()))
    await repo.adjust_counts(review.id, likes=1)
    await _emit(
        session,
        outbox,
        ReviewLiked(
            review_id=review.id,
            movie_id=review.movie_id,
            author_id=review.user_id,
            liker_id=principal.user_id,
            liker_username=principal.username,
        ),
        key=review.movie_id,
    )
    return True


async def unlike_review(session: AsyncSession, *, principal: Principal, review_id: UUID) -> None:
    repo = ReviewsRepository(session)
    review = await _visible_review(session, review_id, principal)
    like = await repo.like(review.id, principal.user_id)
    if like is not None:
        await repo.delete_like(like)
        await repo.adjust_counts(review.id, likes=-1)


# Comments --------------------------------------------------------------------------------------


def _comment_read(comment: Comment, replies: Sequence[Comment] = ()) -> CommentRead:
    return CommentRead(
        id=comment.id,
        review_id=comment.review_id,
        parent_id=comment.parent_id,
        username=comment.username,
        body=comment.body,
        hidden=comment.hidden,
        created_at=comment.created_at,
        replies=[_comment_read(r) for r in replies],
    )


async def post_comment(
    session: AsyncSession,
    *,
    outbox: Outbox,
    principal: Principal,
    review_id: UUID,
    data: CommentCreate,
) -> CommentRead:
    repo = ReviewsRepository(session)
    review = await _visible_review(session, review_id, principal)
    if principal.username is None:
        raise BadRequest("Your access token carries no username; sign in again")
    parent_author: UUID | None = None
    if data.parent_id is not None:
        parent = await repo.comment(data.parent_id)
        if parent is None or parent.review_id != review.id or parent.hidden:
            raise BadRequest("parent_id names no comment of this review")
        if parent.parent_id is not None:
            raise BadRequest("Replies go one level deep: reply to the comment, not to a reply")
        parent_author = parent.user_id
    comment = Comment(
        id=new_uuid7(), review_id=review.id, parent_id=data.parent_id, user_id=principal.user_id,
        username=principal.username, body=data.body, hidden=False, created_at=utcnow(),
    )  # fmt: skip
    await repo.add(comment)
    await repo.adjust_counts(review.id, comments=1)
    await _emit(
        session,
        outbox,
        CommentPosted(
            comment_id=comment.id,
            review_id=review.id,
            movie_id=review.movie_id,
            review_author_id=review.user_id,
            parent_author_id=parent_author,
            user_id=principal.user_id,
            username=principal.username,
        ),
        key=review.movie_id,
    )
    return _comment_read(comment)


async def comments_page(
    session: AsyncSession, *, review_id: UUID, viewer: Principal | None, params: PageParams
) -> Page[CommentRead]:
    review = await _visible_review(session, review_id, viewer)
    total, top, replies = await ReviewsRepository(session).comments_page(
        review.id, offset=params.offset, limit=params.per_page
    )
    results = [_comment_read(c, [r for r in replies if r.parent_id == c.id]) for c in top]
    return Page[CommentRead].build(params, total=total, results=results)


async def _comment_of(session: AsyncSession, review_id: UUID, comment_id: UUID) -> Comment:
    comment = await ReviewsRepository(session).comment(comment_id)
    if comment is None or comment.review_id != review_id:
        raise NotFound(f"No comment {comment_id} on review {review_id}")
    return comment


async def delete_comment(
    session: AsyncSession, *, principal: Principal, review_id: UUID, comment_id: UUID
) -> None:
    repo = ReviewsRepository(session)
    comment = await _comment_of(session, review_id, comment_id)
    _own(comment, principal, admins_too=True)
    removed = 1 + await repo.replies_count(comment.id)
    await repo.resolve_reports(ReportTarget.COMMENT, comment.id, utcnow())
    await repo.delete_comment(comment)
    await repo.adjust_counts(review_id, comments=-removed)


# Moderation ------------------------------------------------------------------------------------


def _report_read(report: Report) -> ReportRead:
    return ReportRead(
        id=report.id,
        target_type=report.target_type,
        target_id=report.target_id,
        reason=report.reason,
        note=report.note,
        status=report.status,
        created_at=report.created_at,
        resolved_at=report.resolved_at,
    )


async def report(
    session: AsyncSession,
    *,
    principal: Principal,
    target_type: ReportTarget,
    review_id: UUID,
    comment_id: UUID | None,
    data: ReportCreate,
) -> tuple[ReportRead, bool]:
    """Report a review or comment (once per reporter: again returns the first report); also
    says whether the report is new."""
    repo = ReviewsRepository(session)
    await _visible_review(session, review_id, principal)
    target_id = review_id
    if comment_id is not None:
        target_id = (await _comment_of(session, review_id, comment_id)).id
    existing = await repo.report_by(target_type, target_id, principal.user_id)
    if existing is not None:
        return _report_read(existing), False
    made = Report(
        id=new_uuid7(), target_type=target_type, target_id=target_id,
        reporter_id=principal.user_id, reason=data.reason, note=data.note,
        status=ReportStatus.OPEN, created_at=utcnow(),
    )  # fmt: skip
    await repo.add(made)
    return _report_read(made), True


async def reports_page(
    session: AsyncSession, *, status: ReportStatus | None, params: PageParams
) -> Page[ReportRead]:
    total, reports = await ReviewsRepository(session).reports_page(
        status, offset=params.offset, limit=params.per_page
    )
    return Page[ReportRead].build(params, total=total, results=[_report_read(r) for r in reports])


async def set_review_hidden(
    session: AsyncSession, *, outbox: Outbox, review_id: UUID, hidden: bool
) -> ReviewRead:
    repo = ReviewsRepository(session)
    review = await repo.review(review_id)
    if review is None:
        raise NotFound(f"No review with id {review_id}")
    if review.hidden != hidden:
        review.hidden = hidden
        await session.flush()
        payload: EventPayload
        if hidden:
            payload = ReviewRemoved(review_id=review.id, movie_id=review.movie_id, reason="hidden")
        else:
            payload = ReviewRestored(review_id=review.id, movie_id=review.movie_id)
        await _emit(session, outbox, payload, key=review.movie_id)
    if hidden:
        await repo.resolve_reports(ReportTarget.REVIEW, review.id, utcnow())
    return (await _reads(session, [review]))[0]


async def set_comment_hidden(
    session: AsyncSession, *, review_id: UUID, comment_id: UUID, hidden: bool
) -> CommentRead:
    repo = ReviewsRepository(session)
    comment = await _comment_of(session, review_id, comment_id)
    comment.hidden = hidden
    await session.flush()
    if hidden:
        await repo.resolve_reports(ReportTarget.COMMENT, comment.id, utcnow())
    return _comment_read(comment)


# Consumers -------------------------------------------------------------------------------------


async def erase_user(session: AsyncSession, *, outbox: Outbox, user_id: UUID) -> None:
    """``users.user.deleted``: everything the user wrote goes, and the movies' totals follow."""
    repo = ReviewsRepository(session)
    for rating in await repo.ratings_of_user(user_id):
        await _apply_rating(
            session, outbox=outbox, user_id=user_id, movie_id=rating.movie_id, value=None
        )
    for like in await repo.likes_of_user(user_id):
        await repo.delete_like(like)
        await repo.adjust_counts(like.review_id, likes=-1)
    for comment in await repo.comments_of_user(user_id):
        if await repo.comment(comment.id) is None:
            continue  # went with a parent comment of theirs
        removed = 1 + await repo.replies_count(comment.id)
        await repo.delete_comment(comment)
        await repo.adjust_counts(comment.review_id, comments=-removed)
    for review in await repo.reviews_of_user(user_id):
        await repo.remove(review)
        await _emit(
            session,
            outbox,
            ReviewRemoved(review_id=review.id, movie_id=review.movie_id, reason="deleted"),
            key=review.movie_id,
        )
    await repo.delete_reports_by(user_id)
