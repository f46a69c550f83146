"""EASE (Steck, "Embarrassingly Shallow Autoencoders for Sparse Data", WWW 2019): a closed-form
item x item regression with a zero diagonal, B = I - P·diag(1/diag(P)) with P = (XᵀX + Λ)⁻¹.

Λ = λI is EASE's ridge penalty. With ``dropout`` p > 0, Λ also gains p/(1-p)·diag(XᵀX): the
penalty that training on inputs with each interaction dropped with probability p amounts to
(Steck, "Autoencoders that don't overfit towards the Identity", NeurIPS 2020, EDLAE). It
regularises a popular item's weights more than a rare one's, and, being proportional to the
counts, keeps its strength when a model chosen on a validation subset is refitted on all the
training data.

It needs a dense item x item matrix and its inverse: memory grows with items², so above
``max_items`` it refuses (:class:`ModelTooLarge`) rather than exhaust the machine.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt
from scipy import sparse

from movieverse.ml.interactions import IntArray, Matrix
from movieverse.ml.models.base import ModelTooLarge, Scores, as_float32


def dropout_penalty(
    gram: npt.NDArray[np.float64], l2: float, dropout: float
) -> npt.NDArray[np.float64]:
    """Λ's diagonal: λ + p/(1-p)·diag(G)."""
    return np.asarray(l2 + dropout / (1.0 - dropout) * np.diag(gram), dtype=np.float64)


def ease_weights(gram: npt.NDArray[np.float64], l2: float, dropout: float = 0.0) -> Scores:
    """EASE's B from an item x item Gram matrix (which it overwrites): P = (G + Λ)⁻¹, then
    B = I - P·diag(1/diag(P)) with its diagonal zeroed, row-major float32 (scoring reads the
    rows of the items a user rated).

    NumPy's inverse, not SciPy's: ``scipy.linalg.inv`` holds the GIL for the whole inversion
    (0.8 s at 3,000 items, seconds more at 10,000), and training runs in a thread of the
    process that serves, whose every request then waited; NumPy's releases it."""
    items = gram.shape[0]
    gram[np.diag_indices(items)] += dropout_penalty(gram, l2, dropout)
    precision = np.linalg.inv(gram)
    del gram  # callers pass a temporary: freed here, the peak holds one n x n matrix fewer
    weights = precision / (-np.diag(precision))
    weights[np.diag_indices(items)] = 0.0
    return np.ascontiguousarray(weights, dtype=np.float32)


def check_penalty(l2: float, dropout: float) -> None:
    if l2 <= 0:
        raise ValueError("l2 must be positive")
    if not 0.0 <= dropout < 1.0:
        raise ValueError("dropout is a probability below 1")


class Ease:
    kind: ClassVar[str] = "ease"

    def __init__(self, *, l2: float = 500.0, dropout: float = 0.0, max_items: int = 20_000) -> None:
        check_penalty(l2, dropout)
        self.l2 = l2
        self.dropout = dropout
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
        self.weights = ease_weights(
            (values.T @ values).toarray().astype(np.float64), self.l2, self.dropout
        )

    def score(self, rows: sparse.csr_matrix, *, users: IntArray | None = None) -> Scores:
        return as_float32(rows @ self.weights)

    def params(self) -> dict[str, Any]:
        return {"l2": self.l2, "dropout": self.dropout}

    def state(self) -> dict[str, npt.NDArray[Any]]:
        return {"weights": self.weights}

    def load_state(self, arrays: dict[str, npt.NDArray[Any]]) -> None:
        self.weights = np.ascontiguousarray(arrays["weights"], dtype=np.float32)
