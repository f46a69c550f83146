"""What the search indexes hold: one typed document per movie, person and review.

The indexer builds these from other services' events and hands them to the search port; every
adapter stores the same fields. ``to_json``/``from_json`` are how the indexer keeps them in its own
table, the source a reindex rebuilds from.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

Kind = Literal["movies", "people", "reviews"]
KINDS: tuple[Kind, ...] = ("movies", "people", "reviews")


@dataclass(frozen=True)
class MovieDocument:
    id: int
    title: str
    original_title: str | None = None
    # Other names the movie goes by (MovieLens's a.k.a. and original-language titles).
    alternate_titles: tuple[str, ...] = ()
    overview: str | None = None
    keywords: tuple[str, ...] = ()
    genres: tuple[str, ...] = ()
    release_date: date | None = None
    # The year when the day is unknown (MovieLens gives years only).
    release_year: int | None = None
    original_language: str | None = None
    popularity: float = 0.0
    vote_average: float = 0.0
    vote_count: int = 0
    adult: bool = False

    @property
    def year(self) -> int | None:
        return self.release_date.year if self.release_date else self.release_year

    @property
    def key(self) -> str:
        return str(self.id)


@dataclass(frozen=True)
class PersonDocument:
    id: int
    name: str
    known_for_department: str | None = None
    popularity: float = 0.0
    profile_path: str | None = None

    @property
    def key(self) -> str:
        return str(self.id)


@dataclass(frozen=True)
class ReviewDocument:
    id: str  # the review's UUID
    movie_id: int
    username: str
    title: str | None = None
    body: str | None = None
    language: str | None = None
    spoiler: bool = False
    created_at: datetime | None = None

    @property
    def key(self) -> str:
        return self.id


Document = MovieDocument | PersonDocument | ReviewDocument
_TYPES: dict[Kind, type[Any]] = {
    "movies": MovieDocument,
    "people": PersonDocument,
    "reviews": ReviewDocument,
}


def kind_of(document: Document) -> Kind:
    if isinstance(document, MovieDocument):
        return "movies"
    if isinstance(document, PersonDocument):
        return "people"
    return "reviews"


def to_json(document: Document) -> dict[str, Any]:
    """A JSON object of the document's fields (dates as ISO strings, tuples as lists)."""
    out: dict[str, Any] = {}
    for item in dataclasses.fields(document):
        value = getattr(document, item.name)
        if isinstance(value, date | datetime):
            value = value.isoformat()
        elif isinstance(value, tuple):
            value = list(value)
        out[item.name] = value
    return out


def from_json(kind: Kind, data: dict[str, Any]) -> Document:
    """The inverse of :func:`to_json`; fields the type does not know are ignored."""
    cls = _TYPES[kind]
    values: dict[str, Any] = {}
    for item in dataclasses.fields(cls):
        if item.name not in data:
            continue
        value = data[item.name]
        if value is not None and item.name == "release_date":
            value = date.fromisoformat(value)
        elif value is not None and item.name == "created_at":
            value = datetime.fromisoformat(value)
        elif isinstance(value, list):
            value = tuple(value)
        values[item.name] = value
    document: Document = cls(**values)
    return document


__all__ = [
    "KINDS",
    "Document",
    "Kind",
    "MovieDocument",
    "PersonDocument",
    "ReviewDocument",
    "from_json",
    "kind_of",
    "to_json",
]
