"""Recommendations' own metrics: how often a personal page is a cache hit, and what became of
each background refresh (refresh.py)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from prometheus_client import Counter

from movieverse.platform.observability import process_registry


@dataclass(frozen=True)
class RecommendationsMetrics:
    # result: hit | miss (a miss asks the ai service).
    pages: Counter
    # outcome: refreshed | gave_up (ai stayed behind) | dropped (too many waiting) | failed |
    # not_visitor (a change of a user who has not opened their page lately: not refreshed).
    refreshes: Counter


@cache
def recommendations_metrics() -> RecommendationsMetrics:
    registry = process_registry()
    return RecommendationsMetrics(
        pages=Counter(
            "movieverse_recommendations_pages",
            "Personal recommendation pages served or refreshed, by cache result",
            ["result"],
            registry=registry,
        ),
        refreshes=Counter(
            "movieverse_recommendations_refreshes",
            "Background refreshes of a user's first page, by outcome",
            ["outcome"],
            registry=registry,
        ),
    )
