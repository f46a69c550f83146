"""The parsers on the real files in ../shared/data, read in place (skipped when absent).

Expected numbers come from a separate, deliberately plain reading of the same files (bytes split on
the delimiter, ``csv.DictReader``, ``json.loads``), never from the parsers, except the facts
PROVENANCE.md states, which are asserted as constants too.
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from movieverse.datasets import (
    BadRow,
    MovieLensMovie,
    MovieLensRating,
    MovieLensTag,
    TmdbMovie,
    find_dataset,
    read_movielens,
    read_tmdb_csv,
)

# Facts stated by ../shared/data/PROVENANCE.md.
ML_100K_RATINGS = 100_000
ML_100K_MOVIES = 1_682
ML_100K_RATING_DISTRIBUTION = {1.0: 6110, 2.0: 11370, 3.0: 27145, 4.0: 34174, 5.0: 21201}
ML_SMALL_RATINGS = 100_836
ML_SMALL_USERS = 610
ML_SMALL_MOVIES = 9_742
ML_SMALL_TAGS = 3_683
TMDB_MOVIES = 4_803
TMDB_MOVIES_JOINED_BY_ML_SMALL = 3_536


@dataclass
class Parsed:
    movies: list[MovieLensMovie]
    ratings: list[MovieLensRating]
    tags: list[MovieLensTag]
    bad: list[BadRow]


def parse_movielens(directory: Path) -> Parsed:
    bad: list[BadRow] = []
    dataset = read_movielens(directory, report=bad.append)
    return Parsed(list(dataset.movies()), list(dataset.ratings()), list(dataset.tags()), bad)


@pytest.fixture(scope="module")
def small(ml_small_dir: Path) -> Parsed:
    return parse_movielens(ml_small_dir)


@pytest.fixture(scope="module")
def ml100k(ml_100k_dir: Path) -> Parsed:
    return parse_movielens(ml_100k_dir)


@pytest.fixture(scope="module")
def tmdb(tmdb_file: Path) -> list[TmdbMovie]:
    bad: list[BadRow] = []
    movies = list(read_tmdb_csv(tmdb_file, report=bad.append))
    assert bad == []
    return movies


def dict_rows(path: Path) -> Iterator[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        yield from csv.DictReader(handle)


def byte_lines(path: Path) -> list[bytes]:
    return [line for line in path.read_bytes().split(b"\n") if line.strip()]


# ml-latest-small ------------------------------------------------------------------------------


def test_small_counts(small: Parsed, ml_small_dir: Path) -> None:
    assert small.bad == []
    movie_rows = list(dict_rows(ml_small_dir / "movies.csv"))
    tag_rows = list(dict_rows(ml_small_dir / "tags.csv"))
    # ratings.csv has no quoted fields: every line after the header is one rating.
    rating_lines = byte_lines(ml_small_dir / "ratings.csv")[1:]

    assert len(small.movies) == len(movie_rows) == ML_SMALL_MOVIES
    assert len(small.ratings) == len(rating_lines) == ML_SMALL_RATINGS
    assert len(small.tags) == len(tag_rows) == ML_SMALL_TAGS
    assert len({rating.user_id for rating in small.ratings}) == ML_SMALL_USERS
    assert Counter(rating.rating for rating in small.ratings) == Counter(
        float(line.split(b",")[2]) for line in rating_lines
    )
    assert Counter((t.user_id, t.movie_id, t.tag) for t in small.tags) == Counter(
        (int(row["userId"]), int(row["movieId"]), row["tag"].strip()) for row in tag_rows
    )


def test_small_movies_per_genre(small: Parsed, ml_small_dir: Path) -> None:
    expected: Counter[str] = Counter()
    for row in dict_rows(ml_small_dir / "movies.csv"):
        expected.update(row["genres"].split("|"))
    no_genres = expected.pop("(no genres listed)")

    assert Counter(genre for movie in small.movies for genre in movie.genres) == expected
    assert sum(1 for movie in small.movies if not movie.genres) == no_genres


def test_small_external_ids_come_from_links(small: Parsed, ml_small_dir: Path) -> None:
    expected = {
        int(row["movieId"]): (
            "tt" + row["imdbId"].zfill(7),
            int(row["tmdbId"]) if row["tmdbId"] else None,
        )
        for row in dict_rows(ml_small_dir / "links.csv")
    }
    assert {m.movie_id: (m.imdb_id, m.tmdb_id) for m in small.movies} == expected
    assert next(m for m in small.movies if m.movie_id == 1).imdb_id == "tt0114709"


def test_small_joins_tmdb_5000_through_tmdb_id(small: Parsed, tmdb_file: Path) -> None:
    tmdb_ids = {row["id"] for row in dict_rows(tmdb_file)}
    links = list(dict_rows(tmdb_file.parent.parent / "ml-latest-small" / "links.csv"))
    linked_movies = sum(1 for row in links if row["tmdbId"] in tmdb_ids)

    joined = [m for m in small.movies if m.tmdb_id is not None and str(m.tmdb_id) in tmdb_ids]
    # PROVENANCE counts TMDB movies reached; links.csv maps two MovieLens entries for
    # "Confessions of a Dangerous Mind (2002)" (6003, 144606) to the same tmdbId 4912, so one
    # more MovieLens movie than that joins. Both are kept: which is right is the importer's call.
    assert len({movie.tmdb_id for movie in joined}) == TMDB_MOVIES_JOINED_BY_ML_SMALL
    assert len(joined) == linked_movies
    assert sorted(m.movie_id for m in joined if m.tmdb_id == 4912) == [6003, 144606]


def test_small_titles(small: Parsed) -> None:
    by_id = {movie.movie_id: movie for movie in small.movies}
    assert (by_id[2571].title, by_id[2571].year) == ("The Matrix", 1999)
    assert by_id[29].title == "The City of Lost Children"
    assert by_id[29].alternate_titles == ("La Cité des enfants perdus",)
    assert (by_id[171749].title, by_id[171749].year) == ("Death Note: Desu nôto", 2006)
    assert (by_id[40697].title, by_id[40697].year) == ("Babylon 5", None)
    # Every title keeps its raw form, and trailing-article forms never survive in the display title.
    assert all(movie.raw_title for movie in small.movies)
    assert not [m.title for m in small.movies if m.title.endswith((", The", ", A", ", An"))]


# ml-100k ----------------------------------------------------------------------------------------


def test_100k_counts_and_rating_distribution(ml100k: Parsed, ml_100k_dir: Path) -> None:
    assert ml100k.bad == []
    data_lines = byte_lines(ml_100k_dir / "u.data")
    assert len(ml100k.ratings) == len(data_lines) == ML_100K_RATINGS
    assert len(ml100k.movies) == len(byte_lines(ml_100k_dir / "u.item")) == ML_100K_MOVIES
    distribution = Counter(rating.rating for rating in ml100k.ratings)
    assert distribution == ML_100K_RATING_DISTRIBUTION
    assert distribution == Counter(float(line.split(b"\t")[2]) for line in data_lines)
    assert ml100k.tags == []
    assert all(movie.imdb_id is None and movie.tmdb_id is None for movie in ml100k.movies)


def test_100k_movies_per_genre(ml100k: Parsed, ml_100k_dir: Path) -> None:
    names = {}
    for line in byte_lines(ml_100k_dir / "u.genre"):
        name, index = line.decode("ascii").split("|")
        names[int(index)] = name
    expected: Counter[str] = Counter()
    for line in byte_lines(ml_100k_dir / "u.item"):
        flags = line.split(b"|")[-len(names) :]
        expected.update(names[index] for index, flag in enumerate(flags) if flag == b"1")
    # "unknown" is u.genre's placeholder; the parser gives those movies no genre.
    expected.pop("unknown")

    assert len(names) == 19
    assert Counter(genre for movie in ml100k.movies for genre in movie.genres) == expected


def test_100k_titles_are_latin1(ml100k: Parsed, ml_100k_dir: Path) -> None:
    raw_titles = {}
    for line in byte_lines(ml_100k_dir / "u.item"):
        movie_id, title = line.split(b"|")[:2]
        if any(byte >= 0x80 for byte in title):
            raw_titles[int(movie_id)] = title.decode("latin-1")
    by_id = {movie.movie_id: movie for movie in ml100k.movies}

    assert {543, 1633} <= raw_titles.keys()
    assert {movie_id: by_id[movie_id].raw_title for movie_id in raw_titles} == raw_titles
    # Misérables, Les (1995): byte 0xE9 is "é" in Latin-1 (and would be invalid UTF-8).
    assert (by_id[543].title, by_id[543].year) == ("Les Misérables", 1995)
    assert (by_id[1633].title, by_id[1633].alternate_titles) == ("Á köldum klaka", ("Cold Fever",))
    assert by_id[1412].year == 1995  # "... (1995) (V)"
    assert by_id[267].title == "unknown"
    assert by_id[267].genres == ()


# TMDB 5000 -------------------------------------------------------------------------------------


def pairs(text: str, key: str) -> tuple[tuple[object, str], ...]:
    return tuple((item[key], item["name"]) for item in json.loads(text))


def test_tmdb_counts_and_json_columns(tmdb: list[TmdbMovie], tmdb_file: Path) -> None:
    rows = {int(row["id"]): row for row in dict_rows(tmdb_file)}
    assert len(tmdb) == len(rows) == TMDB_MOVIES
    for movie in tmdb:
        row = rows[movie.tmdb_id]
        assert movie.title == row["title"]
        assert movie.genres == pairs(row["genres"], "id")
        assert movie.keywords == pairs(row["keywords"], "id")
        assert movie.production_companies == pairs(row["production_companies"], "id")
        assert movie.production_countries == pairs(row["production_countries"], "iso_3166_1")
        assert movie.spoken_languages == pairs(row["spoken_languages"], "iso_639_1")
    unknown_runtime = sum(1 for row in rows.values() if row["runtime"] in {"", "0", "0.0"})
    assert sum(1 for movie in tmdb if movie.runtime is None) == unknown_runtime


def test_tmdb_avatar(tmdb: list[TmdbMovie]) -> None:
    avatar = next(movie for movie in tmdb if movie.tmdb_id == 19995)
    assert avatar.title == "Avatar"
    assert avatar.genres == (
        (28, "Action"),
        (12, "Adventure"),
        (14, "Fantasy"),
        (878, "Science Fiction"),
    )
    assert avatar.release_date is not None
    assert avatar.release_date.isoformat() == "2009-12-10"
    assert (avatar.runtime, avatar.budget) == (162, 237_000_000)


def test_tmdb_carriage_returns_stay_inside_overviews(tmdb: list[TmdbMovie]) -> None:
    # Three overviews hold a lone "\r"; reading them must neither split nor drop those rows.
    with_cr = [movie.tmdb_id for movie in tmdb if movie.overview and "\r" in movie.overview]
    assert sorted(with_cr) == [11342, 11891, 25248]


def test_registry_finds_the_shared_datasets(ml_small_dir: Path, ml_100k_dir: Path) -> None:
    root = ml_small_dir.parent
    assert find_dataset("ml-latest-small", root) == ml_small_dir
    assert find_dataset("ml-100k", root) == ml_100k_dir
