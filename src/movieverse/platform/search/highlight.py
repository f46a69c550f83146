"""Marking the words of a text that a query matched, the same way for every adapter.

The engines' own highlighters differ (tantivy's cannot highlight fuzzy matches at all), so the
search service marks matches itself, with the port's matching rule: a word matches a term when
its folded form equals it, is within the term's allowed typos, or (for a term being typed)
starts with it. Output is HTML-escaped with matches in ``<em>``.
"""

from __future__ import annotations

import html
import re

from rapidfuzz.distance import OSA

from movieverse.platform.search.query import ParsedQuery, QueryTerm, fold

_WORD = re.compile(r"[^\W_]+")
SNIPPET_CHARS = 200


def _matches(word: str, term: QueryTerm) -> bool:
    if word == term.text:
        return True
    if term.prefix and word.startswith(term.text):
        return True
    if term.edits and OSA.distance(word, term.text, score_cutoff=term.edits) <= term.edits:
        return True
    if term.prefix and term.edits and len(word) > len(term.text):
        head = word[: len(term.text)]
        return OSA.distance(head, term.text, score_cutoff=1) <= 1
    return False


def _spans(text: str, query: ParsedQuery) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    for found in _WORD.finditer(text):
        folded = fold(found.group())
        if any(_matches(folded, term) for term in query.terms):
            spans.append(found.span())
    return spans


def highlight(text: str | None, query: ParsedQuery) -> str | None:
    """The whole text, escaped, matches marked; None when nothing in it matched."""
    if not text:
        return None
    spans = _spans(text, query)
    if not spans:
        return None
    return _mark(text, spans, 0, len(text))


def snippet(text: str | None, query: ParsedQuery, *, chars: int = SNIPPET_CHARS) -> str | None:
    """A window of about ``chars`` characters around the first match, on word boundaries."""
    if not text:
        return None
    spans = _spans(text, query)
    if not spans:
        return None
    if len(text) <= chars:
        return _mark(text, spans, 0, len(text))
    first = spans[0][0]
    start = max(0, first - chars // 4)
    if start:
        space = text.rfind(" ", 0, start)
        start = space + 1 if space >= 0 else start
    end = min(len(text), start + chars)
    if end < len(text):
        space = text.rfind(" ", start, end)
        end = space if space > first else end
    body = _mark(text, [s for s in spans if s[0] >= start and s[1] <= end], start, end)
    return ("\u2026" if start else "") + body + ("\u2026" if end < len(text) else "")


def _mark(text: str, spans: list[tuple[int, int]], start: int, end: int) -> str:
    out: list[str] = []
    cursor = start
    for left, right in spans:
        out.append(html.escape(text[cursor:left]))
        out.append(f"<em>{html.escape(text[left:right])}</em>")
        cursor = right
    out.append(html.escape(text[cursor:end]))
    return "".join(out)
