"""Events the metadata service publishes (every admin write announces itself through the outbox)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

from movieverse.contracts.envelope import EventPayload

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
    model_config = ConfigDict(frozen=True)

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
