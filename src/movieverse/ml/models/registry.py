"""Models by kind, so an artifact's metadata is enough to rebuild the object it was saved from."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from movieverse.ml.models.als import ImplicitAls
from movieverse.ml.models.base import Recommender
from movieverse.ml.models.content import ContentKnn
from movieverse.ml.models.ease import Ease
from movieverse.ml.models.hybrid import Hybrid
from movieverse.ml.models.itemknn import ItemKnn
from movieverse.ml.models.popularity import Popularity
from movieverse.ml.models.session_ease import SessionEase

KINDS = ("popularity", "itemknn", "ease", "session_ease", "als", "content", "hybrid")


# Models whose only inputs are their parameters.
_SIMPLE: dict[str, Callable[..., Recommender]] = {
    "popularity": Popularity,
    "itemknn": ItemKnn,
    "ease": Ease,
    "session_ease": SessionEase,
    "als": ImplicitAls,
}


def build_model(
    kind: str, params: Mapping[str, Any], *, documents: Mapping[int, str] | None = None
) -> Recommender:
    """A fresh model of ``kind`` with ``params`` (as ``params()`` reported them)."""
    if kind in _SIMPLE:
        return _SIMPLE[kind](**params)
    if kind == "content":
        return ContentKnn(documents=documents or {}, **params)
    if kind == "hybrid":
        parts = [
            build_model(part["kind"], part["params"], documents=documents)
            for part in params["parts"]
        ]
        return Hybrid(parts=parts, weights=params["weights"])
    raise ValueError(f"unknown model kind {kind!r}; known: {', '.join(KINDS)}")
