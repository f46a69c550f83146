"""Keeping each row's strongest entries of a similarity block: the sparse form every
neighbourhood model stores."""

from __future__ import annotations

import numpy as np
from scipy import sparse

from movieverse.ml.models.base import Scores


def prune_rows(similarity: Scores, *, keep: int, diagonal_offset: int) -> sparse.csr_matrix:
    """The ``keep`` largest positive entries of each row; the entry at column
    ``row + diagonal_offset`` (the item itself) is dropped first."""
    rows = np.arange(similarity.shape[0])
    similarity[rows, rows + diagonal_offset] = 0.0
    keep = min(keep, similarity.shape[1])
    best = np.argpartition(-similarity, keep - 1, axis=1)[:, :keep]
    values = np.take_along_axis(similarity, best, axis=1)
    values[values < 0] = 0.0
    pruned = sparse.csr_matrix(
        (values.ravel(), (np.repeat(rows, keep), best.ravel())), shape=similarity.shape
    )
    pruned.eliminate_zeros()
    return pruned


def empty_similarity(items: int) -> sparse.csr_matrix:
    """An items x items matrix with no entries: a model that found nothing to compare by."""
    return sparse.csr_matrix(
        (np.zeros(0, np.float32), np.zeros(0, np.int32), np.zeros(items + 1, np.int32)),
        shape=(items, items),
    )


def sparse_state(weights: sparse.csr_matrix) -> dict[str, np.ndarray]:
    return {
        "data": weights.data,
        "indices": weights.indices,
        "indptr": weights.indptr,
        "shape": np.asarray(weights.shape, dtype=np.int64),
    }


def sparse_from_state(arrays: dict[str, np.ndarray]) -> sparse.csr_matrix:
    shape = (int(arrays["shape"][0]), int(arrays["shape"][1]))
    return sparse.csr_matrix(
        (arrays["data"].astype(np.float32), arrays["indices"], arrays["indptr"]), shape=shape
    )
