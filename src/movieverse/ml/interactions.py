"""Rating logs as arrays, and their user x item matrix.

A log keeps the raw ids of users and items, so that splits and metrics speak about the same
entities the catalog does; a :class:`Matrix` encodes them into dense row and column indexes
for the models.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import sparse

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float32]


@dataclass(frozen=True, slots=True)
class RatingLog:
    """One rating per row, in the order the source gave them (splits depend on that order)."""

    users: IntArray
    items: IntArray
    ratings: FloatArray
    timestamps: IntArray

    def __post_init__(self) -> None:
        sizes = {len(self.users), len(self.items), len(self.ratings), len(self.timestamps)}
        if len(sizes) != 1:
            raise ValueError("a rating log needs columns of one length")

    def __len__(self) -> int:
        return len(self.users)

    @classmethod
    def from_rows(cls, rows: Iterable[tuple[int, int, float, int]]) -> RatingLog:
        users: list[int] = []
        items: list[int] = []
        ratings: list[float] = []
        stamps: list[int] = []
        for user, item, rating, stamp in rows:
            users.append(user)
            items.append(item)
            ratings.append(rating)
            stamps.append(stamp)
        return cls(
            users=np.asarray(users, dtype=np.int64),
            items=np.asarray(items, dtype=np.int64),
            ratings=np.asarray(ratings, dtype=np.float32),
            timestamps=np.asarray(stamps, dtype=np.int64),
        )

    def take(self, rows: IntArray | npt.NDArray[np.bool_]) -> RatingLog:
        return RatingLog(
            users=self.users[rows],
            items=self.items[rows],
            ratings=self.ratings[rows],
            timestamps=self.timestamps[rows],
        )

    def concat(self, other: RatingLog) -> RatingLog:
        return RatingLog(
            users=np.concatenate([self.users, other.users]),
            items=np.concatenate([self.items, other.items]),
            ratings=np.concatenate([self.ratings, other.ratings]),
            timestamps=np.concatenate([self.timestamps, other.timestamps]),
        )


@dataclass(frozen=True, slots=True)
class Matrix:
    """A training log encoded for the models: ``values`` is users x items, CSR, float32, one
    per (user, item) that interacted."""

    user_ids: IntArray
    item_ids: IntArray
    values: sparse.csr_matrix
    # When each interaction happened (Unix seconds), in the same sparsity as ``values``; None
    # for a matrix built without times. Session-aware models read it.
    times: sparse.csr_matrix | None = None
    # The stars each interaction gave, in the same sparsity as ``values`` (None when built
    # without them). ``values`` ignores them on purpose; a model may weigh what it learns by them.
    ratings: sparse.csr_matrix | None = None

    @property
    def shape(self) -> tuple[int, int]:
        return (len(self.user_ids), len(self.item_ids))

    @classmethod
    def from_log(cls, log: RatingLog, *, item_ids: IntArray | None = None) -> Matrix:
        """Every rating counts as one interaction: the protocols we reproduce rank items a user
        will rate at all, whatever the stars (a low rating is still a watched movie).

        ``item_ids`` fixes the item axis (e.g. the whole catalog), else it is the log's items."""
        user_ids, user_rows = np.unique(log.users, return_inverse=True)
        if item_ids is None:
            item_ids, item_cols = np.unique(log.items, return_inverse=True)
        else:
            item_cols = np.searchsorted(item_ids, log.items)
            if np.any(item_cols >= len(item_ids)) or np.any(item_ids[item_cols] != log.items):
                raise ValueError("the log has items outside the given item axis")
        # One interaction per (user, item): the latest row of a repeated pair counts.
        codes = user_rows.astype(np.int64) * len(item_ids) + item_cols
        _, first_from_end = np.unique(codes[::-1], return_index=True)
        rows = len(codes) - 1 - first_from_end
        shape = (len(user_ids), len(item_ids))
        values = sparse.csr_matrix(
            (np.ones(len(rows), dtype=np.float32), (user_rows[rows], item_cols[rows])), shape=shape
        )
        times = sparse.csr_matrix(
            (log.timestamps[rows].astype(np.float64), (user_rows[rows], item_cols[rows])),
            shape=shape,
        )
        # float32, as the log holds them: at 20M ratings this copy costs 160 MB, not 240.
        ratings = sparse.csr_matrix(
            (log.ratings[rows].astype(np.float32), (user_rows[rows], item_cols[rows])),
            shape=shape,
        )
        return cls(
            user_ids=user_ids.astype(np.int64),
            item_ids=item_ids.astype(np.int64),
            values=values,
            times=times,
            ratings=ratings,
        )

    def user_index(self, user_id: int) -> int | None:
        position = int(np.searchsorted(self.user_ids, user_id))
        if position < len(self.user_ids) and self.user_ids[position] == user_id:
            return position
        return None

    def item_columns(self, item_ids: Iterable[int]) -> IntArray:
        """Columns of the known items among ``item_ids`` (unknown ones are left out)."""
        wanted = np.fromiter(item_ids, dtype=np.int64)
        positions = np.searchsorted(self.item_ids, wanted)
        positions = np.clip(positions, 0, max(len(self.item_ids) - 1, 0))
        known = (len(self.item_ids) > 0) & (self.item_ids[positions] == wanted)
        return np.asarray(positions[known], dtype=np.int64)

    def history_rows(self, histories: Iterable[Iterable[int]]) -> sparse.csr_matrix:
        """Rows in this matrix's item space for users given by the items they rated (fold-in)."""
        indptr = [0]
        indices: list[int] = []
        for history in histories:
            columns = np.unique(self.item_columns(history))
            indices.extend(columns.tolist())
            indptr.append(len(indices))
        data = np.ones(len(indices), dtype=np.float32)
        return sparse.csr_matrix(
            (data, np.asarray(indices, dtype=np.int64), np.asarray(indptr, dtype=np.int64)),
            shape=(len(indptr) - 1, len(self.item_ids)),
        )
