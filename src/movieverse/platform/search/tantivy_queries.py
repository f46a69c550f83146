"""Parsed queries and filters as tantivy queries: the ranking rules of the port, in tantivy terms.

Each term becomes a disjunction over the fields it may match: the exact token (BM25-scored), and,
where the term forgives typos or is being typed, a fuzzy or prefix match. tantivy scores fuzzy
and prefix matches as constants, so their boosts are set against BM25's range: a typo'd title
word still outranks an exact word deep in an overview, and an exact title word outranks a typo.

Typos are looked for only when the query as typed names nothing (:func:`names_a_title`): a
fuzzy term walks each segment's whole term dictionary with a Levenshtein automaton, which costs
five times the rest of a search, and an exact title match outranks every typo anyway.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import tantivy

from movieverse.platform.search.port import MovieFilters
from movieverse.platform.search.query import (
    EARLIEST_YEAR,
    LATEST_YEAR,
    ParsedQuery,
    QueryTerm,
    fold,
    words,
)


@dataclass(frozen=True)
class FieldWeight:
    name: str
    exact: float
    fuzzy: float  # 0: no fuzzy or prefix matching in this field


MOVIE_FIELDS = (
    FieldWeight("title", exact=3.0, fuzzy=3.0),
    FieldWeight("alt", exact=2.0, fuzzy=2.0),
    FieldWeight("keywords", exact=1.0, fuzzy=0.0),
    FieldWeight("overview", exact=0.4, fuzzy=0.0),
)
PEOPLE_FIELDS = (FieldWeight("name", exact=3.0, fuzzy=3.0),)
REVIEW_FIELDS = (
    FieldWeight("title", exact=2.0, fuzzy=1.5),
    FieldWeight("body", exact=1.0, fuzzy=0.5),
    FieldWeight("username", exact=1.0, fuzzy=0.0),
)
SUGGEST_MOVIE_FIELDS = (FieldWeight("title", exact=3.0, fuzzy=3.0), FieldWeight("alt", 2.0, 2.0))
SUGGEST_PEOPLE_FIELDS = PEOPLE_FIELDS
EXACT_TITLE_BOOST = 25.0
BARE_TITLE_BOOST = 15.0  # the whole title but for its leading article
YEAR_HINT_BOOST = 80.0
# Other fields' share of a term's score beside its best field.
TIE_BREAKER = 0.2


def term_query(
    schema: tantivy.Schema, term: QueryTerm, fields: Sequence[FieldWeight], *, typos: bool = True
) -> tantivy.Query:
    """``typos``: the term's allowed typos too (else as typed: exact, or a prefix)."""
    edits = term.edits if typos else 0
    parts: list[tantivy.Query] = []
    for field in fields:
        exact = tantivy.Query.term_query(schema, field.name, term.text)
        parts.append(tantivy.Query.boost_query(exact, field.exact))
        if not field.fuzzy:
            continue
        if edits:
            fuzzy = tantivy.Query.fuzzy_term_query(schema, field.name, term.text, distance=edits)
            parts.append(tantivy.Query.boost_query(fuzzy, field.fuzzy * 0.8))
        if term.prefix:
            prefix = tantivy.Query.fuzzy_term_query(
                schema, field.name, term.text, distance=0, prefix=True
            )
            parts.append(tantivy.Query.boost_query(prefix, field.fuzzy * 0.9))
            if edits:
                loose = tantivy.Query.fuzzy_term_query(
                    schema, field.name, term.text, distance=1, prefix=True
                )
                parts.append(tantivy.Query.boost_query(loose, field.fuzzy * 0.6))
    return tantivy.Query.disjunction_max_query(parts, tie_breaker=TIE_BREAKER)


