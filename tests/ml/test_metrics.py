"""Ranking metrics on cases worked out by hand (as Microsoft Recommenders defines them)."""

from __future__ import annotations

import math

import pytest

from movieverse.ml.metrics import ranking_scores, user_metrics

LOG2_3 = math.log2(3)
LOG2_6 = math.log2(6)


def test_two_hits_in_five() -> None:
    # Hits at ranks 2 and 5; three relevant items, one never recommended.
    got = user_metrics([1, 2, 3, 4, 5], {2, 5, 9}, k=5)
    assert got["precision"] == pytest.approx(2 / 5)
    assert got["recall"] == pytest.approx(2 / 3)
    # Precision at each hit: 1/2 and 2/5, summed, over all three relevant items.
    assert got["ap"] == pytest.approx((1 / 2 + 2 / 5) / 3)
    assert got["ap_at_k"] == pytest.approx((1 / 2 + 2 / 5) / 3)
    ideal = 1 + 1 / LOG2_3 + 1 / 2  # three hits at ranks 1-3
    assert got["ndcg"] == pytest.approx((1 / LOG2_3 + 1 / LOG2_6) / ideal)
    assert got["hit"] == 1.0


def test_cut_off_below_the_number_of_relevant_items() -> None:
    got = user_metrics([1, 2, 7], {2, 5, 9}, k=2)
    assert got["precision"] == pytest.approx(1 / 2)
    assert got["recall"] == pytest.approx(1 / 3)
    assert got["ap"] == pytest.approx((1 / 2) / 3)
    # MAP@k divides by min(relevant, k) = 2 instead of 3.
    assert got["ap_at_k"] == pytest.approx((1 / 2) / 2)
    # The ideal ranking has only k = 2 places.
    assert got["ndcg"] == pytest.approx((1 / LOG2_3) / (1 + 1 / LOG2_3))


def test_short_lists_still_divide_by_k() -> None:
    got = user_metrics([5], {5}, k=10)
    assert got["precision"] == pytest.approx(0.1)
    assert got["recall"] == 1.0
    assert got["ndcg"] == 1.0
    assert got["ap"] == 1.0


def test_averages_count_users_without_a_list_as_zero() -> None:
    scores = ranking_scores({1: [10, 11]}, {1: {10}, 2: {20}}, k=2)
    assert scores.users == 2
    assert scores.precision == pytest.approx((1 / 2 + 0) / 2)
    assert scores.recall == pytest.approx((1 + 0) / 2)
    assert scores.ndcg == pytest.approx((1 + 0) / 2)
    assert scores.hit_rate == pytest.approx(1 / 2)


def test_a_user_without_relevant_items_is_refused() -> None:
    with pytest.raises(ValueError, match="relevant"):
        user_metrics([1], set(), k=10)
    with pytest.raises(ValueError, match="relevant"):
        ranking_scores({}, {}, k=10)
