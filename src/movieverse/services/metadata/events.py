"""Events metadata publishes (every admin write announces itself through the outbox), and what
it reads of the events it consumes."""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from movieverse.platform.events.envelope import EventPayload

CreditRole = Literal["cast", "crew"]


class PersonChanged(EventPayload):
    """A person was created or replaced; what search and the catalog show of them."""

    event_type = "metadata.person.changed"

    person_id: int
    name: str
    known_for_department: str | None
    popularity: float
    profile_path: str | None
    imdb_id: str | None
    tmdb_id: int | None


class PersonDeleted(EventPayload):
    event_type = "metadata.person.deleted"

    person_id: int


class CreditedPerson(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    person_id: int
    role: CreditRole


class CreditsChanged(EventPayload):
    """A movie's credits now name exactly these people: consumers replace what they held (movies
    fills its with_cast / with_crew index from it)."""

    event_type = "metadata.credits.changed"

    movie_id: int
    people: list[CreditedPerson]


class KeywordChanged(EventPayload):
    """A keyword was created or renamed; movies keeps its copy of the vocabulary by it."""

    event_type = "metadata.keyword.changed"

    keyword_id: int
    name: str


class AnalysisChanged(EventPayload):
    """A movie's analysis document was replaced; consumers fetch it if they need its contents
    (it may be up to 64 KiB, too much to copy into every event)."""

    event_type = "metadata.analysis.changed"

    movie_id: int


class MovieDeleted(BaseModel):
    """What metadata reads of ``movies.movie.deleted`` (tolerant: unknown fields are ignored)."""

    movie_id: int


MOVIES_MOVIE_DELETED = "movies.movie.deleted"


# Review analyses: metadata stores the ai service's sentiment of each review and follows the
# review's visibility in the reviews service.

AI_REVIEW_SENTIMENT_SCORED = "ai.review_sentiment.scored"
REVIEWS_REVIEW_REMOVED = "reviews.review.removed"
REVIEWS_REVIEW_RESTORED = "reviews.review.restored"
REVIEW_ANALYSIS_EVENTS = frozenset(
    {AI_REVIEW_SENTIMENT_SCORED, REVIEWS_REVIEW_REMOVED, REVIEWS_REVIEW_RESTORED}
)

Share = Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False)]
# JSONB cannot store NUL, and the name is shown back as is: keep it short and printable.
ModelName = Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=r"^[^\x00]+$")]


class ReviewSentimentScored(BaseModel):
    """What metadata reads of ``ai.review_sentiment.scored`` (keyed by movie id; tolerant:
    unknown fields are ignored). A score that breaks these bounds is refused and dead-lettered
    rather than stored: the aggregate could not count it."""

    review_id: UUID
    movie_id: int = Field(ge=1, le=2**31 - 1)
    compound: float = Field(ge=-1.0, le=1.0, allow_inf_nan=False)
    positive: Share
    neutral: Share
    negative: Share
    label: Literal["positive", "neutral", "negative"]
    model: ModelName
    # Naive times would be ambiguous in the "is this score newer" comparison.
    scored_at: AwareDatetime


class ReviewRemoved(BaseModel):
    """What metadata reads of ``reviews.review.removed``. Reviews also sends ``movie_id``; it is
    optional here so that an event without it is still understood."""

    review_id: UUID
    reason: str  # "deleted" | "hidden"
    movie_id: int | None = None


class ReviewRestored(BaseModel):
    """What metadata reads of ``reviews.review.restored`` (see :class:`ReviewRemoved`)."""

    review_id: UUID
    movie_id: int | None = None
