"""The search service's logic: read the query, ask the index, shape hits with highlights."""

from __future__ import annotations

import asyncio
import html
import math
from typing import Any, Literal

import orjson

from movieverse.platform.errors import BadRequest, NotImplementedHere
from movieverse.platform.pagination import PageParams
from movieverse.platform.search.documents import MovieDocument, PersonDocument, ReviewDocument
from movieverse.platform.search.embeddings import Embedder, load_embedder, semantic_installed
from movieverse.platform.search.highlight import highlight, snippet
from movieverse.platform.search.port import (
    MAX_SEMANTIC_RESULTS,
    MAX_WINDOW,
    FacetCount,
    Hit,
    MovieFacets,
    MovieFilters,
    SearchIndex,
)
from movieverse.platform.search.query import ParsedQuery, QueryRejected, parse_query
from movieverse.services.search.schemas import (
    MovieResult,
    MultiSearchPage,
    PersonHighlight,
    PersonResult,
    PersonSearchPage,
    ReviewHighlight,
    ReviewResult,
    ReviewSearchPage,
    SemanticSearchPage,
)


def _paging(params: PageParams, total: int) -> dict[str, Any]:
    """page, per_page, total_results and total_pages, as every page of results gives them."""
    return {
        "page": params.page,
        "per_page": params.per_page,
        "total_results": total,
        "total_pages": math.ceil(total / params.per_page) if total else 0,
    }


def read_query(raw: str) -> ParsedQuery:
    try:
        return parse_query(raw)
    except QueryRejected as exc:
        raise BadRequest(str(exc)) from exc


def movie_json(hit: Hit[MovieDocument], query: ParsedQuery) -> dict[str, Any]:
    """A movie result as :class:`MovieResult` serialises it, built as plain data: the hot
    routes write it with orjson, with no model built or validated (tests hold the two equal)."""
    movie = hit.document
    original = movie.original_title if movie.original_title != movie.title else None
    return {
        "media_type": "movie", "id": movie.id, "title": movie.title,
        "original_title": movie.original_title, "overview": movie.overview,
        "release_date": movie.release_date, "release_year": movie.year, "year": movie.year,
        "genres": list(movie.genres), "original_language": movie.original_language,
        "popularity": float(movie.popularity), "vote_average": float(movie.vote_average),
        "vote_count": movie.vote_count, "adult": movie.adult, "score": round(hit.score, 4),
        "highlight": {
            "title": highlight(movie.title, query),
            "original_title": highlight(original, query),
            "overview": snippet(movie.overview, query),
        },
    }  # fmt: skip


def movie_result(hit: Hit[MovieDocument], query: ParsedQuery) -> MovieResult:
    return MovieResult.model_validate(movie_json(hit, query))


def person_result(hit: Hit[PersonDocument], query: ParsedQuery) -> PersonResult:
    person = hit.document
    return PersonResult(
        id=person.id, name=person.name, known_for_department=person.known_for_department,
        popularity=person.popularity, profile_path=person.profile_path,
        score=round(hit.score, 4), highlight=PersonHighlight(name=highlight(person.name, query)),
    )  # fmt: skip


def review_result(
    hit: Hit[ReviewDocument], query: ParsedQuery, *, include_spoilers: bool
) -> ReviewResult:
    review = hit.document
    body = snippet(review.body, query) if include_spoilers or not review.spoiler else None
    return ReviewResult(
        id=review.id, movie_id=review.movie_id, username=review.username, title=review.title,
        spoiler=review.spoiler, language=review.language, created_at=review.created_at,
        score=round(hit.score, 4),
        highlight=ReviewHighlight(title=highlight(review.title, query), body=body),
    )  # fmt: skip


def _facets(facets: MovieFacets | None) -> dict[str, list[dict[str, Any]]]:
    """The facets as :class:`MovieFacetsRead` serialises them."""
    facets = facets or MovieFacets()

    def counts(items: tuple[FacetCount, ...]) -> list[dict[str, Any]]:
        return [{"value": f.value, "count": f.count} for f in items]

    return {
        "genres": counts(facets.genres),
        "decades": counts(facets.decades),
        "languages": counts(facets.languages),
    }


def check_filters(filters: MovieFilters) -> None:
    if (
        filters.year_gte is not None
        and filters.year_lte is not None
        and filters.year_gte > filters.year_lte
    ):
        raise BadRequest("year.gte is after year.lte: no movie can match")


async def search_movies(
    index: SearchIndex, *, q: str, filters: MovieFilters, params: PageParams
) -> bytes:
    """A page of movies as :class:`MovieSearchPage` serialises it (JSON bytes)."""
    query = read_query(q)
    check_filters(filters)
    found = await index.search_movies(
        query, filters=filters, offset=params.offset, limit=params.per_page
    )
    page = _paging(params, found.total)
    page["results"] = [movie_json(h, query) for h in found.hits]
    page["facets"] = _facets(found.facets)
    page["relaxed"] = found.relaxed
    return orjson.dumps(page)


