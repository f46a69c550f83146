"""Known datasets by name, looked up under a directory the caller chooses.

The caller passes the root (the importer: ``MOVIEVERSE_DATASETS_DIR``, else ``../shared/data``), so
this module reads no settings and no environment. Each dataset lives in ``<root>/<name>/`` as its
official archive unpacks.

Downloading is deliberately not here (this machine has no network). A downloader plugs in at
:func:`find_dataset`: on :class:`DatasetNotFoundError`, fetch ``DatasetInfo.url`` into a temporary
file under ``root``, verify it, unpack it to ``<root>/<name>/`` and rename into place (so a broken
download never looks like a dataset), then call :func:`find_dataset` again.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from movieverse.datasets.records import DatasetNotFoundError

GROUPLENS = "https://files.grouplens.org/datasets/movielens"


@dataclass(frozen=True, slots=True)
class DatasetInfo:
    name: str
    # The file whose presence says the directory holds this dataset (and selects the layout).
    marker: str
    # Official archive; None where the source needs a login (Kaggle).
    url: str | None
    source: str


DATASETS: dict[str, DatasetInfo] = {
    info.name: info
    for info in (
        DatasetInfo("ml-100k", "u.item", f"{GROUPLENS}/ml-100k.zip", "GroupLens MovieLens 100K"),
        DatasetInfo(
            "ml-latest-small",
            "movies.csv",
            f"{GROUPLENS}/ml-latest-small.zip",
            "GroupLens MovieLens latest-small",
        ),
        DatasetInfo("ml-25m", "movies.csv", f"{GROUPLENS}/ml-25m.zip", "GroupLens MovieLens 25M"),
        DatasetInfo("ml-32m", "movies.csv", f"{GROUPLENS}/ml-32m.zip", "GroupLens MovieLens 32M"),
        DatasetInfo(
            "tmdb-5000",
            "tmdb_5000_movies.csv",
            None,
            "Kaggle 'TMDB 5000 Movie Dataset' (tmdb_5000_movies.csv)",
        ),
    )
}


def find_dataset(name: str, root: str | os.PathLike[str]) -> Path:
    """The directory of dataset ``name`` under ``root``; DatasetNotFoundError says how to get it."""
    info = DATASETS.get(name)
    if info is None:
        known = ", ".join(DATASETS)
        raise DatasetNotFoundError(f"unknown dataset {name!r}; known datasets: {known}")
    directory = Path(root) / name
    if not (directory / info.marker).is_file():
        where = f"download {info.url}" if info.url else f"get the {info.source}"
        raise DatasetNotFoundError(
            f"dataset {name} not found: {directory / info.marker} does not exist; "
            f"{where} and unpack it so that {directory} holds {info.marker}"
        )
    return directory
