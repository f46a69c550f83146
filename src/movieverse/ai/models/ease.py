"""EASE (Steck, "Embarrassingly Shallow Autoencoders for Sparse Data", WWW 2019): a closed-form
item x item regression with a zero diagonal, B = I - P·diag(1/diag(P)) with P = (XᵀX + λI)⁻¹.

It needs a dense item x item matrix and its inverse: memory grows with items², so above
``max_items`` it refuses (:class:`ModelTooLarge`) rather than exhaust the machine.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt
from scipy import sparse

from movieverse.ai.interactions import IntArray, Matrix
from movieverse.ai.models.base import ModelTooLarge, Scores, as_float32


def ease_weights(gram: npt.NDArray[np.float64], l2: float) -> Scores:
    """EASE's B from an item x item Gram matrix (which it overwrites): P = (G + λI)⁻¹, then
    B = I - P·diag(1/diag(P)) with its diagonal zeroed, row-major float32 (scoring reads the
    rows of the items a user rated).

    NumPy's inverse, not SciPy's: ``scipy.linalg.inv`` holds the GIL for the whole inversion
    (0.8 s at 3,000 items, seconds more at 10,000), and training runs in a thread of the
    process that serves, whose every request then waited; NumPy's releases it."""
    items = gram.shape[0]
    gram[np.diag_indices(items)] += l2
    precision = np.linalg.inv(gram)
    del gram  # callers pass a temporary: freed here, the peak holds one n x n matrix fewer
    weights = precision / (-np.diag(precision))
    weights[np.diag_indices(items)] = 0.0
    return np.ascontiguousarray(weights, dtype=np.float32)


class Ease:
    kind: ClassVar[str] = "ease"

    def __init__(self, *, l2: float = 500.0, max_items: int = 20_000) -> None:
        if l2 <= 0:
            raise ValueError("l2 must be positive")
        self.l2 = l2
        self.max_items = max_items
        self.weights: Scores = np.zeros((0, 0), dtype=np.float32)

    def fit(self, matrix: Matrix) -> None:
        items = matrix.shape[1]
        if items > self.max_items:
            raise ModelTooLarge(
                f"EASE needs a dense {items} x {items} matrix ({items * items * 8 / 2**30:.1f} GiB"
                f" in float64); its limit is {self.max_items} items: use item-kNN or ALS"
            )
        values = matrix.values
        self.weights = ease_weights((values.T @ values).toarray().astype(np.float64), self.l2)

    def score(self, rows: sparse.csr_matrix, *, users: IntArray | None = None) -> Scores:
        return as_float32(rows @ self.weights)

    def params(self) -> dict[str, Any]:
        return {"l2": self.l2}

    def state(self) -> dict[str, npt.NDArray[Any]]:
        return {"weights": self.weights}

    def load_state(self, arrays: dict[str, npt.NDArray[Any]]) -> None:
        self.weights = np.ascontiguousarray(arrays["weights"], dtype=np.float32)
