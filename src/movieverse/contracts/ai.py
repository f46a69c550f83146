"""Events the ai service publishes."""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from pydantic import AwareDatetime, Field, StringConstraints

from movieverse.contracts.envelope import EventPayload


class ModelPublished(EventPayload):
    """A newly trained model is current. Every ai process swaps to it (they share the models
    directory); recommendations drops what it cached from the old one."""

    event_type = "ai.model.published"

    version: str
    kind: str
    interactions: int


Share = Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False)]
# Metadata stores the name in JSONB (no NUL) and shows it back as is: short and printable.
ModelName = Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=r"^[^\x00]+$")]


class ReviewSentimentScored(EventPayload):
    """A review's sentiment; metadata keeps it as the review's analysis. Keyed by movie. A score
    that breaks these bounds is refused (dead-lettered) rather than stored: an aggregate over the
    movie's reviews could not count it."""

    event_type = "ai.review_sentiment.scored"

    review_id: UUID
    movie_id: int = Field(ge=1, le=2**31 - 1)
    compound: float = Field(ge=-1.0, le=1.0, allow_inf_nan=False)
    positive: Share
    neutral: Share
    negative: Share
    label: Literal["positive", "neutral", "negative"]
    model: ModelName
    # Naive times would be ambiguous in metadata's "is this score newer" comparison.
    scored_at: AwareDatetime
