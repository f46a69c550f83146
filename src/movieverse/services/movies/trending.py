"""Trending: recent activity, decayed by age, ranked; popularity fills in behind it.

Each activity counts ``weight * 0.5 ** (age / half_life)``. The day window looks at the last
24 hours with a 6-hour half-life, the week window at 7 days with a 2-day half-life, so a burst of
interest rises quickly and fades within its window. Movies without activity follow, most popular
first -- with no activity at all, trending is simply the popularity ranking.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

Window = Literal["day", "week"]

# How much one event says about current interest.
ACTIVITY_WEIGHTS = {
    "watchlist_add": 1.0,
    "favourite_add": 2.0,
    "seen_add": 0.5,
    # Rating a movie takes a decision, reviewing it more: both say more than a list add.
    "rating": 1.5,
    "review": 3.0,
}


@dataclass(frozen=True)
class WindowSpec:
    span: timedelta
    half_life: timedelta


WINDOWS: dict[Window, WindowSpec] = {
    "day": WindowSpec(span=timedelta(days=1), half_life=timedelta(hours=6)),
    "week": WindowSpec(span=timedelta(days=7), half_life=timedelta(days=2)),
}
LONGEST_WINDOW = max(spec.span for spec in WINDOWS.values())


def decayed_scores(
    events: list[tuple[int, float, datetime]], *, now: datetime, spec: WindowSpec
) -> list[tuple[int, float]]:
    """(movie id, score) for the given (movie id, weight, when) events, best first."""
    scores: dict[int, float] = defaultdict(float)
    half_life = spec.half_life.total_seconds()
    for movie_id, weight, when in events:
        age = max(0.0, (now - when).total_seconds())
        scores[movie_id] += weight * 0.5 ** (age / half_life)
    return sorted(scores.items(), key=lambda item: (-item[1], item[0]))
