"""Index mappings and query bodies for OpenSearch: the port's ranking rules in its query DSL.

The same rules as :mod:`.tantivy_queries`, field for field: text arrives folded by our own
:func:`~movieverse.platform.search.query.words`, so the mappings split on whitespace only; fuzzy
and prefix matches are constant-scored as tantivy scores them, and popularity multiplies the
score by ``log2(2 + weight)`` up to a constant factor (``log2p`` is ``log10(2 + x)``), which
orders hits the same way.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from typing import Any

from movieverse.platform.search.documents import (
    Document,
    Kind,
    MovieDocument,
    PersonDocument,
    to_json,
)
from movieverse.platform.search.embeddings import DIMENSIONS
from movieverse.platform.search.port import MovieFilters
from movieverse.platform.search.query import ParsedQuery, QueryTerm, fold
from movieverse.platform.search.tantivy_queries import (
    BARE_TITLE_BOOST,
    EXACT_TITLE_BOOST,
    MOVIE_FIELDS,
    PEOPLE_FIELDS,
    REVIEW_FIELDS,
    TIE_BREAKER,
    YEAR_HINT_BOOST,
    FieldWeight,
    whole_forms,
)
from movieverse.platform.search.tantivy_schema import (
    SCHEMA_VERSIONS,
    exact_forms,
    folded,
    movie_popularity,
    popularity_weight,
)

_TEXT = {"type": "text", "analyzer": "whitespace", "similarity": "BM25"}
_KEYWORD = {"type": "keyword"}
FIELDS: dict[Kind, tuple[FieldWeight, ...]] = {
    "movies": MOVIE_FIELDS,
    "people": PEOPLE_FIELDS,
    "reviews": REVIEW_FIELDS,
}


def mappings(kind: Kind) -> dict[str, Any]:
    properties: dict[str, Any] = {"doc": {"type": "object", "enabled": False}}
    if kind == "reviews":
        properties |= {
            "id": _KEYWORD, "movie_id": {"type": "long"}, "title": _TEXT, "body": _TEXT,
            "username": _TEXT, "lang": _KEYWORD,
        }  # fmt: skip
    elif kind == "people":
        properties |= {
            "id": {"type": "long"}, "name": _TEXT, "exact": _KEYWORD, "bare": _KEYWORD,
            "weight": {"type": "float"},
        }  # fmt: skip
    else:
        properties |= {
            "id": {"type": "long"}, "title": _TEXT, "alt": _TEXT, "keywords": _TEXT,
            "overview": _TEXT, "exact": _KEYWORD, "bare": _KEYWORD, "genre": _KEYWORD,
            "genre_key": _KEYWORD,
            "lang": _KEYWORD, "year": {"type": "integer"}, "vote": {"type": "float"},
            "adult": {"type": "boolean"}, "weight": {"type": "float"},
            "vec": {
                "type": "knn_vector", "dimension": DIMENSIONS,
                "method": {"name": "hnsw", "space_type": "cosinesimil", "engine": "lucene"},
            },
        }  # fmt: skip
    return {
        "dynamic": "strict",
        "_meta": {"schema": SCHEMA_VERSIONS[kind]},
        "properties": properties,
    }


def source(document: Document, vector: bytes | None = None) -> dict[str, Any]:
    """The indexed fields of a document, and the document itself under ``doc``."""
    body: dict[str, Any] = {"doc": to_json(document)}
    if vector is not None and isinstance(document, MovieDocument):
        body["vec"] = list(struct.unpack(f"<{len(vector) // 4}f", vector))
    if isinstance(document, MovieDocument):
        others = [
            t for t in (document.original_title, *document.alternate_titles)
            if t and t != document.title
        ]  # fmt: skip
        body |= {
            "id": document.id, "title": folded(document.title), "alt": folded(" ".join(others)),
            "keywords": folded(" ".join(document.keywords)), "overview": folded(document.overview),
            "exact": exact_forms(document.title, *others)[0],
            "bare": exact_forms(document.title, *others)[1], "genre": list(document.genres),
            "genre_key": [fold(g) for g in document.genres],
            "lang": (document.original_language or "").lower(), "year": document.year,
            "vote": document.vote_average, "adult": document.adult,
            "weight": popularity_weight(movie_popularity(document)),
        }  # fmt: skip
    elif isinstance(document, PersonDocument):
        body |= {
            "id": document.id, "name": folded(document.name),
            "exact": exact_forms(document.name)[0], "bare": exact_forms(document.name)[1],
            "weight": popularity_weight(document.popularity),
        }  # fmt: skip
    else:
        body |= {
            "id": document.id, "movie_id": document.movie_id, "title": folded(document.title),
            "body": folded(document.body), "username": folded(document.username),
            "lang": (document.language or "").lower(),
        }  # fmt: skip
    return body


def _constant(clause: dict[str, Any], boost: float) -> dict[str, Any]:
    return {"constant_score": {"filter": clause, "boost": boost}}


def term_clause(term: QueryTerm, fields: Sequence[FieldWeight]) -> dict[str, Any]:
    parts: list[dict[str, Any]] = []
    for field in fields:
        parts.append({"term": {field.name: {"value": term.text, "boost": field.exact}}})
        if not field.fuzzy:
            continue
        if term.edits:
            fuzzy = {
                "fuzzy": {field.name: {"value": term.text, "fuzziness": term.edits,
                                       "transpositions": True, "prefix_length": 0}}
            }  # fmt: skip
            parts.append(_constant(fuzzy, field.fuzzy * 0.8))
        if term.prefix:
            parts.append(_constant({"prefix": {field.name: term.text}}, field.fuzzy * 0.9))
            if term.edits:
                # A typo within what is typed so far: OpenSearch has no fuzzy prefix query; a
                # fuzzy match of the whole word stands in for it.
                loose = {"fuzzy": {field.name: {"value": term.text, "fuzziness": 1}}}
                parts.append(_constant(loose, field.fuzzy * 0.6))
    return {"dis_max": {"queries": parts, "tie_breaker": TIE_BREAKER}}


def text_query(
    query: ParsedQuery,
    fields: Sequence[FieldWeight],
    *,
    every_term: bool,
    exact_field: bool = True,
    year_field: bool = False,
) -> dict[str, Any]:
    must: list[dict[str, Any]] = []
    should: list[dict[str, Any]] = []
    for term in query.terms:
        clause = term_clause(term, fields)
        is_hint = query.year is not None and term.text == str(query.year)
        (should if is_hint or not every_term else must).append(clause)
    words: dict[str, Any] = {"bool": {"must": must, "should": should}}
    if not must:
        words["bool"]["minimum_should_match"] = 1
    alternatives = [words]
    if exact_field:
        for form in whole_forms(query):
            alternatives.append({"term": {"exact": {"value": form, "boost": EXACT_TITLE_BOOST}}})
            alternatives.append({"term": {"bare": {"value": form, "boost": BARE_TITLE_BOOST}}})
    matched = {"bool": {"should": alternatives, "minimum_should_match": 1}}
    if not (year_field and query.year is not None):
        return matched
    year = {"term": {"year": {"value": query.year, "boost": YEAR_HINT_BOOST}}}
    return {"bool": {"must": [matched], "should": [year]}}


def movie_filters(filters: MovieFilters) -> list[dict[str, Any]]:
    conditions: list[dict[str, Any]] = [{"term": {"genre_key": fold(g)}} for g in filters.genres]
    if filters.year_gte is not None or filters.year_lte is not None:
        bounds: dict[str, int] = {}
        if filters.year_gte is not None:
            bounds["gte"] = filters.year_gte
        if filters.year_lte is not None:
            bounds["lte"] = filters.year_lte
        conditions.append({"range": {"year": bounds}})
    if filters.original_language:
        conditions.append({"term": {"lang": filters.original_language.lower()}})
    if filters.vote_average_gte is not None:
        conditions.append({"range": {"vote": {"gte": filters.vote_average_gte}}})
    if not filters.include_adult:
        conditions.append({"bool": {"must_not": [{"term": {"adult": True}}]}})
    return conditions


def filtered(text: dict[str, Any], conditions: list[dict[str, Any]]) -> dict[str, Any]:
    if not conditions:
        return text
    return {"bool": {"must": [text], "filter": conditions}}


def weighted(query: dict[str, Any]) -> dict[str, Any]:
    return {
        "function_score": {
            "query": query,
            "field_value_factor": {"field": "weight", "modifier": "log2p", "missing": 0},
            "boost_mode": "multiply",
        }
    }


MOVIE_AGGREGATIONS = {
    "genres": {"terms": {"field": "genre", "size": 40}},
    "languages": {"terms": {"field": "lang", "size": 30}},
    "decades": {"histogram": {"field": "year", "interval": 10, "min_doc_count": 1}},
}
