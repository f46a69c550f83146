"""Content similarity: movies are alike when their genres, keywords, people and overview are
(TF-IDF, cosine). It knows every catalogued movie, rated or not, so it recommends the new and the
obscure that collaborative models cannot, and it explains itself ("like Heat: crime, heist").

Each item keeps its ``neighbours`` most similar items; a user's scores are the similarities
summed over the movies they rated.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt
from scipy import sparse

from movieverse.ml.interactions import IntArray, Matrix
from movieverse.ml.models.base import Scores, as_float32
from movieverse.ml.models.neighbours import (
    empty_similarity,
    prune_rows,
    sparse_from_state,
    sparse_state,
)

BLOCK_ITEMS = 2048


class ContentKnn:
    kind: ClassVar[str] = "content"

    def __init__(self, *, documents: Mapping[int, str], neighbours: int = 100) -> None:
        self.documents = documents
        self.neighbours = neighbours
        self.weights = empty_similarity(0)

    def fit(self, matrix: Matrix) -> None:
        from sklearn.feature_extraction.text import TfidfVectorizer

        texts = [self.documents.get(int(item), "") for item in matrix.item_ids]
        # Sublinear tf: a keyword repeated in an overview is not ten times the evidence.
        vectoriser = TfidfVectorizer(sublinear_tf=True, min_df=2, max_df=0.5, dtype=np.float32)
        try:
            vectors = vectoriser.fit_transform(texts).tocsr()
        except ValueError:  # no term occurs twice: nothing to compare movies by
            items = matrix.shape[1]
            self.weights = empty_similarity(items)
            return
        blocks = []
        for start in range(0, vectors.shape[0], BLOCK_ITEMS):
            similarity = (vectors[start : start + BLOCK_ITEMS] @ vectors.T).toarray()
            blocks.append(
                prune_rows(as_float32(similarity), keep=self.neighbours, diagonal_offset=start)
            )
        self.weights = sparse.vstack(blocks).tocsr()

    def score(self, rows: sparse.csr_matrix, *, users: IntArray | None = None) -> Scores:
        return as_float32((rows @ self.weights).toarray())

    def params(self) -> dict[str, Any]:
        return {"neighbours": self.neighbours}

    def state(self) -> dict[str, npt.NDArray[Any]]:
        return sparse_state(self.weights)

    def load_state(self, arrays: dict[str, npt.NDArray[Any]]) -> None:
        self.weights = sparse_from_state(arrays)
