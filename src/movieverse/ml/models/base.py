"""What every recommender offers, and top-k selection over its scores."""

from __future__ import annotations

from typing import Any, ClassVar, Protocol

import numpy as np
import numpy.typing as npt
from scipy import sparse

from movieverse.ml.interactions import IntArray, Matrix

Scores = npt.NDArray[np.float32]


class ModelTooLarge(ValueError):
    """The model's memory grows faster than this dataset allows (e.g. a dense item x item
    matrix at 50k items); the caller should pick a model that scales."""


class Recommender(Protocol):
    kind: ClassVar[str]

    def fit(self, matrix: Matrix) -> None: ...

    def score(self, rows: sparse.csr_matrix, *, users: IntArray | None = None) -> Scores:
        """Scores of every item for each row. ``users`` gives each row's training index (or -1
        for a user unknown at training), for models with per-user state."""
        ...

    def params(self) -> dict[str, Any]: ...

    def state(self) -> dict[str, npt.NDArray[Any]]:
        """The learned arrays, for an artifact."""
        ...

    def load_state(self, arrays: dict[str, npt.NDArray[Any]]) -> None: ...


def top_k(scores: Scores, seen: sparse.csr_matrix, *, k: int) -> IntArray:
    """Column indexes of the k best unseen items per row, best first. Items seen in training
    are removed before ranking, as the published protocols do."""
    scores = np.array(scores, dtype=np.float32, copy=True)
    rows, cols = seen.nonzero()
    scores[rows, cols] = -np.inf
    k = min(k, scores.shape[1])
    if k == 0:
        return np.zeros((scores.shape[0], 0), dtype=np.int64)
    part = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    part_scores = np.take_along_axis(scores, part, axis=1)
    # Ties break on the lower column, so a run is repeatable.
    order = np.lexsort((part, -part_scores), axis=1)
    best = np.take_along_axis(part, order, axis=1)
    # Rows with fewer than k unseen items keep only real candidates.
    return best.astype(np.int64)


def as_float32(values: npt.ArrayLike) -> Scores:
    return np.asarray(values, dtype=np.float32)
