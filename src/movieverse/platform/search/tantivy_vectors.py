"""Exact nearest neighbours over the movie vectors a tantivy index stores.

tantivy has no vector search, so the vectors (stored bytes, one per movie that has one) are read
into one matrix per searcher and ranked by a matrix-vector product: exact, and fast enough at
this catalog's scale (10k movies x 384 dimensions: about a millisecond; the table is rebuilt at
most once a second after the index changes). numpy comes with the ``semantic`` extra, the only
way vectors get into the index, so it is imported here alone.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import tantivy

from movieverse.platform.search.embeddings import VECTOR_BYTES

# After the index changes, the table is rebuilt on the next query, but not more often than this.
REBUILD_SECONDS = 1.0


@dataclass
class VectorTable:
    searcher: tantivy.Searcher
    addresses: list[tantivy.DocAddress]
    matrix: Any  # numpy float32, one row per address
    version: int
    built_at: float

    @classmethod
    def build(cls, searcher: tantivy.Searcher, version: int) -> VectorTable:
        import numpy as np

        addresses: list[tantivy.DocAddress] = []
        rows: list[bytes] = []
        total = searcher.num_docs
        if total:
            found = searcher.search(tantivy.Query.all_query(), total, count=False)
            for _, address in found.hits:
                vector = searcher.doc(address).get_first("vec")
                if isinstance(vector, bytes) and len(vector) == VECTOR_BYTES:
                    addresses.append(address)
                    rows.append(vector)
        matrix = (
            np.frombuffer(b"".join(rows), dtype="<f4").reshape(len(rows), VECTOR_BYTES // 4)
            if rows
            else np.zeros((0, VECTOR_BYTES // 4), dtype="<f4")
        )
        return cls(searcher, addresses, matrix, version, time.monotonic())

    def outdated(self, version: int) -> bool:
        return version != self.version and time.monotonic() - self.built_at > REBUILD_SECONDS

    def nearest(self, vector: bytes) -> Iterator[tuple[float, tantivy.DocAddress]]:
        """Every address, most similar first, with its cosine similarity."""
        import numpy as np

        if not self.addresses:
            return
        query = np.frombuffer(vector, dtype="<f4")
        scores = self.matrix @ query
        for position in np.argsort(-scores, kind="stable"):
            yield float(scores[position]), self.addresses[int(position)]
