"""A movie's public score: its source's votes (TMDB's, from an import or an admin) pooled with
MovieVerse's own ratings.

``vote_average``/``vote_count`` are what lists show and filter on. They pool two kinds of votes
so neither erases the other: the source's -- TMDB's thousands, as imported -- and the ratings
users give here, whose totals reach movies through ``reviews.movie_ratings.changed``. Both are on
the same 0-10 scale.
"""

from __future__ import annotations


def pooled(
    source_average: float, source_count: int, ratings_average: float, ratings_count: int
) -> tuple[float, int]:
    """The average and count of both kinds of votes together."""
    count = source_count + ratings_count
    if count == 0:
        return 0.0, 0
    total = source_average * source_count + ratings_average * ratings_count
    return round(total / count, 3), count
