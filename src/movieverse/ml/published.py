"""Published figures our evaluation is set beside.

Microsoft Recommenders, "Benchmark with MovieLens dataset" (examples/06_benchmarks/movielens.ipynb,
results table in the repository's benchmarks README): MovieLens 100k, python_stratified_split
(ratio 0.75, filter_by "item", seed 42), top-10, seen items removed. Their hardware, not ours.
"""

from __future__ import annotations

MSR_ML100K: dict[str, dict[str, float | str]] = {
    "SAR (published)": {
        "MAP": 0.114,
        "nDCG@k": 0.394,
        "Precision@k": 0.341,
        "Recall@k": 0.185,
        "hardware": "CPU",
    },
    "BPR (published)": {
        "MAP": 0.134,
        "nDCG@k": 0.445,
        "Precision@k": 0.389,
        "Recall@k": 0.217,
        "hardware": "CPU",
    },
    "BiVAE (published)": {
        "MAP": 0.144,
        "nDCG@k": 0.469,
        "Precision@k": 0.408,
        "Recall@k": 0.221,
        "hardware": "GPU",
    },
}

# SAR's published time to recommend for every ML-100k user (seconds), for the throughput bench.
SAR_RECOMMEND_ALL_SECONDS = 0.09
