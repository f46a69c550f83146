"""What metadata derives from credits at import: people's popularity and department."""

from __future__ import annotations

import pytest

from movieverse.services.metadata.importer import known_for_department, popularity
from movieverse.services.metadata.schemas import MovieCast, MovieCredits, MovieCrew


def _roles(cast: list[tuple[int, int]], crew: list[tuple[int, str, str]]) -> MovieCredits:
    return MovieCredits(
        cast=[MovieCast(movie_id=m, character="", order=o) for m, o in cast],
        crew=[MovieCrew(movie_id=m, department=d, job=j) for m, d, j in crew],
    )


def test_popularity_weighs_billing_and_job() -> None:
    movies = {1: 40.0, 2: 10.0, 3: 30.0, 4: 20.0}
    roles = _roles(
        cast=[(1, 0), (2, 3), (2, 5)],  # lead of 1; fourth and sixth billed in 2
        crew=[(3, "Directing", "Director"), (4, "Writing", "Screenplay"), (1, "Sound", "Music")],
    )
    # 1: max(lead 1.0, crew 0.1) * 40; 2: best billing 1/4 * 10; 3: 0.5 * 30; 4: 0.3 * 20
    assert popularity(roles, movies) == pytest.approx(40 + 2.5 + 15 + 6)
    # A movie the catalog does not know (no popularity) adds nothing.
    assert popularity(_roles(cast=[(9, 0)], crew=[]), movies) == 0


def test_known_for_is_the_department_of_most_credits() -> None:
    assert known_for_department(_roles(cast=[(1, 0)], crew=[])) == "Acting"
    directing = [(1, "Directing", "Director"), (2, "Directing", "Director")]
    assert known_for_department(_roles(cast=[(3, 0)], crew=directing)) == "Directing"
    # A tie goes to acting, then alphabetically.
    assert known_for_department(_roles(cast=[(1, 0)], crew=[(2, "Writing", "Novel")])) == "Acting"
    tie = [(1, "Writing", "Novel"), (2, "Camera", "Director of Photography")]
    assert known_for_department(_roles(cast=[], crew=tie)) == "Camera"
    assert known_for_department(_roles(cast=[], crew=[])) is None
