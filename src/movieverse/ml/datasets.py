"""Rating logs for training and evaluation: MovieLens directories, and synthetic logs at scale."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from movieverse.datasets import read_movielens
from movieverse.ml.interactions import RatingLog


@dataclass(frozen=True, slots=True)
class TrainingData:
    name: str
    log: RatingLog
    # Text per item for the content model: genres and title (plus tags where the dataset has them).
    documents: dict[int, str] = field(default_factory=dict)


def load_movielens(path: Path) -> TrainingData:
    """Every rating row in file order (the published splits depend on it). A bad row raises: an
    evaluation must not quietly run on less data than its source has."""
    dataset = read_movielens(path)
    log = RatingLog.from_rows(
        (rating.user_id, rating.movie_id, rating.rating, int(rating.timestamp.timestamp()))
        for rating in dataset.ratings()
    )
    documents: dict[int, list[str]] = {}
    for movie in dataset.movies():
        genres = [
            f"genre_{genre.lower().replace(' ', '_').replace('-', '_')}" for genre in movie.genres
        ]
        documents[movie.movie_id] = [*genres, movie.title]
    for tag in dataset.tags():
        documents.setdefault(tag.movie_id, []).append(tag.tag)
    return TrainingData(
        name=path.name,
        log=log,
        documents={movie: " ".join(words) for movie, words in documents.items()},
    )


def synthetic_log(
    *, users: int, items: int, ratings: int, seed: int = 42, clusters: int = 32
) -> TrainingData:
    """A log with the shape of real ones, so that models have something to learn: Zipf-like
    item popularity, heavy-tailed user activity, and taste (each user leans to one of
    ``clusters`` groups of items for most of their ratings).

    Duplicate (user, item) draws are dropped and drawn again until ``ratings`` distinct pairs
    exist (``ratings`` must leave room: at most half of users x items)."""
    if ratings > users * items // 2:
        raise ValueError("ratings must be at most half of users x items")
    rng = np.random.default_rng(seed)
    popularity = rng.permutation(1.0 / np.arange(1, items + 1) ** 0.8)
    activity = rng.pareto(1.5, size=users) + 1.0
    cluster_of_item = rng.integers(0, clusters, size=items)
    cluster_of_user = rng.integers(0, clusters, size=users)
    members = [np.flatnonzero(cluster_of_item == c) for c in range(clusters)]

    def draw(count: int) -> np.ndarray:
        user = rng.choice(users, size=count, p=activity / activity.sum())
        item = rng.choice(items, size=count, p=popularity / popularity.sum())
        in_taste = rng.random(count) < 0.6
        for cluster, group in enumerate(members):
            chosen = in_taste & (cluster_of_user[user] == cluster)
            if len(group) and chosen.any():
                weights = popularity[group] / popularity[group].sum()
                item[chosen] = rng.choice(group, size=int(chosen.sum()), p=weights)
        return user.astype(np.int64) * items + item

    pairs = np.unique(draw(ratings))
    while len(pairs) < ratings:
        pairs = np.unique(np.concatenate([pairs, draw(int((ratings - len(pairs)) * 1.5) + 16)]))
    pairs = np.sort(rng.choice(pairs, size=ratings, replace=False))
    return TrainingData(
        name=f"synthetic-{users}u-{items}i-{ratings}r",
        log=RatingLog(
            users=pairs // items + 1,
            items=pairs % items + 1,
            ratings=rng.integers(1, 6, size=ratings).astype(np.float32),
            timestamps=rng.integers(0, 10**9, size=ratings),
        ),
    )
