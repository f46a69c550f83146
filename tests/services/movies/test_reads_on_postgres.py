"""The catalog's read projections (projections.py) on PostgreSQL too: movies' home is MariaDB,
so its suite runs on SQLite and MariaDB, but the issue asks every catalog read to hold on all
three engines -- and PostgreSQL differs where the projections lean on the dialect (string_agg of
the genre ids, NULLS LAST in sorts). The tests are the suite's own, collected here again with
this module's database."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.services.movies.test_movies_api import (
    test_details_with_etag_and_cache_control,
    test_every_discover_filter_and_sort,
    test_list_pages_are_cached_and_show_a_change_to_a_movie_at_once,
    test_list_totals_follow_new_and_deleted_movies_at_once_on_every_sort,
    test_popular_and_top_rated,
    test_trending_ranks_recent_list_activity_first,
    test_update_with_if_match,
)
from tests.support import fresh_database

__all__ = [
    "test_details_with_etag_and_cache_control",
    "test_every_discover_filter_and_sort",
    "test_list_pages_are_cached_and_show_a_change_to_a_movie_at_once",
    "test_list_totals_follow_new_and_deleted_movies_at_once_on_every_sort",
    "test_popular_and_top_rated",
    "test_trending_ranks_recent_list_activity_first",
    "test_update_with_if_match",
]


@pytest.fixture
async def movies_database() -> AsyncIterator[str]:
    """Movies on a fresh PostgreSQL database (skips when MOVIEVERSE_TEST_POSTGRES_URL is unset)."""
    async with fresh_database("postgres", prefix="mv_movies", migrated_for=("movies",)) as url:
        yield url