def text_query(
    schema: tantivy.Schema,
    query: ParsedQuery,
    fields: Sequence[FieldWeight],
    *,
    every_term: bool,
    exact_field: bool = True,
    year_field: bool = False,
    typos: bool = True,
) -> tantivy.Query:
    """Documents matching every term (``every_term``) or any, or whose whole title is the query
    (so "fightclub" finds Fight Club); scored up by whole-title matches and the year hint.
    ``typos``: terms match within their allowed typos too (else only as typed)."""
    must: list[tantivy.Query] = []
    should: list[tantivy.Query] = []
    for term in query.terms:
        clause = term_query(schema, term, fields, typos=typos)
        # The year hint need not be in the title: "heat 1995" is Heat, of 1995.
        is_hint = query.year is not None and term.text == str(query.year)
        (should if is_hint or not every_term else must).append(clause)
    occurs = [(tantivy.Occur.Must, q) for q in must] + [(tantivy.Occur.Should, q) for q in should]
    alternatives = [tantivy.Query.boolean_query(occurs)]
    if exact_field:
        for form in whole_forms(query):
            exact = tantivy.Query.term_query(schema, "exact", form)
            alternatives.append(tantivy.Query.boost_query(exact, EXACT_TITLE_BOOST))
            bare = tantivy.Query.term_query(schema, "bare", form)
            alternatives.append(tantivy.Query.boost_query(bare, BARE_TITLE_BOOST))
    matched = tantivy.Query.boolean_query([(tantivy.Occur.Should, q) for q in alternatives])
    if not (year_field and query.year is not None):
        return matched
    year = tantivy.Query.boost_query(
        tantivy.Query.term_query(schema, "year", query.year), YEAR_HINT_BOOST
    )
    return tantivy.Query.boolean_query(
        [(tantivy.Occur.Must, matched), (tantivy.Occur.Should, year)]
    )


def whole_forms(query: ParsedQuery) -> list[str]:
    """The query as a whole title: as typed, without the year hint ("heat 1995" -> "heat"), and
    each with its spaces squeezed out ("brave heart" -> "braveheart")."""
    texts = [term.text for term in query.terms]
    forms = [texts]
    if query.year is not None and str(query.year) in texts:
        without = [t for t in texts if t != str(query.year)]
        if without:
            forms.append(without)
    return list(dict.fromkeys([" ".join(f) for f in forms] + ["".join(f) for f in forms]))


def movie_filters(schema: tantivy.Schema, filters: MovieFilters) -> list[tantivy.Query]:
    """Conditions every hit must meet, scored zero so they do not move the ranking."""
    must: list[tantivy.Query] = []
    for genre in filters.genres:
        must.append(tantivy.Query.term_query(schema, "genre_key", fold(genre)))
    if filters.year_gte is not None or filters.year_lte is not None:
        must.append(
            tantivy.Query.range_query(
                schema,
                "year",
                tantivy.FieldType.Integer,
                filters.year_gte if filters.year_gte is not None else EARLIEST_YEAR,
                filters.year_lte if filters.year_lte is not None else LATEST_YEAR,
            )
        )
    if filters.original_language:
        must.append(tantivy.Query.term_query(schema, "lang", filters.original_language.lower()))
    if filters.vote_average_gte is not None:
        must.append(
            tantivy.Query.range_query(
                schema, "vote", tantivy.FieldType.Float, filters.vote_average_gte, 10.0
            )
        )
    if not filters.include_adult:
        adult = tantivy.Query.term_query(schema, "adult", 1)
        must.append(
            tantivy.Query.boolean_query(
                [(tantivy.Occur.Must, tantivy.Query.all_query()), (tantivy.Occur.MustNot, adult)]
            )
        )
    return [tantivy.Query.const_score_query(q, 0.0) for q in must]


def filtered(query: tantivy.Query, conditions: list[tantivy.Query]) -> tantivy.Query:
    if not conditions:
        return query
    return tantivy.Query.boolean_query(
        [(tantivy.Occur.Must, query)] + [(tantivy.Occur.Must, c) for c in conditions]
    )


def suggest_query(
    schema: tantivy.Schema, query: ParsedQuery, fields: Sequence[FieldWeight], *, typos: bool
) -> tantivy.Query:
    """As-you-type: every term required; the last one (or all, after a space) may be a prefix."""
    return text_query(schema, query, fields, every_term=True, typos=typos)


def names_a_title(query: ParsedQuery, titles: Sequence[str | None]) -> bool:
    """Whether one of ``titles`` holds the query as typed: each term a word of it (the term
    being typed: the start of one), the year hint aside; or the query is the whole title.

    A search whose best match as typed passes this is answered without looking for typos: the
    typo pass could only add lower-ranked near-misses of what the user plainly typed. Else
    ("star wors" finding Star and worst in an overview) the typos are looked for."""
    hint = str(query.year) if query.year is not None else None
    forms = set(whole_forms(query))
    for title in titles:
        found = words(title or "")
        if not found:
            continue
        if " ".join(found) in forms or "".join(found) in forms:
            return True
        vocabulary = set(found)
        if all(
            term.text == hint
            or term.text in vocabulary
            or (term.prefix and any(word.startswith(term.text) for word in found))
            for term in query.terms
        ):
            return True
    return False
