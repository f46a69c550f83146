"""Movies' consumers, unit by unit: what trending counts of the reviews service's events, read
with the published contracts (no gateway, no store)."""

from __future__ import annotations

from uuid import uuid4

from movieverse.contracts.envelope import new_event
from movieverse.contracts.reviews import RatingChanged, ReviewWritten
from movieverse.services.movies.consumers import review_interest


def _rating(value: float | None) -> RatingChanged:
    return RatingChanged(movie_id=7, user_id=uuid4(), value=value, previous=None)


def _review(*, created: bool) -> ReviewWritten:
    return ReviewWritten(
        review_id=uuid4(), movie_id=7, user_id=uuid4(), username="ana", title=None,
        has_text=True, spoiler=False, language="en", created=created,
    )  # fmt: skip


def test_a_rating_and_a_new_review_are_interest() -> None:
    for payload, kind in ((_rating(8.0), "rating"), (_review(created=True), "review")):
        event = new_event(payload, producer="reviews", key="7")
        interest = review_interest(event)
        assert interest is not None
        assert (interest.movie_id, interest.kind, interest.occurred_at) == (
            7, kind, event.occurred_at,
        )  # fmt: skip


def test_a_removed_rating_or_an_edited_review_is_not() -> None:
    for payload in (_rating(None), _review(created=False)):
        assert review_interest(new_event(payload, producer="reviews", key="7")) is None
