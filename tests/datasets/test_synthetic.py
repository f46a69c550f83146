"""The synthetic demo catalog: deterministic, in the real formats, and internally consistent."""

from __future__ import annotations

import hashlib
from pathlib import Path

from movieverse.datasets import read_movielens, read_tmdb_credits, read_tmdb_csv
from movieverse.datasets.synthetic import SYNTHETIC_ID_BASE, write_synthetic_catalog


def _digests(root: Path) -> dict[str, str]:
    return {
        str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def test_the_same_seed_writes_the_same_bytes(tmp_path: Path) -> None:
    write_synthetic_catalog(tmp_path / "a", movies=80, users=30, seed=7)
    write_synthetic_catalog(tmp_path / "b", movies=80, users=30, seed=7)
    write_synthetic_catalog(tmp_path / "c", movies=80, users=30, seed=8)
    assert _digests(tmp_path / "a") == _digests(tmp_path / "b")
    assert _digests(tmp_path / "a") != _digests(tmp_path / "c")


def test_the_default_catalog_reads_cleanly_and_its_scores_follow_its_ratings(
    tmp_path: Path,
) -> None:
    catalog = write_synthetic_catalog(tmp_path)
    # Strict readers: the first bad row would raise.
    movies = list(read_tmdb_csv(catalog.tmdb_dir))
    credits = {c.tmdb_id: c for c in read_tmdb_credits(catalog.tmdb_dir)}
    dataset = read_movielens(catalog.movielens_dir)
    lens = list(dataset.movies())
    ratings = list(dataset.ratings())
    tags = list(dataset.tags())

    assert len(movies) == len(lens) == catalog.movies >= 2000
    assert len(ratings) == catalog.ratings > 10 * catalog.movies
    assert len(tags) == catalog.tags > 0
    assert all(m.tmdb_id > SYNTHETIC_ID_BASE for m in movies)
    assert {m.tmdb_id for m in lens} == {m.tmdb_id for m in movies}
    assert all(m.movie_id > SYNTHETIC_ID_BASE for m in lens)
    # Every movie has a cast and a director; people are shared across movies.
    assert set(credits) == {m.tmdb_id for m in movies}
    assert all(len(c.cast) >= 5 for c in credits.values())
    assert all(any(p.job == "Director" for p in c.crew) for c in credits.values())
    people = {p.person_id for c in credits.values() for p in c.cast}
    people |= {p.person_id for c in credits.values() for p in c.crew}
    assert len(people) == catalog.people
    assert all(p > SYNTHETIC_ID_BASE for p in people)
    # Most movies have an overview and genres; languages are mixed.
    assert all(m.overview and m.genres for m in movies)
    assert len({m.original_language for m in movies}) >= 5

    # The score is the ratings': the TMDB file carries no votes of its own, and (nearly) every
    # movie is rated.
    assert all(m.vote_count == 0 and m.vote_average == 0 for m in movies)
    rated = {r.movie_id for r in ratings}
    assert len(rated) >= 0.9 * catalog.movies
