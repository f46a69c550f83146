"""Each recommender on small logs whose answers are known."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import sparse

from movieverse.ml.interactions import Matrix, RatingLog
from movieverse.ml.models.als import ImplicitAls
from movieverse.ml.models.base import ModelTooLarge, top_k
from movieverse.ml.models.content import ContentKnn
from movieverse.ml.models.ease import Ease, dropout_penalty, ease_weights
from movieverse.ml.models.hybrid import Hybrid
from movieverse.ml.models.itemknn import ItemKnn
from movieverse.ml.models.popularity import Popularity
from movieverse.ml.models.registry import build_model
from movieverse.ml.models.session_ease import SessionEase, session_gram


def _matrix(pairs: list[tuple[int, int]]) -> Matrix:
    log = RatingLog.from_rows((user, item, 4.0, 0) for user, item in pairs)
    return Matrix.from_log(log)


# Two tastes: items 1-3 go together, items 4-6 go together; item 1 is the most popular.
TASTES = (
    [(u, i) for u in range(1, 21) for i in (1, 2, 3)]
    + [(u, i) for u in range(21, 35) for i in (4, 5, 6)]
    + [(u, 1) for u in range(21, 30)]
)


def test_top_k_removes_seen_items_and_breaks_ties_by_column() -> None:
    scores = np.array([[0.5, 0.9, 0.5, 0.1]], dtype=np.float32)
    seen = sparse.csr_matrix(np.array([[0, 1, 0, 0]], dtype=np.float32))
    assert top_k(scores, seen, k=3).tolist() == [[0, 2, 3]]


def test_popularity_ranks_by_count() -> None:
    matrix = _matrix(TASTES)
    model = Popularity()
    model.fit(matrix)
    best = top_k(model.score(matrix.history_rows([[]])), matrix.history_rows([[]]), k=1)
    assert matrix.item_ids[best[0][0]] == 1


@pytest.mark.parametrize(
    "model",
    [
        Ease(l2=1.0),
        ItemKnn(neighbours=3, shrink=0.0),
        ItemKnn(neighbours=3, shrink=0.0, similarity="jaccard"),
        ImplicitAls(factors=4, regularization=0.01, alpha=5.0, iterations=20),
    ],
    ids=["ease", "itemknn", "sar", "als"],
)
def test_collaborative_models_follow_taste(model: Ease | ItemKnn | ImplicitAls) -> None:
    matrix = _matrix(TASTES)
    model.fit(matrix)
    # A new user (never trained on) who liked item 4 is folded in from that history.
    history = matrix.history_rows([[4], [2]])
    best = top_k(model.score(history), history, k=2)
    assert {int(matrix.item_ids[c]) for c in best[0]} == {5, 6}
    assert {int(matrix.item_ids[c]) for c in best[1]} == {1, 3}


def test_jaccard_similarity_is_co_raters_over_either_raters() -> None:
    # Item 1: users 1, 2, 3; item 2: users 1, 2. Jaccard = 2 / (3 + 2 - 2).
    model = ItemKnn(neighbours=5, shrink=0.0, similarity="jaccard")
    matrix = _matrix([(1, 1), (2, 1), (3, 1), (1, 2), (2, 2)])
    model.fit(matrix)
    assert model.weights[0, 1] == pytest.approx(2 / 3, rel=1e-5)
    assert model.weights[0, 0] == 0.0


def test_item_knn_keeps_only_the_nearest_neighbours() -> None:
    rng = np.random.default_rng(1)
    pairs = sorted({(int(u), int(i)) for u, i in rng.integers(1, 60, size=(900, 2))})
    model = ItemKnn(neighbours=4)
    model.fit(_matrix(pairs))
    assert np.diff(model.weights.indptr).max() <= 4


def test_ease_weights_have_a_zero_diagonal() -> None:
    model = Ease(l2=10.0)
    model.fit(_matrix(TASTES))
    assert np.allclose(np.diag(model.weights), 0.0)


def test_ease_refuses_a_catalog_too_large_for_a_dense_matrix() -> None:
    with pytest.raises(ModelTooLarge, match="item-kNN or ALS"):
        Ease(max_items=5).fit(_matrix(TASTES))


def test_content_similarity_knows_unrated_movies() -> None:
    documents = {
        1: "genre_crime heist los angeles detective",
        2: "genre_crime heist bank robbery crew",
        3: "genre_animation talking toys friendship",
        4: "genre_animation toys adventure friendship",
        5: "genre_drama",
    }
    # Only items 1 and 3 were ever rated; 2 and 4 exist in the catalog axis all the same.
    log = RatingLog.from_rows([(1, 1, 4.0, 0), (2, 3, 4.0, 0)])
    matrix = Matrix.from_log(log, item_ids=np.arange(1, 6, dtype=np.int64))
    model = ContentKnn(documents=documents, neighbours=2)
    model.fit(matrix)
    history = matrix.history_rows([[1], [3]])
    best = top_k(model.score(history), history, k=1)
    assert [int(matrix.item_ids[row[0]]) for row in best] == [2, 4]


def test_hybrid_round_trips_through_its_params_and_state() -> None:
    matrix = _matrix(TASTES)
    hybrid = Hybrid(parts=[Ease(l2=1.0), Popularity()], weights=[1.0, 0.3])
    hybrid.fit(matrix)
    rebuilt = build_model("hybrid", hybrid.params())
    rebuilt.load_state(hybrid.state())
    history = matrix.history_rows([[4]])
    assert np.allclose(rebuilt.score(history), hybrid.score(history))


def test_unknown_kinds_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown model kind"):
        build_model("bivae", {})


def test_session_co_occurrence_weighs_pairs_by_time_apart() -> None:
    # One user rated items 1 and 2 a minute apart, and item 3 a day later.
    log = RatingLog.from_rows([(1, 1, 4.0, 0), (1, 2, 4.0, 60), (1, 3, 4.0, 86_400)])
    gram = session_gram(Matrix.from_log(log), tau_seconds=600.0)
    assert gram[0, 0] == 1.0
    assert gram[0, 1] == pytest.approx(np.exp(-60 / 600))
    assert gram[0, 2] == pytest.approx(np.exp(-86_400 / 600))
    assert np.allclose(gram, gram.T)


def test_session_ease_prefers_what_was_watched_in_the_same_sitting() -> None:
    # Everyone rated 1 and 2 together, and 3 long before; all three are equally co-rated.
    rows = []
    for user in range(1, 30):
        rows += [(user, 1, 4.0, 10_000_000), (user, 2, 4.0, 10_000_100), (user, 3, 4.0, 0)]
    rows += [(99, 4, 4.0, 0)]
    matrix = Matrix.from_log(RatingLog.from_rows(rows))
    model = SessionEase(l2=1.0, tau_seconds=600.0)
    model.fit(matrix)
    history = matrix.history_rows([[1]])
    scores = model.score(history)[0]
    assert scores[1] > scores[2]  # item 2 (same sitting) over item 3 (years apart)
    plain = Ease(l2=1.0)
    plain.fit(matrix)
    plain_scores = plain.score(history)[0]
    assert plain_scores[1] == pytest.approx(plain_scores[2])


def test_session_floor_gives_every_co_rated_pair_a_base_weight() -> None:
    log = RatingLog.from_rows([(1, 1, 4.0, 0), (1, 2, 4.0, 60), (1, 3, 4.0, 86_400)])
    gram = session_gram(Matrix.from_log(log), tau_seconds=600.0, floor=0.4)
    assert gram[0, 0] == pytest.approx(1.4)
    assert gram[0, 1] == pytest.approx(np.exp(-60 / 600) + 0.4)
    assert gram[0, 2] == pytest.approx(np.exp(-86_400 / 600) + 0.4)


def test_session_rating_power_weighs_pairs_by_their_stars_whatever_the_scale() -> None:
    # One sitting: item 1 got 4 stars, item 2 got 2; the mean rating is 3.
    log = RatingLog.from_rows([(1, 1, 4.0, 0), (1, 2, 2.0, 0)])
    gram = session_gram(Matrix.from_log(log), tau_seconds=600.0, rating_power=1.0)
    assert gram[0, 0] == pytest.approx(4 / 3)
    assert gram[1, 1] == pytest.approx(2 / 3)
    assert gram[0, 1] == pytest.approx(np.sqrt(4 / 3 * 2 / 3))
    # The same tastes on MovieVerse's 0.5-10 scale (twice the stars) learn the same weights.
    doubled = RatingLog.from_rows([(1, 1, 8.0, 0), (1, 2, 4.0, 0)])
    assert np.allclose(
        session_gram(Matrix.from_log(doubled), tau_seconds=600.0, rating_power=1.0), gram
    )
    # Power 0 ignores the stars.
    assert np.allclose(session_gram(Matrix.from_log(log), tau_seconds=600.0), np.ones((2, 2)))


def test_session_activity_power_keeps_a_heavy_rater_from_setting_the_weights() -> None:
    # User 1 rated four movies in one sitting, user 2 only movies 1 and 2.
    rows = [(1, item, 4.0, 0) for item in (1, 2, 3, 4)] + [(2, 1, 4.0, 0), (2, 2, 4.0, 0)]
    matrix = Matrix.from_log(RatingLog.from_rows(rows))
    gram = session_gram(matrix, tau_seconds=600.0, activity_power=0.5)
    # Each pair counts n^-0.5: 1/2 from user 1, 1/sqrt(2) from user 2.
    assert gram[0, 1] == pytest.approx(0.5 + 2**-0.5)
    assert gram[2, 3] == pytest.approx(0.5)
    assert gram[0, 1] == pytest.approx(gram[1, 0])


def test_a_matrix_keeps_each_interactions_stars_beside_its_time() -> None:
    log = RatingLog.from_rows([(1, 2, 5.0, 10), (1, 1, 3.0, 20), (2, 2, 1.0, 30)])
    matrix = Matrix.from_log(log)
    assert matrix.ratings is not None
    assert matrix.times is not None
    assert matrix.ratings.toarray().tolist() == [[3.0, 5.0], [0.0, 1.0]]
    assert np.array_equal(matrix.ratings.indices, matrix.times.indices)


def test_dropout_penalises_each_item_in_proportion_to_its_count() -> None:
    # EDLAE: Λ = λ + p/(1-p)·diag(G). With p = 0.5 that adds each item's own count.
    gram = np.array([[4.0, 1.0], [1.0, 2.0]])
    assert dropout_penalty(gram, 1.0, 0.5).tolist() == [5.0, 3.0]
    assert dropout_penalty(gram, 1.0, 0.0).tolist() == [1.0, 1.0]
    # The weights are EASE's with that diagonal: B = I - P·diag(1/diag(P)), P = (G + Λ)⁻¹.
    precision = np.linalg.inv(gram + np.diag([5.0, 3.0]))
    expected = -precision / np.diag(precision)
    np.fill_diagonal(expected, 0.0)
    assert np.allclose(ease_weights(gram.copy(), 1.0, 0.5), expected, atol=1e-6)


def test_dropout_shrinks_the_weights_and_keeps_the_ranking_on_clear_tastes() -> None:
    matrix = _matrix(TASTES)
    plain, dropped = Ease(l2=1.0), Ease(l2=1.0, dropout=0.8)
    plain.fit(matrix)
    dropped.fit(matrix)
    assert np.abs(dropped.weights).sum() < np.abs(plain.weights).sum()
    history = matrix.history_rows([[4]])
    best = top_k(dropped.score(history), history, k=2)
    assert {int(matrix.item_ids[c]) for c in best[0]} == {5, 6}


@pytest.mark.parametrize(
    ("l2", "dropout", "message"),
    [(0.0, 0.0, "l2"), (1.0, 1.0, "dropout"), (1.0, -0.1, "dropout")],
    ids=["no-ridge", "dropout-1", "negative-dropout"],
)
def test_bad_ease_penalties_are_refused(l2: float, dropout: float, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Ease(l2=l2, dropout=dropout)
    with pytest.raises(ValueError, match=message):
        SessionEase(l2=l2, dropout=dropout, tau_seconds=600.0)
    with pytest.raises(ValueError, match="floor"):
        SessionEase(floor=-1.0)
    with pytest.raises(ValueError, match="rating_power"):
        SessionEase(rating_power=-1.0)
    with pytest.raises(ValueError, match="activity_power"):
        SessionEase(activity_power=-0.5)
