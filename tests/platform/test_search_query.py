"""How a search query is read: folding, typo allowances, the prefix, year hints, and refusals."""

from __future__ import annotations

import pytest

from movieverse.platform.search.query import (
    MAX_QUERY_CHARS,
    QueryRejected,
    allowed_edits,
    fold,
    parse_query,
    words,
)


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("Amélie", "amelie"),
        ("LES MISÉRABLES", "les miserables"),
        ("Ærø", "aero"),
        ("Straße", "strasse"),
        ("Łódź", "lodz"),
        ("Øresund", "oresund"),
        ("Crème brûlée", "creme brulee"),
        ("ﬁlm", "film"),  # a ligature (NFKD compatibility)
    ],
)
def test_fold_removes_case_and_accents(text: str, folded: str) -> None:
    assert fold(text) == folded


def test_words_split_on_punctuation_and_query_syntax() -> None:
    assert words("Matrix, The (1999)") == ["matrix", "the", "1999"]
    assert words('title:* "unbalanced OR OR -x') == ["title", "unbalanced", "or", "or", "x"]
    assert words("Amélie's_fate") == ["amelie", "s", "fate"]


@pytest.mark.parametrize(
    ("term", "edits"),
    [("up", 0), ("heat", 1), ("amelie", 1), ("godfath", 1), ("shawshank", 2), ("1995", 0)],
)
def test_typos_allowed_grow_with_the_term(term: str, edits: int) -> None:
    assert allowed_edits(term) == edits


def test_a_query_being_typed_matches_its_last_term_as_a_prefix() -> None:
    typing = parse_query("the godf")
    assert [(t.text, t.edits, t.prefix) for t in typing.terms] == [
        ("the", 0, False),
        ("godf", 1, True),
    ]
    done = parse_query("shawshank redmption ")
    assert [(t.text, t.edits, t.prefix) for t in done.terms] == [
        ("shawshank", 2, False),
        ("redmption", 2, False),
    ]
    # Ending on punctuation is not typing a word.
    assert not parse_query('"heat"').terms[-1].prefix


def test_a_year_beside_other_words_is_a_hint_and_stays_a_term() -> None:
    heat = parse_query("heat 1995")
    assert heat.year == 1995
    assert [t.text for t in heat.terms] == ["heat", "1995"]
    odyssey = parse_query("2001 a space odyssey")
    assert odyssey.year == 2001
    assert [t.text for t in odyssey.terms] == ["2001", "a", "space", "odyssey"]
    assert parse_query("1917").year is None  # alone, it is a title
    assert parse_query("heat 3000").year is None  # not a year a movie can have
    assert parse_query("heat 95").year is None


def test_syntax_is_plain_text_and_nothing_is_an_empty_query() -> None:
    injected = parse_query("title:* OR OR")
    assert [t.text for t in injected.terms] == ["title", "or", "or"]
    assert parse_query('  "" ** :: ').empty
    assert parse_query("").empty


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("x" * (MAX_QUERY_CHARS + 1), "at most 256 characters"),
        ("heat\x00", "control characters"),
        ("heat\x1b[2J", "control characters"),
        ("heat\x7f", "control characters"),
    ],
)
def test_what_cannot_be_a_query_is_refused_with_a_reason(raw: str, reason: str) -> None:
    with pytest.raises(QueryRejected, match=reason):
        parse_query(raw)


def test_tabs_newlines_and_the_longest_query_are_fine() -> None:
    assert [t.text for t in parse_query("heat\tde niro\n").terms] == ["heat", "de", "niro"]
    assert len(parse_query("a" * MAX_QUERY_CHARS).terms) == 1
