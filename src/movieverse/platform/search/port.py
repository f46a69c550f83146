"""The search port: what the search and indexer services ask of an index, whatever engine holds it.

Adapters: tantivy (:mod:`.tantivy_index`, an index on disk: the embedded shape) and OpenSearch
(:mod:`.opensearch`). ``tests/contract/test_search_contract.py`` holds every adapter to these rules:

* Text matching follows :mod:`.query`: case and accents folded, typos forgiven by term length,
  the last term a prefix while it is being typed. Every term must match some field (title, other
  titles, keywords, overview for a movie); when no document matches them all, documents matching
  any term are ranked instead, so an extra word ("matrix movie") does not empty the page.
  An adapter may look for typos only when the query as typed finds no title holding it (or, for
  suggestions, completes nothing): tantivy does, as fuzzy matching is most of a search's cost
  there, and a near-miss ranks below a title holding what was typed.
* Ranking: title over other titles over keywords over overview; a whole-title match wins;
  popularity multiplies the text score; a year hint ranks that year up.
* Writes are upserts and deletes by id, visible to searches once the call returns. Deleting an
  id that is not there is no error.
* :meth:`SearchIndex.rebuild` builds a fresh index beside the live one and swaps it in at once:
  searches keep answering from the old one until then. Every write made once ``rebuild`` has
  been called reaches the fresh index too and beats the source's copy of its id, whenever the
  source yields that copy: no write is lost or undone by the swap. Writes made before the call
  must be in the source (read it after the call, or snapshot it no earlier).
* Paging past the last result gives no results and the true total.
* :meth:`SearchIndex.generation` changes once a write or swap is visible to searches, so
  responses kept under it are never served after the index they came from changed.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Generic, Literal, Protocol, TypeVar

from movieverse.platform.search.documents import (
    Document,
    Kind,
    MovieDocument,
    PersonDocument,
    ReviewDocument,
)
from movieverse.platform.search.query import ParsedQuery, fold

# A rank deeper than this is not served: no user pages that far, and deep offsets are what make
# engines slow (OpenSearch refuses from + size > 10,000 by default).
MAX_WINDOW = 10_000
D = TypeVar("D", MovieDocument, PersonDocument, ReviewDocument)


class IndexBusy(RuntimeError):
    """The index already has its writer (an indexer is running): only one may write at once."""


@dataclass(frozen=True)
class MovieFilters:
    genres: tuple[str, ...] = ()  # every one of them
    year_gte: int | None = None
    year_lte: int | None = None
    original_language: str | None = None
    vote_average_gte: float | None = None
    include_adult: bool = False


@dataclass(frozen=True)
class FacetCount:
    value: str
    count: int


@dataclass(frozen=True)
class MovieFacets:
    genres: tuple[FacetCount, ...] = ()
    decades: tuple[FacetCount, ...] = ()  # "1990s"
    languages: tuple[FacetCount, ...] = ()


@dataclass(frozen=True)
class Hit(Generic[D]):
    document: D
    score: float


@dataclass(frozen=True)
class HitPage(Generic[D]):
    total: int
    hits: tuple[Hit[D], ...]
    facets: MovieFacets | None = None
    # True when no document matched every term and the page ranks documents matching any.
    relaxed: bool = False


@dataclass(frozen=True)
class Suggestion:
    kind: Kind  # "movies" or "people"
    id: int
    text: str
    year: int | None
    score: float


@dataclass(frozen=True)
class Batch:
    """Documents for :meth:`SearchIndex.rebuild`, with the vectors of those that have one."""

    documents: Sequence[Document]
    vectors: Mapping[str, bytes] = field(default_factory=dict)


# The points of a rebuild where live writes can come in (the writes' lock is free there):
# "opened" (the fresh index exists and takes live writes; no batch pulled yet), "batch_pulled"
# and "batch_written" (batch N yielded by the source; then loaded), "loaded" (the source is
# exhausted; the swap is next), "live" (the fresh index serves reads, still inside the rebuild's
# error handling: a failure there must not take the live index away) and "swapped" (the
# rebuild is done; the old index not yet gone).
RebuildStep = Literal["opened", "batch_pulled", "batch_written", "loaded", "live", "swapped"]


class RebuildHook(Protocol):
    """Awaited by an adapter's rebuild at each :data:`RebuildStep` (``batch``: the batch's number
    from 0, else -1). Tests set it to pause a rebuild there and write; unset, it costs a test
    of ``None``."""

    async def __call__(self, kind: Kind, step: RebuildStep, batch: int, /) -> None: ...


# Semantic search ranks every movie by similarity; a page deeper than this says nothing more.
MAX_SEMANTIC_RESULTS = 200


@dataclass(frozen=True)
class IndexStats:
    documents: dict[str, int] = field(default_factory=dict)
    generations: dict[str, str] = field(default_factory=dict)
    # Kinds whose index was missing or built by older code: empty until rebuilt.
    stale: tuple[str, ...] = ()


class SearchIndex(Protocol):
    async def upsert(
        self, documents: Sequence[Document], *, vectors: Mapping[str, bytes] | None = None
    ) -> None:
        """Add or wholly replace documents by id (their kind from their type). ``vectors``:
        sentence embeddings of movies (embeddings.py), by document key, for semantic search."""
        ...

    async def delete(self, kind: Kind, ids: Sequence[str]) -> None: ...

    async def search_movies(
        self, query: ParsedQuery, *, filters: MovieFilters, offset: int, limit: int
    ) -> HitPage[MovieDocument]:
        """Ranked movies with facet counts over every match (not only the page)."""
        ...

    async def search_people(
        self, query: ParsedQuery, *, offset: int, limit: int
    ) -> HitPage[PersonDocument]: ...

    async def search_reviews(
        self, query: ParsedQuery, *, movie_id: int | None, offset: int, limit: int
    ) -> HitPage[ReviewDocument]: ...

    async def suggest(self, query: ParsedQuery, *, limit: int) -> list[Suggestion]:
        """Titles and names completing what is typed, most popular first among equal matches."""
        ...

    async def search_semantic(
        self, vector: bytes, *, filters: MovieFilters, offset: int, limit: int
    ) -> HitPage[MovieDocument]:
        """Movies with a vector, nearest first (cosine), at most ``MAX_SEMANTIC_RESULTS``;
        ``total`` counts those that pass the filters, up to that bound."""
        ...

    async def rebuild(self, kind: Kind, batches: AsyncIterable[Batch]) -> int:
        """Build ``kind`` afresh from ``batches`` and swap it in; returns the documents loaded."""
        ...

    async def count(self, kind: Kind) -> int: ...

    def generation(self, kinds: Sequence[Kind]) -> str | None:
        """A token for what searches of ``kinds`` see now: it changes with every write or
        rebuild they could see, another process's included, by the time a search sees it. A
        response built after taking the token may be kept under it. None when the adapter
        cannot tell, and then nothing may be kept. Asked on every request: no I/O beyond a stat
        or so, and never blocking for long."""
        ...

    async def stats(self) -> IndexStats: ...

    async def ping(self) -> str:
        """The engine's name and version, or raise when it cannot be reached."""
        ...

    async def close(self) -> None: ...


def passes(movie: MovieDocument, filters: MovieFilters) -> bool:
    """Whether a movie meets the filters (for adapters that filter outside the engine)."""
    genres = {fold(g) for g in movie.genres}
    if any(fold(g) not in genres for g in filters.genres):
        return False
    year = movie.year
    if filters.year_gte is not None and (year is None or year < filters.year_gte):
        return False
    if filters.year_lte is not None and (year is None or year > filters.year_lte):
        return False
    language = (movie.original_language or "").lower()
    if filters.original_language and language != filters.original_language.lower():
        return False
    if filters.vote_average_gte is not None and movie.vote_average < filters.vote_average_gte:
        return False
    return filters.include_adult or not movie.adult


def decade_of(year: int) -> str:
    return f"{year - year % 10}s"


def year_of(day: date | None) -> int | None:
    return day.year if day else None
