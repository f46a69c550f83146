"""Known datasets by name, looked up under a directory the caller chooses.

The caller passes the root (the importer: ``MOVIEVERSE_DATASETS_DIR``, else ``../shared/data``), so
this module reads no settings and no environment. Each dataset lives in ``<root>/<name>/`` as its
official archive unpacks.

Downloading lives in :mod:`~movieverse.datasets.download` and plugs in at :func:`find_dataset`:
``ensure_dataset`` calls it, and only on :class:`DatasetNotFoundError` fetches ``DatasetInfo.url``
into a temporary directory under ``root``, verifies it against ``DatasetInfo.sha256``, unpacks it
and renames ``<name>/`` into place, so a broken download never looks like a dataset.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from movieverse.datasets.records import DatasetNotFoundError

GROUPLENS = "https://files.grouplens.org/datasets/movielens"
MIB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class DatasetInfo:
    name: str
    # The file whose presence says the directory holds this dataset (and selects the layout).
    marker: str
    # Official archive; None where the source needs a login (Kaggle).
    url: str | None
    source: str
    # SHA-256 of the official archive (lowercase hex). Pinned: a download that differs is refused,
    # so a changed archive has to be reviewed here rather than be imported unnoticed.
    sha256: str | None = None
    # Most bytes a download may take: well above the archive's size, so a server sending far more
    # is cut off before it fills the disk (the checksum would reject it, but only at the end).
    max_archive_bytes: int | None = None
    # Files that may sit beside the marker; readers that use them check for them themselves.
    optional_files: tuple[str, ...] = ()


# The SHA-256 figures below are the published checksums of the official GroupLens archives
# (GroupLens itself also publishes MD5 files, noted where known; MD5 is not verified: it no longer
# protects against a deliberately altered file).
DATASETS: dict[str, DatasetInfo] = {
    info.name: info
    for info in (
        DatasetInfo(
            "ml-100k",
            "u.item",
            f"{GROUPLENS}/ml-100k.zip",
            "GroupLens MovieLens 100K",
            # GroupLens's ml-100k.zip.md5: 0e33842e24a9c977be4e0107933c0723
            sha256="50d2a982c66986937beb9ffb3aa76efe955bf3d5c6b761f4e3a7cd717c6a3229",
            max_archive_bytes=32 * MIB,  # the archive is about 5 MB
        ),
        DatasetInfo(
            "ml-latest-small",
            "movies.csv",
            f"{GROUPLENS}/ml-latest-small.zip",
            "GroupLens MovieLens latest-small",
            sha256="696d65a3dfceac7c45750ad32df2c259311949efec81f0f144fdfb91ebc9e436",
            max_archive_bytes=4 * MIB,  # the archive is 978,202 bytes
        ),
        DatasetInfo(
            "ml-25m",
            "movies.csv",
            f"{GROUPLENS}/ml-25m.zip",
            "GroupLens MovieLens 25M",
            # GroupLens's ml-25m.zip.md5: 6b51fb2759a8657d3bfcbfc42b592ada
            sha256="8b21cfb7eb1706b4ec0aac894368d90acf26ebdfb6aced3ebd4ad5bd1eb9c6aa",
            max_archive_bytes=1024 * MIB,  # the archive is about 250 MB
        ),
        DatasetInfo(
            "ml-32m",
            "movies.csv",
            f"{GROUPLENS}/ml-32m.zip",
            "GroupLens MovieLens 32M",
            sha256="e4a68655d7386b8f95f2f2424b2ff975dfdd15ffd59e0d864a14dca43e99d6ee",
            max_archive_bytes=1024 * MIB,  # the archive is about 240 MB
        ),
        DatasetInfo(
            "tmdb-5000",
            "tmdb_5000_movies.csv",
            None,
            "Kaggle 'TMDB 5000 Movie Dataset' (tmdb_5000_movies.csv, tmdb_5000_credits.csv)",
            # The credits file is a separate download on Kaggle: movies import without it.
            optional_files=("tmdb_5000_credits.csv",),
        ),
    )
}


def dataset_info(name: str) -> DatasetInfo:
    """The registry entry of ``name``; DatasetNotFoundError lists the known names."""
    info = DATASETS.get(name)
    if info is None:
        known = ", ".join(DATASETS)
        raise DatasetNotFoundError(f"unknown dataset {name!r}; known datasets: {known}")
    return info


def find_dataset(name: str, root: str | os.PathLike[str]) -> Path:
    """The directory of dataset ``name`` under ``root``; DatasetNotFoundError says how to get it."""
    info = dataset_info(name)
    directory = Path(root) / name
    if not (directory / info.marker).is_file():
        where = f"download {info.url}" if info.url else f"get the {info.source}"
        raise DatasetNotFoundError(
            f"dataset {name} not found: {directory / info.marker} does not exist; "
            f"{where} and unpack it so that {directory} holds {info.marker}"
        )
    return directory
