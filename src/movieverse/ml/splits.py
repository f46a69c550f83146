"""Train/test splits of the published protocols.

``stratified_split`` reproduces Microsoft Recommenders' ``python_stratified_split``: the rows of
each group (item or user), in log order, are shuffled exactly as ``DataFrame.sample(frac=1,
random_state=seed)`` shuffles them (a fresh ``RandomState(seed)`` permutation per group) and the
first ``round(ratio * n)`` go to training. Their groups come from a pandas ``groupby``, so in
ascending key order; the order only matters for the row order of the result, not its content.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from movieverse.ml.interactions import IntArray, RatingLog


def stratified_split(
    log: RatingLog,
    *,
    ratio: float = 0.75,
    by: Literal["item", "user"] = "item",
    seed: int = 42,
) -> tuple[RatingLog, RatingLog]:
    if not 0.0 < ratio < 1.0:
        raise ValueError("ratio must lie strictly between 0 and 1")
    keys = log.items if by == "item" else log.users
    # A stable sort keeps each group's rows in log order, as pandas' groupby does.
    order = np.argsort(keys, kind="stable")
    boundaries = np.flatnonzero(np.diff(keys[order])) + 1
    train_rows: list[IntArray] = []
    for group in np.split(order, boundaries):
        shuffled = group[np.random.RandomState(seed).permutation(len(group))]
        # Python's round (half to even), as pandas' split by ratios uses.
        cut = round(ratio * len(group))
        train_rows.append(shuffled[:cut])
    in_train = np.zeros(len(log), dtype=np.bool_)
    if train_rows:
        in_train[np.concatenate(train_rows)] = True
    return log.take(in_train), log.take(~in_train)


def leave_last_out(log: RatingLog) -> tuple[RatingLog, RatingLog]:
    """Each user's latest rating (by timestamp, the later row on ties) is the test case; users
    with a single rating stay wholly in training, as there is nothing to learn them from."""
    order = np.lexsort((np.arange(len(log)), log.timestamps, log.users))
    users = log.users[order]
    last_of_user = np.ones(len(order), dtype=np.bool_)
    last_of_user[:-1] = users[:-1] != users[1:]
    first_of_user = np.ones(len(order), dtype=np.bool_)
    first_of_user[1:] = users[1:] != users[:-1]
    held = last_of_user & ~first_of_user
    in_test = np.zeros(len(log), dtype=np.bool_)
    in_test[order[held]] = True
    return log.take(~in_test), log.take(in_test)


def random_holdout(log: RatingLog, *, fraction: float, seed: int) -> tuple[RatingLog, RatingLog]:
    """A validation split carved from training data: the same stratification as the protocol
    (per item), with another seed so it never mirrors the test split."""
    return stratified_split(log, ratio=1.0 - fraction, by="item", seed=seed)
