"""Implicit-feedback matrix factorisation (Hu, Koren and Volinsky 2008) trained with the
``implicit`` library's conjugate-gradient ALS.

Users are always scored by folding their history in against the item factors (one exact ALS user
step, implicit's ``recalculate_user``): a user who just rated a movie, or one the model never
saw, gets exact factors without retraining, and the artifact needs no user axis.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt
from scipy import sparse

from movieverse.ml.interactions import IntArray, Matrix
from movieverse.ml.models.base import Scores, as_float32


class ImplicitAls:
    kind: ClassVar[str] = "als"

    def __init__(
        self,
        *,
        factors: int = 64,
        regularization: float = 0.05,
        alpha: float = 10.0,
        iterations: int = 15,
        seed: int = 42,
    ) -> None:
        self.factors = factors
        self.regularization = regularization
        self.alpha = alpha
        self.iterations = iterations
        self.seed = seed
        self.item_factors: Scores = np.zeros((0, factors), dtype=np.float32)
        self._fitted: Any = None

    def _model(self, *, threads: int = 0) -> Any:
        from implicit.cpu.als import AlternatingLeastSquares
        from threadpoolctl import threadpool_limits

        # implicit parallelises itself; a multithreaded BLAS underneath would oversubscribe
        # (it checks, and warns, when a model is made).
        with threadpool_limits(1, "blas"):
            return AlternatingLeastSquares(
                factors=self.factors,
                regularization=self.regularization,
                alpha=self.alpha,
                iterations=self.iterations,
                random_state=self.seed,
                num_threads=threads,
            )

    def fit(self, matrix: Matrix) -> None:
        from threadpoolctl import threadpool_limits

        model = self._model()
        with threadpool_limits(1, "blas"):
            model.fit(matrix.values, show_progress=False)
        self._fitted = model
        self.item_factors = as_float32(model.item_factors)

    def user_factors(self, rows: sparse.csr_matrix) -> Scores:
        """One exact ALS user step per row against the item factors (implicit's own solver)."""
        if self._fitted is None:
            # A loaded model answers requests a user at a time: one thread, no pool to wake.
            self._fitted = self._model(threads=1)
            self._fitted.item_factors = self.item_factors
        if rows.shape[0] == 0:
            return np.zeros((0, self.factors), dtype=np.float32)
        factors = self._fitted.recalculate_user(np.arange(rows.shape[0]), rows.tocsr())
        return as_float32(factors)

    def score(self, rows: sparse.csr_matrix, *, users: IntArray | None = None) -> Scores:
        return as_float32(self.user_factors(rows) @ self.item_factors.T)

    def params(self) -> dict[str, Any]:
        return {
            "factors": self.factors,
            "regularization": self.regularization,
            "alpha": self.alpha,
            "iterations": self.iterations,
        }

    def state(self) -> dict[str, npt.NDArray[Any]]:
        return {"item_factors": self.item_factors}

    def load_state(self, arrays: dict[str, npt.NDArray[Any]]) -> None:
        self.item_factors = as_float32(arrays["item_factors"])
        self.factors = self.item_factors.shape[1]
        self._fitted = None
