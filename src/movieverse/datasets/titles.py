"""MovieLens titles: ``"City of Lost Children, The (Cité des enfants perdus, La) (1995)"``.

MovieLens writes a title as: the primary title with a leading article moved to the end after a comma
(library-catalogue style), then optional alternate titles in parentheses (original-language title or
``a.k.a.`` name, each with its own moved article), then the year in parentheses. A few titles add a
format qualifier after the year (ml-100k: ``"... (1995) (V)"``), some have no year, and series
have a range (``"(2006\u20132007)"``, with an en dash).

The parse works from the end of the title on balanced parentheses, so commas and parentheses
inside the primary title (``"Good, the Bad and the Ugly, The"``, ``"(500) Days of Summer"``) are
left alone.
A title whose own name ends in parentheses (rare) loses that part to ``alternate_titles``; the raw
title is always kept by the caller.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Articles MovieLens moves to the end. Only a trailing ", <article>" with this exact capitalisation
# moves, so ", Jr.", ", Inc." and ", Sam" (as in "Play It Again, Sam") stay where they are.
ARTICLES: frozenset[str] = frozenset(
    {
        # English
        "The", "A", "An",
        # French
        "Le", "La", "Les", "L'", "Un", "Une", "Des",
        # Spanish
        "El", "Los", "Las", "Lo", "Una", "Unos", "Unas",
        # Italian ("I" and "Gli" are plural; "Un'" is elided like "L'")
        "Il", "I", "Gli", "Uno", "Un'",
        # German
        "Der", "Die", "Das", "Den", "Ein", "Eine",
        # Portuguese
        "O", "Os", "As", "Um", "Uma",
        # Dutch and Scandinavian
        "De", "Het", "Een", "Det", "En", "Et", "Ett",
        # MovieLens treats the slang article as one: "Hip Hop Witch, Da (2000)".
        "Da",
    }
)  # fmt: skip

# "1999", or a range for series: "2006-2007" with an en dash (MovieLens), hyphen or em dash; the
# end year may be missing for a series still running.
_YEAR = re.compile("([0-9]{4})(?:\\s*[-\u2013\u2014]\\s*(?:[0-9]{4})?)?")
_AKA = re.compile(r"(?:a\.k\.a\.|aka)\s+", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class ParsedTitle:
    title: str
    year: int | None
    alternate_titles: tuple[str, ...]


def parse_movielens_title(raw: str) -> ParsedTitle:
    """Split a raw MovieLens title into display title, year and alternate titles.

    The year is the last trailing group that looks like a year (its first year for a range); groups
    after it are format qualifiers (``"(V)"``) and are dropped; groups before it are alternates.
    """
    primary, groups = _split_trailing_groups(raw.strip())
    year: int | None = None
    alternates = groups
    for index in range(len(groups) - 1, -1, -1):
        match = _YEAR.fullmatch(groups[index])
        if match is not None:
            year = int(match.group(1))
            alternates = groups[:index]
            break
    return ParsedTitle(
        title=move_trailing_article(primary),
        year=year,
        alternate_titles=tuple(
            move_trailing_article(_AKA.sub("", alternate, count=1))
            for alternate in alternates
            if alternate
        ),
    )


def move_trailing_article(title: str) -> str:
    """``"Matrix, The"`` → ``"The Matrix"``; ``"Atalante, L'"`` → ``"L'Atalante"``."""
    head, comma, last = title.rpartition(", ")
    if not comma or not head or last not in ARTICLES:
        return title
    # Elided articles attach to the word: "L'Atalante", not "L' Atalante".
    separator = "" if last.endswith("'") else " "
    return f"{last}{separator}{head}"


def _split_trailing_groups(text: str) -> tuple[str, list[str]]:
    """Peel balanced ``(...)`` groups off the end: ``"A (B) (1999)"`` → ``("A", ["B", "1999"])``.

    Stops at unbalanced parentheses and never peels the last group off an otherwise empty title,
    so ``"(1999)"`` alone stays the title.
    """
    groups: list[str] = []
    while text.endswith(")"):
        opening = _matching_open(text)
        if opening is None:
            break
        head = text[:opening].rstrip()
        if not head:
            break
        groups.append(text[opening + 1 : -1].strip())
        text = head
    groups.reverse()
    return text, groups


def _matching_open(text: str) -> int | None:
    """Index of the ``(`` that balances the final ``)``, or None when there is none."""
    depth = 0
    for index in range(len(text) - 1, -1, -1):
        char = text[index]
        if char == ")":
            depth += 1
        elif char == "(":
            depth -= 1
            if depth == 0:
                return index
    return None
