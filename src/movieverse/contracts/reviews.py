"""Events the reviews service publishes."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from movieverse.contracts.envelope import EventPayload


class RatingChanged(EventPayload):
    """A user set, changed or removed (``value`` None) a rating. Keyed by movie: one movie's
    rating events arrive in order. Recommendations, ai and trending read these."""

    event_type = "reviews.rating.changed"

    movie_id: int
    user_id: UUID
    value: float | None
    previous: float | None


class MovieRatingsChanged(EventPayload):
    """A movie's totals over its ratings, after a change. ``version`` only grows per movie, so a
    consumer keeps the highest it saw: late or repeated events change nothing."""

    event_type = "reviews.movie_ratings.changed"

    movie_id: int
    count: int
    average: float
    version: int


class ReviewWritten(EventPayload):
    """A review was posted (``created``) or edited; notifications, search and ai read these."""

    event_type = "reviews.review.written"

    review_id: UUID
    movie_id: int
    user_id: UUID
    username: str
    title: str | None
    has_text: bool
    spoiler: bool
    language: str | None
    created: bool
    # The text, for search (at most 10,000 characters), and when it was last written; added
    # after version 1, so consumers must accept events without them.
    body: str | None = None
    written_at: datetime | None = None


class ReviewRemoved(EventPayload):
    """A review left the public lists: deleted by its author or an admin, or hidden."""

    event_type = "reviews.review.removed"

    review_id: UUID
    movie_id: int
    reason: Literal["deleted", "hidden"]


class ReviewRestored(EventPayload):
    """A hidden review was shown again."""

    event_type = "reviews.review.restored"

    review_id: UUID
    movie_id: int


class ReviewLiked(EventPayload):
    event_type = "reviews.review.liked"

    review_id: UUID
    movie_id: int
    author_id: UUID
    liker_id: UUID
    liker_username: str | None


class CommentPosted(EventPayload):
    """A comment on a review, or a reply to a comment: its authors may want to know."""

    event_type = "reviews.comment.posted"

    comment_id: UUID
    review_id: UUID
    movie_id: int
    review_author_id: UUID
    parent_author_id: UUID | None
    user_id: UUID
    username: str
