"""Review analyses: the ai service's sentiment scores, stored per review by metadata's consumer
and summed per movie over the reviews that are visible.

Events go in through the bus, as the outbox relays would deliver them (the in-process bus returns
once every group handled the event), and the results are read back over HTTP through the gateway.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from uuid import UUID, uuid4

import pytest
from pydantic import ValidationError

from movieverse.contracts.ai import ReviewSentimentScored
from movieverse.contracts.envelope import Event, new_event, new_uuid7
from movieverse.contracts.reviews import ReviewRemoved, ReviewRestored
from movieverse.gateway.app import Gateway
from movieverse.ml.sentiment import MODEL_NAME, score_review
from movieverse.platform.db import utcnow
from movieverse.services.metadata import service
from tests.services.metadata.conftest import MetadataApp

pytestmark = pytest.mark.services("auth", "movies", "reviews", "metadata")

GROUP = "metadata.review-analyses"
T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def scored(
    review_id: UUID,
    movie_id: int,
    compound: float,
    *,
    at: datetime = T0,
    model: str = MODEL_NAME,
    shares: tuple[float, float, float] = (0.5, 0.5, 0.0),
) -> Event:
    """``ai.review_sentiment.scored`` as the ai service publishes it (keyed by movie), with a
    field metadata does not know: its reader must ignore it."""
    positive, neutral, negative = shares
    label = "positive" if compound >= 0.05 else "negative" if compound <= -0.05 else "neutral"
    return Event(
        id=new_uuid7(),
        type="ai.review_sentiment.scored",
        occurred_at=utcnow(),
        producer="ai",
        key=str(movie_id),
        payload={
            "review_id": str(review_id),
            "movie_id": movie_id,
            "compound": compound,
            "positive": positive,
            "neutral": neutral,
            "negative": negative,
            "label": label,
            "model": model,
            "scored_at": at.isoformat(),
            "text_chars": 120,
        },
    )


def removed(review_id: UUID, movie_id: int, reason: str = "hidden") -> Event:
    payload = ReviewRemoved(review_id=review_id, movie_id=movie_id, reason=reason)
    return new_event(payload, producer="reviews", key=str(movie_id))


def restored(review_id: UUID, movie_id: int) -> Event:
    payload = ReviewRestored(review_id=review_id, movie_id=movie_id)
    return new_event(payload, producer="reviews", key=str(movie_id))


async def deliver(gateway: Gateway, *events: Event) -> None:
    ctx = gateway.services["metadata"].state.ctx
    for event in events:
        await ctx.bus.publish(event)
    # A handler that failed would have left its event here instead of its effect.
    assert list(await ctx.bus.dead_letters(GROUP)) == []


async def analysis_of(client: Any, review_id: UUID) -> dict[str, Any]:
    response = await client.get(f"/metadata/reviews/{review_id}/analysis")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    datetime.fromisoformat(body.pop("updated_at"))
    return body


async def sentiment_of(client: Any, movie_id: int) -> dict[str, Any]:
    response = await client.get(f"/metadata/movies/{movie_id}/review-sentiment")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def totals(
    movie_id: int,
    count: int,
    mean: float | None,
    labels: tuple[int, int, int],
    model: str | None = MODEL_NAME,
) -> dict[str, Any]:
    positive, neutral, negative = labels
    return {
        "movie_id": movie_id,
        "count": count,
        "mean_compound": mean,
        "positive_count": positive,
        "neutral_count": neutral,
        "negative_count": negative,
        "model": model if count else None,
    }


async def test_scores_are_stored_per_review_and_summed_per_movie(metadata: MetadataApp) -> None:
    gateway, client = metadata
    loved, liked, hated, elsewhere = uuid4(), uuid4(), uuid4(), uuid4()
    # An offset other than UTC: stored and shown in UTC.
    paris = T0.astimezone(timezone(timedelta(hours=1)))
    await deliver(
        gateway,
        scored(loved, 13, 0.8, at=paris, shares=(0.6, 0.4, 0.0)),
        scored(liked, 13, 0.6),
        scored(hated, 13, -0.4, shares=(0.1, 0.5, 0.4)),
        scored(elsewhere, 14, 0.0, shares=(0.0, 1.0, 0.0)),
    )

    assert await analysis_of(client, loved) == {
        "review_id": str(loved),
        "movie_id": 13,
        "compound": 0.8,
        "positive": 0.6,
        "neutral": 0.4,
        "negative": 0.0,
        "label": "positive",
        "model": MODEL_NAME,
        "scored_at": "2025-03-01T12:00:00Z",
        "visible": True,
    }
    assert (await analysis_of(client, hated))["label"] == "negative"
    assert await sentiment_of(client, 13) == totals(13, 3, 0.3333, (2, 0, 1))
    assert await sentiment_of(client, 14) == totals(14, 1, 0.0, (0, 1, 0))

    # Cacheable like metadata's other reads, and a new score changes the representation.
    first = await client.get("/metadata/movies/13/review-sentiment")
    etag = first.headers["etag"]
    assert first.headers["cache-control"] == "public, max-age=60"
    again = await client.get(
        "/metadata/movies/13/review-sentiment", headers={"If-None-Match": etag}
    )
    assert again.status_code == 304
    await deliver(gateway, scored(uuid4(), 13, -1.0, model="vader-4.0.0"))
    changed = await client.get(
        "/metadata/movies/13/review-sentiment", headers={"If-None-Match": etag}
    )
    assert changed.status_code == 200
    # Four reviews scored by two models: the mean covers all, no single model is named.
    assert changed.json() == totals(13, 4, 0.0, (2, 0, 2), model=None)


async def test_vader_scores_published_by_the_ai_service_round_trip(metadata: MetadataApp) -> None:
    gateway, client = metadata
    reviews = {
        uuid4(): score_review("A masterpiece", "Brilliant acting and a gorgeous, moving score."),
        uuid4(): score_review("Dreadful", "A dull, tedious mess; the plot is stupid."),
        uuid4(): score_review(None, "The film is 120 minutes long."),
    }
    events = []
    for review_id, found in reviews.items():
        event = scored(review_id, 603, found.compound)
        # What the ai service sends: the Sentiment's fields as they are.
        event.payload.update(found.as_dict())
        events.append(event)
    await deliver(gateway, *events)

    for review_id, found in reviews.items():
        body = await analysis_of(client, review_id)
        assert {k: body[k] for k in ("compound", "positive", "neutral", "negative", "label")} == (
            found.as_dict()
        )
    mean = round(sum(s.compound for s in reviews.values()) / 3, 4)
    assert await sentiment_of(client, 603) == totals(603, 3, mean, (1, 1, 1))


async def test_the_same_event_twice_counts_once(metadata: MetadataApp) -> None:
    gateway, client = metadata
    review_id = uuid4()
    event = scored(review_id, 13, 0.5)
    await deliver(gateway, event, event)
    assert await sentiment_of(client, 13) == totals(13, 1, 0.5, (1, 0, 0))
    # A second event with the same score (the ai service scoring the review again) replaces the
    # analysis rather than adding a review.
    await deliver(gateway, scored(review_id, 13, 0.5))
    assert await sentiment_of(client, 13) == totals(13, 1, 0.5, (1, 0, 0))
    hidden = removed(review_id, 13)
    await deliver(gateway, hidden, hidden)
    assert await sentiment_of(client, 13) == totals(13, 0, None, (0, 0, 0))
    shown = restored(review_id, 13)
    await deliver(gateway, shown, shown)
    assert await sentiment_of(client, 13) == totals(13, 1, 0.5, (1, 0, 0))


async def test_a_stale_score_is_ignored_and_a_newer_one_replaces(metadata: MetadataApp) -> None:
    gateway, client = metadata
    review_id = uuid4()
    await deliver(gateway, scored(review_id, 13, 0.7, at=T0))
    # Scored before the stored one (a late or reordered event): nothing changes.
    await deliver(gateway, scored(review_id, 13, -0.9, at=T0 - timedelta(seconds=1)))
    stale = await analysis_of(client, review_id)
    assert (stale["compound"], stale["label"], stale["scored_at"]) == (
        0.7,
        "positive",
        "2025-03-01T12:00:00Z",
    )
    assert await sentiment_of(client, 13) == totals(13, 1, 0.7, (1, 0, 0))
    # Scored at the same instant: not older, so it replaces.
    await deliver(gateway, scored(review_id, 13, 0.01, at=T0, shares=(0.1, 0.9, 0.0)))
    assert (await analysis_of(client, review_id))["label"] == "neutral"
    assert await sentiment_of(client, 13) == totals(13, 1, 0.01, (0, 1, 0))
    # Newer: replaces, and the movie's counts move from one label to the other.
    later = T0 + timedelta(days=1)
    await deliver(gateway, scored(review_id, 13, -0.5, at=later, model="vader-4.0.0"))
    newer = await analysis_of(client, review_id)
    assert (newer["compound"], newer["label"], newer["model"], newer["scored_at"]) == (
        -0.5,
        "negative",
        "vader-4.0.0",
        "2025-03-02T12:00:00Z",
    )
    assert await sentiment_of(client, 13) == totals(13, 1, -0.5, (0, 0, 1), model="vader-4.0.0")


async def test_removed_reviews_leave_the_sentiment_and_restored_ones_return(
    metadata: MetadataApp,
) -> None:
    gateway, client = metadata
    kept, moderated, deleted = uuid4(), uuid4(), uuid4()
    await deliver(
        gateway,
        scored(kept, 13, 0.9),
        scored(moderated, 13, -0.3),
        scored(deleted, 13, 0.3),
    )
    assert await sentiment_of(client, 13) == totals(13, 3, 0.3, (2, 0, 1))

    await deliver(gateway, removed(moderated, 13), removed(deleted, 13, reason="deleted"))
    assert await sentiment_of(client, 13) == totals(13, 1, 0.9, (1, 0, 0))
    # The analysis is kept, marked: a restore needs no rescoring.
    assert (await analysis_of(client, moderated))["visible"] is False
    # A removed review rescored stays out of the sentiment.
    await deliver(gateway, scored(moderated, 13, -0.1, at=T0 + timedelta(hours=1)))
    assert (await analysis_of(client, moderated))["visible"] is False
    assert await sentiment_of(client, 13) == totals(13, 1, 0.9, (1, 0, 0))

    await deliver(gateway, restored(moderated, 13))
    assert (await analysis_of(client, moderated))["visible"] is True
    assert await sentiment_of(client, 13) == totals(13, 2, 0.4, (1, 0, 1))

    # Restoring a visible review, or removing everything, keeps the totals consistent.
    await deliver(gateway, restored(kept, 13))
    assert await sentiment_of(client, 13) == totals(13, 2, 0.4, (1, 0, 1))
    await deliver(gateway, removed(kept, 13), removed(moderated, 13))
    assert await sentiment_of(client, 13) == totals(13, 0, None, (0, 0, 0))


async def test_a_review_removed_before_its_score_arrives_stays_out(
    metadata: MetadataApp,
) -> None:
    """Removals travel on reviews' topic and scores on the ai service's: nothing orders them."""
    gateway, client = metadata
    early, restored_early = uuid4(), uuid4()
    await deliver(gateway, removed(early, 21), removed(restored_early, 21))
    # A visibility alone is not an analysis.
    assert (await client.get(f"/metadata/reviews/{early}/analysis")).status_code == 404
    await deliver(gateway, restored(restored_early, 21))
    await deliver(gateway, scored(early, 21, 0.6), scored(restored_early, 21, -0.6))
    assert (await analysis_of(client, early))["visible"] is False
    assert (await analysis_of(client, restored_early))["visible"] is True
    assert await sentiment_of(client, 21) == totals(21, 1, -0.6, (0, 0, 1))
    await deliver(gateway, restored(early, 21))
    assert await sentiment_of(client, 21) == totals(21, 2, 0.0, (1, 0, 1))


async def test_unknown_reviews_are_404_and_unanalysed_movies_count_zero(
    metadata: MetadataApp,
) -> None:
    _, client = metadata
    review_id = uuid4()
    missing = await client.get(f"/metadata/reviews/{review_id}/analysis")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    problem = missing.json()
    assert problem["status"] == 404
    assert problem["title"] == "Not found"
    assert problem["detail"] == f"No analysis for review {review_id}"
    # Metadata does not own movies: one it holds no analyses for is an answer, not a 404.
    assert await sentiment_of(client, 4242) == totals(4242, 0, None, (0, 0, 0))
    for path in ("/metadata/reviews/not-a-uuid/analysis", "/metadata/movies/0/review-sentiment"):
        bad = await client.get(path)
        assert bad.status_code == 400, path
        assert bad.headers["content-type"] == "application/problem+json"


def test_the_score_reader_ignores_new_fields_and_refuses_broken_scores() -> None:
    payload = scored(uuid4(), 13, 0.5).payload
    read = ReviewSentimentScored.model_validate(payload)
    assert (read.movie_id, read.label, read.scored_at) == (13, "positive", T0)
    for field, value in (
        ("label", "ecstatic"),  # the totals count three labels only
        ("compound", 1.5),
        ("positive", -0.1),
        ("compound", float("nan")),
        ("model", ""),
        ("scored_at", "2025-03-01T12:00:00"),  # no offset: cannot be compared
    ):
        with pytest.raises(ValidationError):
            ReviewSentimentScored.model_validate({**payload, field: value})


async def test_concurrent_writers_of_one_movie_lose_no_update(metadata: MetadataApp) -> None:
    """Consumers in several processes (or partitions) may score one movie's reviews at once; on
    PostgreSQL each takes the movie's lock before it reads the totals back."""
    gateway, client = metadata
    ctx = gateway.services["metadata"].state.ctx
    store = ctx.runtime.documents

    async def score(compound: float) -> None:
        event = ReviewSentimentScored.model_validate(scored(uuid4(), 77, compound).payload)
        async with ctx.db.unit_of_work() as session:
            await service.record_review_sentiment(session, store=store, score=event)

    compounds = [0.5, -0.5, 0.2, 0.0, 0.8, -0.2, 0.6, 1.0]
    await asyncio.gather(*(score(c) for c in compounds))
    assert await sentiment_of(client, 77) == totals(77, 8, 0.3, (5, 1, 2))