async def search_people(index: SearchIndex, *, q: str, params: PageParams) -> PersonSearchPage:
    query = read_query(q)
    found = await index.search_people(query, offset=params.offset, limit=params.per_page)
    return PersonSearchPage(
        **_paging(params, found.total),
        results=[person_result(h, query) for h in found.hits],
        relaxed=found.relaxed,
    )


async def search_reviews(
    index: SearchIndex,
    *,
    q: str,
    movie_id: int | None,
    include_spoilers: bool,
    params: PageParams,
) -> ReviewSearchPage:
    query = read_query(q)
    found = await index.search_reviews(
        query, movie_id=movie_id, offset=params.offset, limit=params.per_page
    )
    results = [review_result(h, query, include_spoilers=include_spoilers) for h in found.hits]
    return ReviewSearchPage(**_paging(params, found.total), results=results, relaxed=found.relaxed)


async def search_multi(index: SearchIndex, *, q: str, params: PageParams) -> MultiSearchPage:
    """Movies and people in one ranking, by score: each list's first ``offset + per_page``
    hits are merged and the page cut from the merge."""
    query = read_query(q)
    depth = min(params.offset + params.per_page, MAX_WINDOW)
    movies = await index.search_movies(query, filters=MovieFilters(), offset=0, limit=depth)
    people = await index.search_people(query, offset=0, limit=depth)
    merged: list[tuple[float, MovieResult | PersonResult]] = [
        (h.score, movie_result(h, query)) for h in movies.hits
    ]
    merged += [(h.score, person_result(h, query)) for h in people.hits]
    merged.sort(key=lambda item: -item[0])
    window = [result for _, result in merged[params.offset : params.offset + params.per_page]]
    return MultiSearchPage(**_paging(params, movies.total + people.total), results=window)


# Reciprocal rank fusion's constant (Cormack, Clarke and Buettcher, SIGIR 2009: k = 60).
RRF_K = 60
SEMANTIC_MISSING = (
    "Semantic search needs the optional extra: pip install 'movieverse[semantic]' "
    "(and MOVIEVERSE_SEMANTIC_SEARCH left true)"
)


class QueryEmbedder:
    """The query side of semantic search: the model, loaded on first use on a worker thread."""

    def __init__(self, *, enabled: bool) -> None:
        self.enabled = enabled and semantic_installed()
        self._embedder: Embedder | None = None

    async def vector(self, text: str) -> bytes:
        if not self.enabled:
            raise NotImplementedHere(SEMANTIC_MISSING)
        if self._embedder is None:
            self._embedder = await asyncio.to_thread(load_embedder)
        if self._embedder is None:
            raise NotImplementedHere(SEMANTIC_MISSING)
        (vector,) = await asyncio.to_thread(self._embedder.encode, [text])
        return vector


async def search_semantic(
    index: SearchIndex,
    embedder: QueryEmbedder,
    *,
    q: str,
    mode: Literal["semantic", "hybrid"],
    filters: MovieFilters,
    params: PageParams,
) -> SemanticSearchPage:
    query = read_query(q)
    check_filters(filters)
    vector = await embedder.vector(q)
    if mode == "semantic":
        found = await index.search_semantic(
            vector, filters=filters, offset=params.offset, limit=params.per_page
        )
        results = [movie_result(h, query) for h in found.hits]
        return SemanticSearchPage(**_paging(params, found.total), results=results, mode=mode)
    # Hybrid: both rankings to the same depth, fused by 1 / (k + rank) summed per movie.
    nearest = await index.search_semantic(
        vector, filters=filters, offset=0, limit=MAX_SEMANTIC_RESULTS
    )
    texts = await index.search_movies(query, filters=filters, offset=0, limit=MAX_SEMANTIC_RESULTS)
    fused: dict[int, float] = {}
    movies: dict[int, Hit[MovieDocument]] = {}
    for ranking in (nearest.hits, texts.hits):
        for rank, hit in enumerate(ranking, start=1):
            fused[hit.document.id] = fused.get(hit.document.id, 0.0) + 1 / (RRF_K + rank)
            movies.setdefault(hit.document.id, hit)
    order = sorted(fused, key=lambda movie_id: -fused[movie_id])
    window = order[params.offset : params.offset + params.per_page]
    results = [
        movie_result(Hit(document=movies[i].document, score=fused[i]), query) for i in window
    ]
    return SemanticSearchPage(**_paging(params, len(order)), results=results, mode=mode)


async def suggest(index: SearchIndex, *, q: str, limit: int) -> bytes:
    """Suggestions as :class:`SuggestionList` serialises them (JSON bytes)."""
    query = read_query(q)
    found = await index.suggest(query, limit=limit)
    return orjson.dumps(
        {
            "query": q,
            "suggestions": [
                {
                    "type": "movie" if s.kind == "movies" else "person",
                    "id": s.id,
                    "text": s.text,
                    "release_year": s.year,
                    "year": s.year,
                    "highlight": highlight(s.text, query) or html.escape(s.text),
                }
                for s in found
            ],
        }
    )
