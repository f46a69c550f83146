"""EASE over session co-occurrence: two movies count as co-watched in proportion to how close
in time one user rated them, exp(-|t_i - t_j| / tau) + floor, instead of 1 for any two movies
in a whole history. Movies rated in one sitting say more about each other than movies rated
years apart; the floor keeps some of what plain EASE learns from the rest of a history (floor
0 is pure sitting, a large floor plain EASE again). On MovieLens 100k this beats plain EASE on
validation data (see ``movieverse ai evaluate``). Scoring is EASE's: the user's history times
the learned item x item weights.

Two optional weights on a user's pairs (both off at 0):
- ``rating_power`` β: a pair counts (rᵢ·rⱼ / r̄²)^(β/2), r̄ the mean rating, so two movies a
  user loved say more about each other than two they sat through. The scale cancels out
  (MovieVerse's 0.5-10 and MovieLens' 1-5 alike). Only learning is weighted: scoring still
  reads which movies a user rated, since the protocols rank movies a user will rate at all.
- ``activity_power`` g: a user's pairs count n^-g, n the movies they rated, so the few users
  who rated hundreds of movies do not set most of the item x item weights.
On MovieLens 100k validation chose the rating weight on each of six splits (``movieverse ai
evaluate --seed``), and the test nDCG@10 rose on all six (by 0.001 to 0.004). On
ml-latest-small validation left both off: they are choices for the grid, not constants.

It takes EASE's ridge and dropout penalties. Like EASE it needs a dense item x item matrix, so
it refuses above ``max_items``.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt
from scipy import sparse

from movieverse.ml.interactions import IntArray, Matrix
from movieverse.ml.models.base import ModelTooLarge, Scores, as_float32
from movieverse.ml.models.ease import check_penalty, ease_weights


def session_gram(
    matrix: Matrix,
    *,
    tau_seconds: float,
    floor: float = 0.0,
    rating_power: float = 0.0,
    activity_power: float = 0.0,
) -> npt.NDArray[np.float64]:
    """Sum over users of (exp(-|t_i - t_j| / tau) + floor)·(r_i·r_j / r̄²)^(β/2)·n^-g for every
    pair of items they rated (an item with itself: (1 + floor)·(r_i / r̄)^β·n^-g), dense
    items x items."""
    if matrix.times is None:
        raise ValueError("session-aware EASE needs interaction times")
    items = matrix.shape[1]
    gram = np.zeros((items, items), dtype=np.float64)
    times = matrix.times
    strengths = _rating_strengths(matrix, rating_power)
    for row in range(times.shape[0]):
        start, stop = times.indptr[row], times.indptr[row + 1]
        if start == stop:
            continue
        columns = times.indices[start:stop]
        stamps = times.data[start:stop]
        weights = np.exp(-np.abs(stamps[:, None] - stamps[None, :]) / tau_seconds) + floor
        if strengths is not None:
            root = np.sqrt(strengths[start:stop])
            weights *= root[:, None] * root[None, :]
        if activity_power:
            weights *= float(stop - start) ** -activity_power
        # A user's items are distinct, so this fancy-indexed add touches each cell once.
        gram[np.ix_(columns, columns)] += weights
    return gram


def _rating_strengths(matrix: Matrix, power: float) -> npt.NDArray[np.float64] | None:
    """(r / r̄)^β per stored interaction, aligned with ``matrix.times``; None when unweighted."""
    if not power:
        return None
    ratings, times = matrix.ratings, matrix.times
    if ratings is None or times is None:
        raise ValueError("rating-weighted session EASE needs the interactions' ratings")
    # Both are built from the same (row, column) pairs; a differing layout would misalign them.
    if not (
        np.array_equal(ratings.indptr, times.indptr)
        and np.array_equal(ratings.indices, times.indices)
    ):
        raise ValueError("ratings and times must share one sparsity pattern")
    # A non-positive rating (none on MovieVerse's or MovieLens' scales) would zero its row.
    stars = np.maximum(np.asarray(ratings.data, dtype=np.float64), 1e-3)
    return np.asarray((stars / stars.mean()) ** power, dtype=np.float64)


class SessionEase:
    kind: ClassVar[str] = "session_ease"

    def __init__(
        self,
        *,
        l2: float = 500.0,
        tau_seconds: float = 600.0,
        floor: float = 0.0,
        dropout: float = 0.0,
        rating_power: float = 0.0,
        activity_power: float = 0.0,
        max_items: int = 20_000,
    ) -> None:
        check_penalty(l2, dropout)
        if tau_seconds <= 0 or floor < 0:
            raise ValueError("tau_seconds must be positive and floor not negative")
        if rating_power < 0 or activity_power < 0:
            raise ValueError("rating_power and activity_power must not be negative")
        self.l2 = l2
        self.floor = floor
        self.dropout = dropout
        self.rating_power = rating_power
        self.activity_power = activity_power
        self.tau_seconds = tau_seconds
        self.max_items = max_items
        self.weights: Scores = np.zeros((0, 0), dtype=np.float32)

    def fit(self, matrix: Matrix) -> None:
        items = matrix.shape[1]
        if items > self.max_items:
            raise ModelTooLarge(
                f"session EASE needs a dense {items} x {items} matrix; its limit is "
                f"{self.max_items} items: use item-kNN or ALS"
            )
        gram = session_gram(
            matrix,
            tau_seconds=self.tau_seconds,
            floor=self.floor,
            rating_power=self.rating_power,
            activity_power=self.activity_power,
        )
        self.weights = ease_weights(gram, self.l2, self.dropout)

    def score(self, rows: sparse.csr_matrix, *, users: IntArray | None = None) -> Scores:
        return as_float32(rows @ self.weights)

    def params(self) -> dict[str, Any]:
        return {
            "l2": self.l2,
            "tau_seconds": self.tau_seconds,
            "floor": self.floor,
            "dropout": self.dropout,
            "rating_power": self.rating_power,
            "activity_power": self.activity_power,
        }

    def state(self) -> dict[str, npt.NDArray[Any]]:
        return {"weights": self.weights}

    def load_state(self, arrays: dict[str, npt.NDArray[Any]]) -> None:
        self.weights = np.ascontiguousarray(arrays["weights"], dtype=np.float32)
