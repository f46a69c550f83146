"""Training a model for the service from an interaction snapshot: the same models and defaults
the evaluation chose, with the parts that cannot scale swapped for ones that do."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from movieverse.ml.interactions import IntArray, Matrix, RatingLog
from movieverse.ml.models.base import ModelTooLarge, Recommender
from movieverse.ml.models.registry import build_model

# Chosen on ml-100k's validation split by `movieverse ai evaluate` (see its JSON); retune with
# `movieverse ai evaluate --dataset <yours>` for a very different catalog.
EASE_PARAMS: dict[str, Any] = {"l2": 500.0, "dropout": 0.5}
SESSION_EASE_PARAMS: dict[str, Any] = {
    "l2": 25.0,
    "tau_seconds": 300.0,
    "floor": 0.4,
    "dropout": 0.85,
    "rating_power": 1.0,
    "activity_power": 0.0,
}
ALS_PARAMS: dict[str, Any] = {"factors": 16, "regularization": 0.1, "alpha": 2.0, "iterations": 15}
CONTENT_PARAMS: dict[str, Any] = {"neighbours": 50}
ITEMKNN_PARAMS: dict[str, Any] = {"similarity": "cosine", "neighbours": 200, "shrink": 10.0}
# Validation weighs ALS 0.4 on ml-100k. It gives content 0 to 0.2 across splits (0 at seed 42):
# the test items are movies with training ratings, so the protocol cannot see what content is
# kept for here, the one part that can recommend a movie nobody has rated yet.
HYBRID_WEIGHTS = [1.0, 0.4, 0.1]

DEFAULT_PARAMS: dict[str, dict[str, Any]] = {
    "popularity": {},
    "itemknn": ITEMKNN_PARAMS,
    "ease": EASE_PARAMS,
    "session_ease": SESSION_EASE_PARAMS,
    "als": ALS_PARAMS,
    "content": CONTENT_PARAMS,
    "hybrid": {
        "parts": [
            {"kind": "session_ease", "params": SESSION_EASE_PARAMS},
            {"kind": "als", "params": ALS_PARAMS},
            {"kind": "content", "params": CONTENT_PARAMS},
        ],
        "weights": HYBRID_WEIGHTS,
    },
}


@dataclass(frozen=True, slots=True)
class Trained:
    model: Recommender
    item_ids: IntArray
    seconds: float
    # Parts replaced because the catalog was too large for them, with why.
    substitutions: list[str]


def _scalable(params: dict[str, Any], items: int) -> tuple[dict[str, Any], list[str]]:
    """EASE's dense item x item matrix is swapped for sparse item-kNN above its limit."""
    notes: list[str] = []
    parts = []
    for part in params["parts"]:
        dense = part["kind"] in {"ease", "session_ease"}
        if dense and items > int(part["params"].get("max_items", 20_000)):
            notes.append(
                f"{part['kind']} -> itemknn: {items} items is above its dense-matrix limit"
            )
            parts.append({"kind": "itemknn", "params": ITEMKNN_PARAMS})
        else:
            parts.append(part)
    return {**params, "parts": parts}, notes


def train(
    log: RatingLog,
    *,
    kind: str,
    catalog: IntArray,
    documents: Mapping[int, str],
    params: dict[str, Any] | None = None,
    say: Callable[[str], None] = lambda _: None,
) -> Trained:
    """Fit ``kind`` on ``log`` over an item axis of every catalogued movie (so content
    similarity reaches movies nobody rated yet) plus any rated movie the catalog lacks."""
    item_ids = np.union1d(catalog, np.unique(log.items)).astype(np.int64)
    chosen = dict(params if params is not None else DEFAULT_PARAMS[kind])
    substitutions: list[str] = []
    if kind == "hybrid":
        chosen, substitutions = _scalable(chosen, len(item_ids))
    elif kind in {"ease", "session_ease"} and len(item_ids) > int(chosen.get("max_items", 20_000)):
        raise ModelTooLarge(f"{len(item_ids)} items is above EASE's limit: train itemknn or als")
    model = build_model(kind, chosen, documents=documents)
    matrix = Matrix.from_log(log, item_ids=item_ids)
    say(f"fitting {kind} on {len(log)} interactions, {len(item_ids)} items")
    started = time.perf_counter()
    model.fit(matrix)
    return Trained(model, item_ids, time.perf_counter() - started, substitutions)
