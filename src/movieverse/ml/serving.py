"""A loaded model answering requests: a user's top movies with reasons, a movie's neighbours.

Users are scored from their current history (fold-in), so a rating made a second ago counts
without retraining. Scores stay in the model's item space; callers speak catalog movie ids.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import sparse

from movieverse.ml.artifacts import ArtifactMeta, LoadedArtifact
from movieverse.ml.models.base import Recommender, Scores
from movieverse.ml.models.hybrid import Hybrid

# Reasons are looked for among this many of the user's best-rated movies: enough to find the
# one that matters, few enough to stay within a millisecond.
MAX_REASON_CANDIDATES = 30
# Candidate masks kept per model: the catalog's few prepared sets, rebuilt when it refreshes.
MAX_KEPT_MASKS = 8
# Models whose score is a sum over the history of item-to-item weights.
ITEM_TO_ITEM = frozenset({"session_ease", "ease", "itemknn", "content"})


@dataclass(frozen=True, slots=True)
class Suggestion:
    movie_id: int
    score: float
    # The liked movie that contributed most to this one's score, if any did.
    because: int | None = None


class ServingModel:
    def __init__(self, artifact: LoadedArtifact) -> None:
        self.meta: ArtifactMeta = artifact.meta
        self.model: Recommender = artifact.model
        self.item_ids = artifact.item_ids
        self._column = {int(item): column for column, item in enumerate(self.item_ids)}
        self._masks: dict[frozenset[int], npt.NDArray[np.bool_]] = {}

    @property
    def version(self) -> str:
        return self.meta.version

    def knows(self, movie_id: int) -> bool:
        return movie_id in self._column

    def _rows(self, histories: Sequence[Collection[int]]) -> sparse.csr_matrix:
        indptr = [0]
        indices: list[int] = []
        for history in histories:
            columns = sorted({self._column[m] for m in history if m in self._column})
            indices.extend(columns)
            indptr.append(len(indices))
        return sparse.csr_matrix(
            (np.ones(len(indices), np.float32), np.asarray(indices, np.int64), np.asarray(indptr)),
            shape=(len(histories), len(self.item_ids)),
        )

    def _mask(self, allowed: Collection[int]) -> npt.NDArray[np.bool_]:
        """The model's columns that are in ``allowed``. A frozenset (the catalog's prepared
        candidate sets) has its mask kept: most requests share one, and building it walks the
        whole catalog."""
        if isinstance(allowed, frozenset) and (known := self._masks.get(allowed)) is not None:
            return known
        mask = np.zeros(len(self.item_ids), dtype=bool)
        mask[[self._column[m] for m in allowed if m in self._column]] = True
        if isinstance(allowed, frozenset):
            if len(self._masks) >= MAX_KEPT_MASKS:
                self._masks.clear()
            self._masks[allowed] = mask
        return mask

    def _best(
        self,
        scores: Scores,
        *,
        exclude: Collection[int],
        allowed: Collection[int] | None,
        count: int,
    ) -> list[tuple[int, float]]:
        scores = scores.astype(np.float32, copy=True)
        if allowed is not None:
            scores[~self._mask(allowed)] = -np.inf
        blocked = [self._column[m] for m in exclude if m in self._column]
        scores[blocked] = -np.inf
        candidates = int(np.isfinite(scores).sum())
        count = min(count, candidates)
        if count <= 0:
            return []
        part = np.argpartition(-scores, count - 1)[:count]
        order = part[np.lexsort((part, -scores[part]))]
        return [(int(self.item_ids[c]), float(scores[c])) for c in order]

    def recommend(
        self,
        *,
        history: Collection[int],
        liked: Sequence[int],
        exclude: Collection[int],
        allowed: Collection[int] | None,
        count: int,
    ) -> list[Suggestion]:
        """The ``count`` best movies for someone who rated ``history``, leaving out ``exclude``
        (and, with ``allowed``, everything not in it). ``liked`` (best first) are the movies a
        reason may name."""
        scores = self.model.score(self._rows([history]))[0]
        best = self._best(scores, exclude=exclude, allowed=allowed, count=count)
        reasons = self._reasons([movie for movie, _ in best], liked)
        return [Suggestion(movie, score, reasons.get(movie)) for movie, score in best]

    def similar(
        self,
        movie_id: int,
        *,
        count: int,
        exclude: Collection[int] = (),
        content_only: bool = False,
    ) -> list[Suggestion]:
        """What someone who liked only ``movie_id`` would be recommended: the movies most
        related to it, by every part of the model (or by its content part alone, when it has
        one and ``content_only`` asks)."""
        scorer = self.model
        if content_only and isinstance(self.model, Hybrid):
            scorer = next((p for p in self.model.parts if p.kind == "content"), self.model)
        scores = scorer.score(self._rows([[movie_id]]))[0]
        best = self._best(scores, exclude={movie_id, *exclude}, allowed=None, count=count)
        # Only what is related at all: a movie sharing nothing with this one scores 0.
        return [Suggestion(movie, score, movie_id) for movie, score in best if score > 0]

    def _reasons(self, movies: Sequence[int], liked: Sequence[int]) -> dict[int, int]:
        """For each recommended movie, the liked movie whose own recommendations score it
        highest. Item-to-item parts are asked in the hybrid's order (its strongest first, then
        content similarity), since their scores are sums over the history and a liked movie's
        share of a score is exact; the first that finds a positive share names the reason."""
        candidates = [m for m in liked if m in self._column][:MAX_REASON_CANDIDATES]
        if not candidates or not movies:
            return {}
        parts = self.model.parts if isinstance(self.model, Hybrid) else [self.model]
        explainers = [p for p in parts if p.kind in ITEM_TO_ITEM] or parts[:1]
        rows = self._rows([[m] for m in candidates])
        columns = [self._column[m] for m in movies]
        reasons: dict[int, int] = {}
        for explainer in explainers:
            picked = explainer.score(rows)[:, columns]
            best_rows = np.argmax(picked, axis=0)
            for position, movie in enumerate(movies):
                row = int(best_rows[position])
                if movie not in reasons and picked[row, position] > 0:
                    reasons[movie] = candidates[row]
            if len(reasons) == len(movies):
                break
        return reasons
