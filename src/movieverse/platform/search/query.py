"""What a search query says, before any index sees it: the search port's input.

Users type titles the way they remember them: without accents ("amelie"), with typos
("shawshank redmption"), half finished ("the godf"), with a year ("heat 1995"). Every adapter
gets the same reading of such a query:

* terms folded the way the indexes fold text (case and accents gone: "Amélie" -> "amelie"), so
  an adapter that builds its own term queries (tantivy's fuzzy terms are not analysed) matches
  the indexed tokens;
* how many typos each term forgives: none below 4 letters, 1 for 4-7, 2 for 8 or more;
* whether the last term is still being typed (no space after it): it then matches as a prefix;
* a year hint: a four-digit year beside other words ("heat 1995") ranks that year's movies up.

Query syntax is never passed through: ``title:*``, quotes and ``OR OR`` are plain text here, so no
query can reach an engine's parser. What cannot be a query at all -- too long, or holding control
characters -- is refused with a reason the API turns into a 400.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

MAX_QUERY_CHARS = 256
# Letters NFKD does not take apart, folded as search engines' ASCII folding does.
_UNDECOMPOSABLE = str.maketrans(
    {"ø": "o", "æ": "ae", "œ": "oe", "ð": "d", "þ": "th", "ł": "l", "đ": "d", "\u0131": "i"}
)
_WORD = re.compile(r"[^\W_]+")  # letters and digits; punctuation and query syntax split words
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # tabs and newlines are just spaces
EARLIEST_YEAR, LATEST_YEAR = 1874, 2100  # the first surviving motion pictures; a sane future


class QueryRejected(ValueError):
    """The text cannot be a search query; the message says why (for the 400's detail)."""


def fold(text: str) -> str:
    """Case and accents away: "Amélie" -> "amelie", "Ærø" -> "aero", "Straße" -> "strasse"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold().translate(_UNDECOMPOSABLE))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def words(text: str) -> list[str]:
    """The folded words of ``text``, in order."""
    return _WORD.findall(fold(text))


def allowed_edits(term: str) -> int:
    """Typos forgiven in a term: 0 below 4 letters, 1 for 4-7, 2 for 8 or more; none in a
    number ("1995" must not find 1996)."""
    if len(term) < 4 or term.isdigit():
        return 0
    return 1 if len(term) < 8 else 2


@dataclass(frozen=True)
class QueryTerm:
    text: str
    edits: int
    prefix: bool  # the last term, still being typed


@dataclass(frozen=True)
class ParsedQuery:
    raw: str
    terms: tuple[QueryTerm, ...]
    # A year beside other words: it stays a term too ("2001 a space odyssey" is a title, not
    # a movie of 2001), and ranking decides what the hint is worth.
    year: int | None

    @property
    def empty(self) -> bool:
        return not self.terms


def parse_query(raw: str) -> ParsedQuery:
    """Read a user's query; raises :class:`QueryRejected` for what cannot be one."""
    if len(raw) > MAX_QUERY_CHARS:
        raise QueryRejected(f"A query is at most {MAX_QUERY_CHARS} characters long")
    if _CONTROL.search(raw):
        raise QueryRejected("A query cannot contain control characters")
    found = words(raw)
    year = _year_hint(found)
    still_typing = bool(found) and not raw[-1:].isspace() and _WORD.search(raw[-1:]) is not None
    terms = tuple(
        QueryTerm(
            text=word,
            edits=allowed_edits(word),
            prefix=still_typing and position == len(found) - 1,
        )
        for position, word in enumerate(found)
    )
    return ParsedQuery(raw=raw, terms=terms, year=year)


def _year_hint(found: list[str]) -> int | None:
    """The last four-digit year among other words ("heat 1995"); alone it is a title ("1917")."""
    if len(found) < 2:
        return None
    for word in reversed(found):
        if len(word) == 4 and word.isdigit() and EARLIEST_YEAR <= int(word) <= LATEST_YEAR:
            return int(word)
    return None
