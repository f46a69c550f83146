"""What the OpenSearch adapter sends, checked without a server (none can be had here; the
contract suite runs against one where MOVIEVERSE_TEST_OPENSEARCH_URL is set).

Mappings are strict (``dynamic: strict``): a field a document carries that the mapping lacks
would fail every write, so each kind's documents are checked against its mapping here."""

from __future__ import annotations

import json
import struct
from datetime import date, datetime
from typing import Any

from movieverse.platform.search import opensearch_queries as dsl
from movieverse.platform.search.documents import MovieDocument, PersonDocument, ReviewDocument
from movieverse.platform.search.embeddings import DIMENSIONS
from movieverse.platform.search.port import MovieFilters
from movieverse.platform.search.query import parse_query

MOVIE = MovieDocument(
    7, "The Matrix", original_title="Matrix", alternate_titles=("Matrix, The",),
    overview="A hacker.", keywords=("dystopia",), genres=("Action",),
    release_date=date(1999, 3, 30), original_language="EN", popularity=100.0,
)  # fmt: skip
PERSON = PersonDocument(31, "Tom Hanks", popularity=50)
REVIEW = ReviewDocument("r-1", movie_id=7, username="critic", body="Bullet time.",
                        created_at=datetime(2026, 1, 1))  # fmt: skip


def _terms(node: Any) -> list[tuple[str, Any]]:
    """Every (query type, body) pair in a query tree."""
    found: list[tuple[str, Any]] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key in {"term", "fuzzy", "prefix", "range"}:
                found.append((key, value))
            found += _terms(value)
    elif isinstance(node, list):
        for item in node:
            found += _terms(item)
    return found


def test_documents_carry_only_mapped_fields_and_round_trip_as_json() -> None:
    vector = struct.pack(f"<{DIMENSIONS}f", *([0.0] * DIMENSIONS))
    for kind, document, extra in (
        ("movies", MOVIE, vector),
        ("people", PERSON, None),
        ("reviews", REVIEW, None),
    ):
        source = dsl.source(document, extra)
        mapped = set(dsl.mappings(kind)["properties"])  # type: ignore[arg-type]
        assert set(source) <= mapped, (kind, set(source) - mapped)
        json.dumps(source)  # what the client sends must be JSON
    movie = dsl.source(MOVIE, vector)
    assert movie["lang"] == "en"
    assert movie["exact"] == ["the matrix", "thematrix", "matrix", "matrix the", "matrixthe"]
    assert movie["bare"] == []
    assert len(movie["vec"]) == DIMENSIONS
    assert dsl.mappings("movies")["properties"]["vec"]["dimension"] == DIMENSIONS


def test_every_queried_field_is_mapped() -> None:
    query = parse_query("shawshank redmption 1994 the")
    for kind, fields in dsl.FIELDS.items():
        mapped = set(dsl.mappings(kind)["properties"])
        body = dsl.text_query(
            query, fields, every_term=True, exact_field=kind != "reviews",
            year_field=kind == "movies",
        )  # fmt: skip
        if kind == "movies":
            body = dsl.filtered(body, dsl.movie_filters(MovieFilters(genres=("Drama",),
                                                                     year_gte=1990)))  # fmt: skip
        for _, clause in _terms(body):
            assert set(clause) <= mapped | {"gte", "lte"}, (kind, clause)
        json.dumps(dsl.weighted(body))


def test_typos_prefixes_and_the_year_hint_become_the_right_clauses() -> None:
    body = dsl.text_query(
        parse_query("redmption 1994 shaw"), dsl.FIELDS["movies"], every_term=True, year_field=True
    )
    kinds = _terms(body)
    fuzzy = [b["title"] for k, b in kinds if k == "fuzzy" and "title" in b]
    assert {
        "value": "redmption",
        "fuzziness": 2,
        "transpositions": True,
        "prefix_length": 0,
    } in fuzzy
    assert ("prefix", {"title": "shaw"}) in kinds
    assert ("term", {"year": {"value": 1994, "boost": 80.0}}) in kinds
    # The hint is optional: it sits in a should, never in the required terms.
    must = body["bool"]["must"][0]["bool"]["should"][0]["bool"]["must"]
    assert all("1994" not in json.dumps(clause) for clause in must)
    relaxed = dsl.text_query(parse_query("a b"), dsl.FIELDS["people"], every_term=False)
    assert relaxed["bool"]["should"][0]["bool"]["minimum_should_match"] == 1
