"""Top-k ranking metrics, defined as Microsoft Recommenders' ``python_evaluation`` defines them,
so our figures sit beside their published table:

- relevance is binary: every held-out rating of a user is relevant, whatever its stars;
- Precision@k divides hits by k, Recall@k by the user's number of relevant items;
- nDCG@k's ideal ranking puts ``min(relevant, k)`` hits first (the log base cancels);
- MAP sums precision at each hit within the top k and divides by *all* the user's relevant
  items (their ``map``, the benchmark's "MAP"); ``map_at_k`` divides by ``min(relevant, k)``;
- the averages run over users with test items (every such user gets a recommendation list here).

``hit_rate`` (HR@k) is for leave-one-out: did the held-out item make the top k.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, slots=True)
class RankingScores:
    map: float
    map_at_k: float
    ndcg: float
    precision: float
    recall: float
    hit_rate: float
    users: int

    def as_dict(self) -> dict[str, float]:
        return {
            "MAP": self.map,
            "MAP@k": self.map_at_k,
            "nDCG@k": self.ndcg,
            "Precision@k": self.precision,
            "Recall@k": self.recall,
            "HR@k": self.hit_rate,
        }


def user_metrics(recommended: Sequence[int], relevant: set[int], *, k: int) -> dict[str, float]:
    """The per-user terms the averages are made of (exposed for the hand-computed tests)."""
    if not relevant:
        raise ValueError("a user without relevant items has no ranking metrics")
    top = list(recommended[:k])
    hits = 0
    precision_sum = 0.0
    dcg = 0.0
    for rank, item in enumerate(top, start=1):
        if item in relevant:
            hits += 1
            precision_sum += hits / rank
            dcg += 1.0 / np.log2(rank + 1)
    ideal = sum(1.0 / np.log2(rank + 1) for rank in range(1, min(len(relevant), k) + 1))
    return {
        "ap": precision_sum / len(relevant),
        "ap_at_k": precision_sum / min(len(relevant), k),
        "ndcg": dcg / ideal,
        "precision": hits / k,
        "recall": hits / len(relevant),
        "hit": 1.0 if hits else 0.0,
    }


def ranking_scores(
    recommendations: Mapping[int, Sequence[int]],
    relevant: Mapping[int, set[int]],
    *,
    k: int,
) -> RankingScores:
    """Averages over the users of ``relevant``; a user missing from ``recommendations`` counts
    as an empty list (all zeros), never as absent."""
    if not relevant:
        raise ValueError("no user has relevant items")
    totals = dict.fromkeys(("ap", "ap_at_k", "ndcg", "precision", "recall", "hit"), 0.0)
    for user, items in relevant.items():
        for name, value in user_metrics(recommendations.get(user, ()), items, k=k).items():
            totals[name] += value
    count = len(relevant)
    return RankingScores(
        map=totals["ap"] / count,
        map_at_k=totals["ap_at_k"] / count,
        ndcg=totals["ndcg"] / count,
        precision=totals["precision"] / count,
        recall=totals["recall"] / count,
        hit_rate=totals["hit"] / count,
        users=count,
    )
