"""Looking datasets up by name under a caller-chosen directory."""

from __future__ import annotations

from pathlib import Path

import pytest

from movieverse.datasets import DATASETS, DatasetNotFoundError, find_dataset, read_movielens


@pytest.mark.parametrize(
    ("name", "marker"),
    [
        ("ml-100k", "u.item"),
        ("ml-latest-small", "movies.csv"),
        ("ml-25m", "movies.csv"),
        ("ml-32m", "movies.csv"),
        ("tmdb-5000", "tmdb_5000_movies.csv"),
    ],
)
def test_find_dataset_returns_the_directory(tmp_path: Path, name: str, marker: str) -> None:
    (tmp_path / name).mkdir()
    (tmp_path / name / marker).write_text("")
    assert find_dataset(name, tmp_path) == tmp_path / name
    assert find_dataset(name, str(tmp_path)) == tmp_path / name


def test_a_found_movielens_dataset_opens_in_its_layout(tmp_path: Path) -> None:
    (tmp_path / "ml-25m").mkdir()
    (tmp_path / "ml-25m" / "movies.csv").write_text("movieId,title,genres\n")
    assert read_movielens(find_dataset("ml-25m", tmp_path)).layout == "csv"


def test_a_missing_dataset_says_where_it_looked_and_where_to_get_it(tmp_path: Path) -> None:
    with pytest.raises(DatasetNotFoundError) as raised:
        find_dataset("ml-32m", tmp_path)
    message = str(raised.value)
    assert str(tmp_path / "ml-32m" / "movies.csv") in message
    assert "https://files.grouplens.org/datasets/movielens/ml-32m.zip" in message
    # An empty directory (say, an interrupted unzip) is not the dataset either.
    (tmp_path / "ml-32m").mkdir()
    with pytest.raises(DatasetNotFoundError, match="ml-32m not found"):
        find_dataset("ml-32m", tmp_path)


def test_an_unknown_name_lists_the_known_ones(tmp_path: Path) -> None:
    with pytest.raises(DatasetNotFoundError, match="unknown dataset 'ml-1m'") as raised:
        find_dataset("ml-1m", tmp_path)
    assert all(name in str(raised.value) for name in DATASETS)
    # A FileNotFoundError too, so a CLI that reports missing files handles it without a new case.
    assert isinstance(raised.value, FileNotFoundError)
