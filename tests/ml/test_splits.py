"""The protocols' splits: Microsoft Recommenders' stratified split, and leave-last-out."""

from __future__ import annotations

import numpy as np

from movieverse.ml.interactions import RatingLog
from movieverse.ml.splits import leave_last_out, stratified_split


def _log(pairs: list[tuple[int, int, int]]) -> RatingLog:
    return RatingLog.from_rows((user, item, 4.0, stamp) for user, item, stamp in pairs)


def test_each_item_keeps_round_three_quarters_in_training() -> None:
    # Items with 1, 2, 3, 4, 6 and 10 ratings, interleaved in log order.
    counts = {1: 1, 2: 2, 3: 3, 4: 4, 5: 6, 6: 10}
    pairs = []
    user = 0
    for item, count in counts.items():
        for _ in range(count):
            user += 1
            pairs.append((user, item, user))
    rng = np.random.default_rng(0)
    log = _log([pairs[i] for i in rng.permutation(len(pairs))])
    train, test = stratified_split(log, ratio=0.75, by="item", seed=42)
    assert len(train) + len(test) == len(log)
    in_train = {item: int((train.items == item).sum()) for item in counts}
    # Python's round halves to even, as pandas' ratio split does: 1.5 -> 2 and 4.5 -> 4.
    assert in_train == {1: 1, 2: 2, 3: 2, 4: 3, 5: 4, 6: 8}


def test_a_group_is_shuffled_as_pandas_sample_with_that_seed() -> None:
    # DataFrame.sample(frac=1, random_state=42) orders n rows by RandomState(42).permutation(n).
    log = _log([(user, 7, user) for user in range(1, 9)])
    train, _ = stratified_split(log, ratio=0.75, by="item", seed=42)
    expected = np.arange(1, 9)[np.random.RandomState(42).permutation(8)][:6]
    assert sorted(train.users.tolist()) == sorted(expected.tolist())


def test_the_split_is_repeatable_and_seed_dependent() -> None:
    log = _log([(u, i, u * 10 + i) for u in range(1, 30) for i in range(1, 9) if (u + i) % 3])
    first = stratified_split(log, seed=42)[1]
    again = stratified_split(log, seed=42)[1]
    other = stratified_split(log, seed=7)[1]
    assert sorted(zip(first.users, first.items, strict=True)) == sorted(
        zip(again.users, again.items, strict=True)
    )
    assert sorted(zip(first.users, first.items, strict=True)) != sorted(
        zip(other.users, other.items, strict=True)
    )


def test_leave_last_out_holds_each_users_latest_rating() -> None:
    log = _log([(1, 10, 100), (1, 11, 300), (1, 12, 200), (2, 10, 50), (3, 13, 70), (3, 14, 70)])
    train, test = leave_last_out(log)
    held = sorted(zip(test.users.tolist(), test.items.tolist(), strict=True))
    # User 1's latest is item 11; user 2 has one rating and stays in training; user 3's two
    # ratings share a time, and the later row is held out.
    assert held == [(1, 11), (3, 14)]
    assert len(train) == 4
