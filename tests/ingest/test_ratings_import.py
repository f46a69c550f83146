"""`movieverse import movielens` brings the ratings too: as ratings by imported users, checked
against counts computed here from the source files."""

from __future__ import annotations

import asyncio
import csv
import sqlite3
from collections import defaultdict
from pathlib import Path

import pytest
from typer.testing import CliRunner

from movieverse.cli import app
from tests.datasets.conftest import require_dataset
from tests.support import Stack, eventually, running_gateway

runner = CliRunner()


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    for name in ("MOVIEVERSE_DATABASE_URL", "MOVIEVERSE_REVIEWS_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    return {"MOVIEVERSE_VAR_DIR": str(tmp_path / "var"), "COLUMNS": "200"}


def _import(env: dict[str, str], folder: Path) -> str:
    result = runner.invoke(app, ["import", "movielens", str(folder)], env=env)
    assert result.exit_code == 0, result.output
    return " ".join(result.output.split())


def _expected_totals(ratings_file: Path, delimiter: str) -> dict[int, tuple[int, int]]:
    """MovieLens movie id -> (ratings, sum of half points on MovieVerse's 0.5-10 scale)."""
    totals: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    with ratings_file.open(encoding="latin-1", newline="") as handle:
        if delimiter == ",":
            rows = ((int(r["movieId"]), float(r["rating"])) for r in csv.DictReader(handle))
        else:
            rows = ((int(f[1]), float(f[2])) for f in (line.split("\t") for line in handle))
        for movie_id, rating in rows:
            totals[movie_id][0] += 1
            totals[movie_id][1] += round(rating * 4)
    return {m: (c, s) for m, (c, s) in totals.items()}


def _observed_totals(var: Path, column: str) -> dict[int, tuple[int, int]]:
    with sqlite3.connect(var / "movies.db") as movies:
        external = dict(movies.execute(f"select id, {column} from movies_movies"))  # noqa: S608
    with sqlite3.connect(var / "reviews.db") as reviews:
        rows = reviews.execute("select movie_id, count, half_points_sum from reviews_movie_ratings")
        return {external[m]: (c, s) for m, c, s in rows if external[m] is not None}


def _reviews_rows(var: Path) -> tuple[int, int, int]:
    with sqlite3.connect(var / "reviews.db") as reviews:
        ratings, users = reviews.execute(
            "select count(*), count(distinct user_id) from reviews_ratings"
        ).fetchone()
        events = reviews.execute("select count(*) from reviews_outbox").fetchone()[0]
        return int(ratings), int(users), int(events)


async def test_ml_100k_and_ml_latest_small_side_by_side(
    env: dict[str, str], tmp_path: Path
) -> None:
    """One catalog takes both datasets: ml-100k numbers its movies its own way (its GoldenEye,
    item 2, must not merge into MovieLens's Jumanji, movieId 2), each dataset's ratings become
    its movies' scores and the ai service's interactions, and importing again changes nothing.
    (One scenario, not three tests: each import costs seconds.)"""
    ml_100k = require_dataset("ml-100k", "u.data")
    ml_small = require_dataset("ml-latest-small", "ratings.csv")
    var = tmp_path / "var"

    output = await asyncio.to_thread(_import, env, ml_100k)
    assert "│ movies │ 1682 │ 0 │ 0 │" in output
    assert "ratings: 100000 read" in output
    assert _reviews_rows(var)[:2] == (100_000, 943)
    expected_100k = _expected_totals(ml_100k / "u.data", "\t")
    assert _observed_totals(var, "ml100k_id") == expected_100k
    # The same ratings are the ai service's interactions, on its 0.5-10 scale.
    with sqlite3.connect(var / "ai.db") as ai:
        count, users, mean = ai.execute(
            "select count(*), count(distinct user_id), avg(rating) from ai_interactions"
        ).fetchone()
    assert (count, users) == (100_000, 943)
    assert mean == pytest.approx(2 * 3.52986)  # ml-100k's mean rating is 3.52986 stars

    # A model trained from the command line is the one the server then serves.
    trained = await asyncio.to_thread(
        runner.invoke, app, ["ai", "train", "--kind", "ease"], env=env
    )
    assert trained.exit_code == 0, trained.output
    assert "on 100000 interactions" in " ".join(trained.output.split())
    version = (var / "models" / "CURRENT").read_text()

    output = await asyncio.to_thread(_import, env, ml_small)
    assert "ratings: 100836 read, totals changed for 9724 movies" in output
    with sqlite3.connect(var / "movies.db") as conn:
        movies = conn.execute("select count(*) from movies_movies").fetchone()[0]
        goldeneye = conn.execute("select title from movies_movies where ml100k_id = 2").fetchone()
        jumanji = conn.execute("select title from movies_movies where movielens_id = 2").fetchone()
        # u.item is Latin-1: its accents arrive intact.
        accented = conn.execute(
            "select count(*) from movies_movies where ml100k_id is not null and title like '%é%'"
        ).fetchone()[0]
    assert movies == 1682 + 9742
    assert goldeneye == ("GoldenEye",)
    assert jumanji == ("Jumanji",)
    assert accented > 0
    expected_small = _expected_totals(ml_small / "ratings.csv", ",")
    assert _observed_totals(var, "movielens_id") == expected_small
    rows = _reviews_rows(var)
    # One totals event per rated movie, none per rating.
    assert rows == (200_836, 943 + 610, len(expected_100k) + len(expected_small))

    again = await asyncio.to_thread(_import, env, ml_100k)
    assert "│ movies │ 0 │ 0 │ 1682 │" in again
    assert "totals changed for 0 movies" in again
    assert _reviews_rows(var) == rows

    # Once the server runs, the totals events reach movies: each score is its ratings' mean.
    toy_story = 1  # ml-100k item 1: 452 ratings
    count, points = expected_100k[toy_story]
    settings = Stack("embedded", database_url=None, redis_url=None).settings(var)
    async with running_gateway(settings) as (gateway, client):
        served = gateway.services["ai"].state.ctx.runtime.models.current
        assert served is not None
        assert served.version in version
        with sqlite3.connect(var / "movies.db") as movies:
            (movie_id,) = movies.execute(
                "select id from movies_movies where ml100k_id = ?", (toy_story,)
            ).fetchone()

        async def scored() -> bool:
            movie = (await client.get(f"/movies/{movie_id}")).json()
            return bool(
                movie["vote_count"] == count
                and abs(movie["vote_average"] - points / count / 2) < 1e-3
            )

        await eventually(scored, within=60)
