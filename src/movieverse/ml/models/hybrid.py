"""A blend of recommenders: each part's scores are standardised per user (their scales differ by
orders of magnitude) and summed with weights chosen on validation data."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt
from scipy import sparse

from movieverse.ml.interactions import IntArray, Matrix
from movieverse.ml.models.base import Recommender, Scores, as_float32


def standardise(scores: Scores) -> Scores:
    centred = scores - scores.mean(axis=1, keepdims=True)
    spread = centred.std(axis=1, keepdims=True)
    return as_float32(centred / np.maximum(spread, 1e-9))


class Hybrid:
    kind: ClassVar[str] = "hybrid"

    def __init__(self, *, parts: Sequence[Recommender], weights: Sequence[float]) -> None:
        if len(parts) != len(weights) or not parts:
            raise ValueError("a hybrid needs one weight per part, and at least one part")
        self.parts = list(parts)
        self.weights = [float(w) for w in weights]

    def fit(self, matrix: Matrix) -> None:
        for part in self.parts:
            part.fit(matrix)

    def part_scores(self, rows: sparse.csr_matrix) -> list[Scores]:
        return [standardise(part.score(rows)) for part in self.parts]

    @staticmethod
    def blend(standardised: Sequence[Scores], weights: Sequence[float]) -> Scores:
        total = np.zeros_like(standardised[0])
        for scores, weight in zip(standardised, weights, strict=True):
            if weight:
                total += weight * scores
        return total

    def score(self, rows: sparse.csr_matrix, *, users: IntArray | None = None) -> Scores:
        return self.blend(self.part_scores(rows), self.weights)

    def params(self) -> dict[str, Any]:
        return {
            "parts": [{"kind": part.kind, "params": part.params()} for part in self.parts],
            "weights": self.weights,
        }

    def state(self) -> dict[str, npt.NDArray[Any]]:
        return {
            f"{index}.{name}": array
            for index, part in enumerate(self.parts)
            for name, array in part.state().items()
        }

    def load_state(self, arrays: dict[str, npt.NDArray[Any]]) -> None:
        for index, part in enumerate(self.parts):
            prefix = f"{index}."
            part.load_state(
                {
                    key[len(prefix) :]: value
                    for key, value in arrays.items()
                    if key.startswith(prefix)
                }
            )
