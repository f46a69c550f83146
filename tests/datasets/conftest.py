"""Where the real datasets are: MOVIEVERSE_DATASETS_DIR, else ../shared/data next to the checkout.

Tests that need a dataset skip, saying where they looked, when it is absent; they never copy it.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parents[2]


def datasets_root() -> Path:
    configured = os.environ.get("MOVIEVERSE_DATASETS_DIR")
    return Path(configured) if configured else REPOSITORY.parent / "shared" / "data"


def require_dataset(name: str, marker: str) -> Path:
    directory = datasets_root() / name
    if not (directory / marker).is_file():
        pytest.skip(
            f"{directory / marker} is absent: put the public datasets in ../shared/data "
            "or point MOVIEVERSE_DATASETS_DIR at them"
        )
    return directory


@pytest.fixture(scope="session")
def ml_small_dir() -> Path:
    return require_dataset("ml-latest-small", "movies.csv")


@pytest.fixture(scope="session")
def ml_100k_dir() -> Path:
    return require_dataset("ml-100k", "u.item")


@pytest.fixture(scope="session")
def tmdb_file() -> Path:
    return require_dataset("tmdb-5000", "tmdb_5000_movies.csv") / "tmdb_5000_movies.csv"
