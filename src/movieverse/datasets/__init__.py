"""Streaming parsers for the public movie datasets: MovieLens (100k, latest-small, 25m, 32m) and
the TMDB 5000 movies and credits CSVs. The catalog importers and the recommendation evaluation
build on them.

    dataset = read_movielens(find_dataset("ml-latest-small", root), report=bad_rows.append)
    for movie in dataset.movies(): ...
    for movie in read_tmdb_csv(path, report=bad_rows.append): ...
    for credits in read_tmdb_credits(path, report=bad_rows.append): ...

The GroupLens datasets can also be fetched: ``ensure_dataset(name, root, download=True)`` returns
the directory, downloading and verifying the official archive only when it is absent (see
:mod:`~movieverse.datasets.download`).

Bad rows are reported, never dropped silently: pass ``report`` (any ``Callable[[BadRow], None]``,
e.g. ``list.append`` or a logger) to collect them and carry on; without it the first bad row raises
:class:`BadRowError`. File-level problems (missing file or header column, undecodable bytes) raise
:class:`DatasetNotFoundError` / :class:`DatasetFormatError`. Per-file decisions are documented in
:mod:`~movieverse.datasets.movielens`, :mod:`~movieverse.datasets.tmdb` and
:mod:`~movieverse.datasets.tmdb_credits`.
"""

from movieverse.datasets.download import (
    DatasetDownloadError,
    Progress,
    download_dataset,
    ensure_dataset,
)
from movieverse.datasets.movielens import Layout, MovieLensDataset, read_movielens
from movieverse.datasets.records import (
    BadRow,
    BadRowError,
    DatasetError,
    DatasetFormatError,
    DatasetNotFoundError,
    MovieLensMovie,
    MovieLensRating,
    MovieLensTag,
    Report,
    TmdbCastMember,
    TmdbCredits,
    TmdbCrewMember,
    TmdbMovie,
)
from movieverse.datasets.registry import DATASETS, DatasetInfo, dataset_info, find_dataset
from movieverse.datasets.titles import ParsedTitle, move_trailing_article, parse_movielens_title
from movieverse.datasets.tmdb import read_tmdb_csv
from movieverse.datasets.tmdb_credits import read_tmdb_credits
from movieverse.datasets.values import normalise_imdb_id

__all__ = [
    "DATASETS",
    "BadRow",
    "BadRowError",
    "DatasetDownloadError",
    "DatasetError",
    "DatasetFormatError",
    "DatasetInfo",
    "DatasetNotFoundError",
    "Layout",
    "MovieLensDataset",
    "MovieLensMovie",
    "MovieLensRating",
    "MovieLensTag",
    "ParsedTitle",
    "Progress",
    "Report",
    "TmdbCastMember",
    "TmdbCredits",
    "TmdbCrewMember",
    "TmdbMovie",
    "dataset_info",
    "download_dataset",
    "ensure_dataset",
    "find_dataset",
    "move_trailing_article",
    "normalise_imdb_id",
    "parse_movielens_title",
    "read_movielens",
    "read_tmdb_credits",
    "read_tmdb_csv",
]
