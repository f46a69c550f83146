"""Most-interacted items first: the baseline every model must beat, and the fallback."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt
from scipy import sparse

from movieverse.ml.interactions import IntArray, Matrix
from movieverse.ml.models.base import Scores, as_float32


class Popularity:
    kind: ClassVar[str] = "popularity"

    def __init__(self) -> None:
        self.counts: Scores = np.zeros(0, dtype=np.float32)

    def fit(self, matrix: Matrix) -> None:
        self.counts = as_float32(np.asarray(matrix.values.sum(axis=0)).ravel())

    def score(self, rows: sparse.csr_matrix, *, users: IntArray | None = None) -> Scores:
        return np.broadcast_to(self.counts, (rows.shape[0], len(self.counts))).copy()

    def params(self) -> dict[str, Any]:
        return {}

    def state(self) -> dict[str, npt.NDArray[Any]]:
        return {"counts": self.counts}

    def load_state(self, arrays: dict[str, npt.NDArray[Any]]) -> None:
        self.counts = as_float32(arrays["counts"])
