"""Highlights mark what the query matched, by the port's own matching rule, HTML-escaped."""

from __future__ import annotations

from movieverse.platform.search.highlight import highlight, snippet
from movieverse.platform.search.query import parse_query


def test_exact_typo_prefix_and_accent_matches_are_marked() -> None:
    assert highlight("Amélie", parse_query("amelei")) == "<em>Amélie</em>"
    assert highlight("The Shawshank Redemption", parse_query("shawshank redmption ")) == (
        "The <em>Shawshank</em> <em>Redemption</em>"
    )
    assert highlight("The Godfather", parse_query("the godf")) == "<em>The</em> <em>Godfather</em>"
    # A word that is only a prefix of a finished word (space typed after it) is no match.
    assert highlight("The Godfather", parse_query("godf ")) is None


def test_markup_in_titles_is_escaped_not_interpreted() -> None:
    marked = highlight("<script>Heat</script> & Co", parse_query("heat"))
    assert marked == "&lt;script&gt;<em>Heat</em>&lt;/script&gt; &amp; Co"


def test_short_words_get_no_typo_allowance() -> None:
    assert highlight("Up", parse_query("us ")) is None
    assert highlight("Se7en", parse_query("se7en")) == "<em>Se7en</em>"


def test_a_snippet_is_a_window_around_the_first_match() -> None:
    text = ("word " * 60) + "the heist goes wrong " + ("filler " * 60)
    cut = snippet(text, parse_query("heist "), chars=80)
    assert cut is not None
    assert cut.startswith("\u2026")
    assert cut.endswith("\u2026")
    assert "<em>heist</em>" in cut
    assert len(cut) < 120
    assert snippet("short text about a heist", parse_query("heist ")) == (
        "short text about a <em>heist</em>"
    )
    assert snippet("nothing here", parse_query("heist")) is None
