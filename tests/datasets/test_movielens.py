"""MovieLens parsing on small synthetic files: layouts, bad rows, encodings, lines, streaming."""

from __future__ import annotations

import inspect
import tracemalloc
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path

import pytest

from movieverse.datasets import (
    BadRow,
    BadRowError,
    DatasetFormatError,
    DatasetNotFoundError,
    MovieLensMovie,
    MovieLensRating,
    read_movielens,
)

MOVIES_HEADER = "movieId,title,genres\n"
LINKS_HEADER = "movieId,imdbId,tmdbId\n"
RATINGS_HEADER = "userId,movieId,rating,timestamp\n"
TAGS_HEADER = "userId,movieId,tag,timestamp\n"
U_GENRE = "unknown|0\nAction|1\nComedy|2\n\n"


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def csv_layout(
    root: Path,
    *,
    movies: str = "",
    links: str = "",
    ratings: str = "",
    tags: str = "",
) -> Path:
    write(root / "movies.csv", MOVIES_HEADER + movies)
    write(root / "links.csv", LINKS_HEADER + links)
    write(root / "ratings.csv", RATINGS_HEADER + ratings)
    write(root / "tags.csv", TAGS_HEADER + tags)
    return root


def layout_100k(root: Path, *, items: str, data: str = "", genres: str = U_GENRE) -> Path:
    write(root / "u.genre", genres, "latin-1")
    write(root / "u.item", items, "latin-1")
    write(root / "u.data", data, "latin-1")
    return root


def item(movie_id: int | str, title: str, flags: str) -> str:
    return f"{movie_id}|{title}|01-Jan-1995||http://us.imdb.com/M/title-exact?x|{flags}\n"


# Layouts --------------------------------------------------------------------------------------


def test_layout_is_detected_from_the_files_present(tmp_path: Path) -> None:
    (tmp_path / "csv").mkdir()
    (tmp_path / "100k").mkdir()
    assert read_movielens(csv_layout(tmp_path / "csv")).layout == "csv"
    assert read_movielens(layout_100k(tmp_path / "100k", items="")).layout == "100k"


def test_layout_errors_are_clear(tmp_path: Path) -> None:
    with pytest.raises(DatasetNotFoundError, match="not a directory"):
        read_movielens(tmp_path / "absent")
    with pytest.raises(DatasetNotFoundError, match=r"no movies\.csv .* or u\.item"):
        read_movielens(tmp_path)
    csv_layout(tmp_path)
    write(tmp_path / "u.item", "")
    with pytest.raises(DatasetFormatError, match="both"):
        read_movielens(tmp_path)


def test_a_missing_file_fails_when_its_iterator_is_asked_for(tmp_path: Path) -> None:
    csv_layout(tmp_path)
    (tmp_path / "links.csv").unlink()
    (tmp_path / "ratings.csv").unlink()
    dataset = read_movielens(tmp_path)
    # Not at the first next(): the importer learns before it starts a transaction.
    with pytest.raises(DatasetNotFoundError, match=r"links\.csv"):
        dataset.movies()
    with pytest.raises(DatasetNotFoundError, match=r"ratings\.csv"):
        dataset.ratings()
    assert list(dataset.tags()) == []


def test_missing_header_columns_make_the_file_unreadable(tmp_path: Path) -> None:
    csv_layout(tmp_path)
    write(tmp_path / "ratings.csv", "userId,movieId,timestamp\n1,2,964982703\n")
    with pytest.raises(DatasetFormatError, match=r"ratings\.csv:1: missing column\(s\) rating"):
        list(read_movielens(tmp_path).ratings())


# Movies and links -------------------------------------------------------------------------------


def test_movies_join_links_and_normalise_external_ids(tmp_path: Path) -> None:
    csv_layout(
        tmp_path,
        movies=(
            "1,Toy Story (1995),Adventure|Animation|Children\n"
            '2,"City of Lost Children, The (Cité des enfants perdus, La) (1995)",Drama|Sci-Fi\n'
            "3,Hyena Road,(no genres listed)\n"
            "4,No Link (2001),Drama\n"
        ),
        links="1,0114709,862\n2,112682,902\n3,4382872,\n",
    )
    movies = list(read_movielens(tmp_path).movies())
    assert movies == [
        MovieLensMovie(
            movie_id=1,
            title="Toy Story",
            raw_title="Toy Story (1995)",
            year=1995,
            genres=("Adventure", "Animation", "Children"),
            imdb_id="tt0114709",
            tmdb_id=862,
        ),
        MovieLensMovie(
            movie_id=2,
            title="The City of Lost Children",
            raw_title="City of Lost Children, The (Cité des enfants perdus, La) (1995)",
            year=1995,
            genres=("Drama", "Sci-Fi"),
            imdb_id="tt0112682",
            tmdb_id=902,
            alternate_titles=("La Cité des enfants perdus",),
        ),
        MovieLensMovie(
            movie_id=3,
            title="Hyena Road",
            raw_title="Hyena Road",
            year=None,
            genres=(),
            imdb_id="tt4382872",
            tmdb_id=None,
        ),
        MovieLensMovie(
            movie_id=4,
            title="No Link",
            raw_title="No Link (2001)",
            year=2001,
            genres=("Drama",),
            imdb_id=None,
            tmdb_id=None,
        ),
    ]


def test_bad_movie_and_link_rows_are_reported_with_file_line_and_reason(tmp_path: Path) -> None:
    csv_layout(
        tmp_path,
        movies=(
            "1,Heat (1995),Action\n"  # line 2
            "abc,Garbage Id (1995),Drama\n"  # 3: non-numeric id
            "1,Heat Again (1995),Action\n"  # 4: duplicated id
            "5,Too Few Fields\n"  # 5: missing column
            '6,"Quoted, with\nnewline (1999)",Drama\n'  # 6-7: one record over two lines
            "7,,Drama\n"  # 8: empty title
            "8,Last (2000),Comedy\n"  # 9
        ),
        links=(
            "1,0113277,949\n"  # 2
            "6,tt0000006,\n"  # 3
            "7,not-an-id,7\n"  # 4: garbage imdbId
            "8,0000008,x8\n"  # 5: garbage tmdbId
            "1,0113277,949\n"  # 6: duplicated movieId
            "99,0000099,99\n"  # 7: no such movie
        ),
    )
    bad: list[BadRow] = []
    movies = list(read_movielens(tmp_path, report=bad.append).movies())

    assert [(m.movie_id, m.title) for m in movies] == [
        (1, "Heat"),
        (6, "Quoted, with\nnewline"),
        (8, "Last"),
    ]
    assert movies[1].imdb_id == "tt0000006"
    assert movies[2].imdb_id is None  # its links row was bad, and is reported below
    movies_csv, links_csv = str(tmp_path / "movies.csv"), str(tmp_path / "links.csv")
    assert bad == [
        BadRow(links_csv, 4, "imdbId: expected IMDb digits or tt-id, got 'not-an-id'"),
        BadRow(links_csv, 5, "tmdbId: expected a positive integer, got 'x8'"),
        BadRow(links_csv, 6, "duplicate movieId 1 (first at line 2; the first is kept)"),
        BadRow(movies_csv, 3, "movieId: expected a positive integer, got 'abc'"),
        BadRow(movies_csv, 4, "duplicate movieId 1 (first at line 2; the first is kept)"),
        BadRow(movies_csv, 5, "expected 3 fields, found 2"),
        BadRow(movies_csv, 8, "title: empty"),
        BadRow(links_csv, 7, "movieId 99 is not in movies.csv"),
    ]


def test_without_a_report_the_first_bad_row_raises(tmp_path: Path) -> None:
    csv_layout(tmp_path, movies="1,Heat (1995),Action\nx,Bad,Drama\n", links="1,0113277,949\n")
    movies = read_movielens(tmp_path).movies()
    assert next(movies).movie_id == 1
    with pytest.raises(BadRowError) as raised:
        next(movies)
    assert raised.value.bad_row == BadRow(
        str(tmp_path / "movies.csv"), 3, "movieId: expected a positive integer, got 'x'"
    )
    assert str(raised.value) == f"{tmp_path / 'movies.csv'}:3: {raised.value.bad_row.reason}"


def test_bom_crlf_and_quoting_do_not_change_the_result(tmp_path: Path) -> None:
    plain, dressed = tmp_path / "plain", tmp_path / "dressed"
    plain.mkdir()
    dressed.mkdir()
    movies = '1,"Postman, The (Postino, Il) (1994)",Comedy|Drama\n2,Babe (1995),Children\n'
    links = "1,0110877,11010\n2,0112431,9598\n"
    csv_layout(plain, movies=movies, links=links)
    write(dressed / "movies.csv", "\ufeff" + (MOVIES_HEADER + movies).replace("\n", "\r\n"))
    write(dressed / "links.csv", "\ufeff" + LINKS_HEADER + links)
    expected = list(read_movielens(plain).movies())
    assert list(read_movielens(dressed).movies()) == expected
    assert expected[0].title == "The Postman"
    assert expected[0].alternate_titles == ("Il Postino",)


def test_an_unclosed_quote_is_reported_with_the_lines_it_swallowed(tmp_path: Path) -> None:
    csv_layout(
        tmp_path,
        movies='1,Heat (1995),Action\n2,"Unclosed (1995),Drama\n3,Casino (1995),Crime\n',
        links="1,0113277,949\n",
    )
    bad: list[BadRow] = []
    movies = list(read_movielens(tmp_path, report=bad.append).movies())
    assert [movie.movie_id for movie in movies] == [1]
    assert bad == [
        BadRow(str(tmp_path / "movies.csv"), 3, "expected 3 fields, found 2 (row spans lines 3-4)")
    ]


def test_a_row_the_csv_module_rejects_is_reported_and_reading_goes_on(tmp_path: Path) -> None:
    csv_layout(
        tmp_path,
        movies="1,Heat (1995),Action\n2,Lone\rCR (1995),Drama\n3,Casino (1995),Crime\n",
        links="",
    )
    bad: list[BadRow] = []
    movies = list(read_movielens(tmp_path, report=bad.append).movies())
    assert [movie.movie_id for movie in movies] == [1, 3]
    assert [(row.line, row.reason.split(" - ")[0]) for row in bad] == [
        (3, "malformed CSV: new-line character seen in unquoted field")
    ]


def test_undecodable_utf8_is_a_file_error(tmp_path: Path) -> None:
    csv_layout(tmp_path, links="")
    (tmp_path / "movies.csv").write_bytes(
        MOVIES_HEADER.encode() + b"1,Mis\xe9rables (1995),Drama\n"
    )
    with pytest.raises(DatasetFormatError, match="not valid UTF-8"):
        list(read_movielens(tmp_path).movies())


# Ratings and tags -------------------------------------------------------------------------------


def test_ratings_are_parsed_and_bad_ones_reported(tmp_path: Path) -> None:
    csv_layout(
        tmp_path,
        ratings=(
            "1,1,4.0,964982703\n"  # 2
            "1,3,0.5,964981247\n"  # 3
            "1,3,5.0,964981248\n"  # 4: the same user rates the same movie again
            "1,6,5.5,964982224\n"  # 5: off the scale
            "1,7,three,964982224\n"  # 6
            "1,8,3.0,\n"  # 7: empty timestamp
            "2,3,2.5,1445714835\n"  # 8: another user, same movie: fine
            "-2,3,2.5,1445714835\n"  # 9
        ),
    )
    bad: list[BadRow] = []
    ratings = list(read_movielens(tmp_path, report=bad.append).ratings())
    assert ratings == [
        MovieLensRating(1, 1, 4.0, datetime(2000, 7, 30, 18, 45, 3, tzinfo=UTC), line=2),
        MovieLensRating(1, 3, 0.5, datetime(2000, 7, 30, 18, 20, 47, tzinfo=UTC), line=3),
        MovieLensRating(2, 3, 2.5, datetime(2015, 10, 24, 19, 27, 15, tzinfo=UTC), line=8),
    ]
    file = str(tmp_path / "ratings.csv")
    assert bad == [
        BadRow(
            file, 4, "duplicate rating of movie 3 by user 1 (first at line 3; the first is kept)"
        ),
        BadRow(file, 5, "rating: expected 0.5 to 5.0 in steps of 0.5, got '5.5'"),
        BadRow(file, 6, "rating: expected 0.5 to 5.0 in steps of 0.5, got 'three'"),
        BadRow(file, 7, "timestamp: expected Unix seconds, got ''"),
        BadRow(file, 9, "userId: expected a positive integer, got '-2'"),
    ]


def test_tags_keep_commas_and_repeats_and_report_empty_tags(tmp_path: Path) -> None:
    csv_layout(
        tmp_path,
        tags=(
            '2,60756,"funny, very",1445714994\n'
            "2,60756,  Highly quotable ,1445714996\n"
            "2,60756,Highly quotable,1445714997\n"
            "2,60756,   ,1445714998\n"
            "2,x,funny,1445714999\n"
        ),
    )
    bad: list[BadRow] = []
    tags = list(read_movielens(tmp_path, report=bad.append).tags())
    assert [(tag.user_id, tag.movie_id, tag.tag) for tag in tags] == [
        (2, 60756, "funny, very"),
        (2, 60756, "Highly quotable"),
        (2, 60756, "Highly quotable"),
    ]
    assert tags[0].timestamp == datetime(2015, 10, 24, 19, 29, 54, tzinfo=UTC)
    file = str(tmp_path / "tags.csv")
    assert bad == [
        BadRow(file, 5, "tag: empty"),
        BadRow(file, 6, "movieId: expected a positive integer, got 'x'"),
    ]


# Streaming --------------------------------------------------------------------------------------


def test_ratings_are_parsed_lazily(tmp_path: Path) -> None:
    good = "".join(f"1,{movie},4.0,964982703\n" for movie in range(1, 11))
    csv_layout(tmp_path, ratings=good + "1,11,not-a-rating,964982703\n")
    dataset = read_movielens(tmp_path)  # strict: parsing the bad row would raise
    assert inspect.isgenerator(dataset.ratings())
    ratings = dataset.ratings()
    assert [rating.movie_id for rating in islice(ratings, 10)] == list(range(1, 11))
    with pytest.raises(BadRowError, match=r"ratings\.csv:12: rating"):
        next(ratings)


def test_ratings_stream_in_memory_bounded_by_one_user(tmp_path: Path) -> None:
    rows = 20_000
    csv_layout(
        tmp_path,
        ratings="".join(f"{1 + n // 100},{1 + n % 100},3.5,964982703\n" for n in range(rows)),
    )
    dataset = read_movielens(tmp_path)

    tracemalloc.start()
    try:
        count = sum(1 for _ in dataset.ratings())
        _, streaming_peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        materialised = list(dataset.ratings())
        _, list_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == len(materialised) == rows
    # Streaming holds a read buffer and one user's ratings; a list holds every record.
    assert streaming_peak * 10 < list_peak


# ml-100k ----------------------------------------------------------------------------------------


def test_100k_movies_decode_latin1_and_name_genres_from_u_genre(tmp_path: Path) -> None:
    layout_100k(
        tmp_path,
        items=(
            item(543, "Misérables, Les (1995)", "0|0|1")
            + item(267, "unknown", "1|0|0")
            + item(1, "Toy Story (1995)", "0|1|1")
        ),
    )
    movies = list(read_movielens(tmp_path).movies())
    assert [(m.movie_id, m.title, m.year, m.genres) for m in movies] == [
        (543, "Les Misérables", 1995, ("Comedy",)),
        (267, "unknown", None, ()),  # the "unknown" genre is a placeholder, like no genre
        (1, "Toy Story", 1995, ("Action", "Comedy")),
    ]
    assert movies[0].raw_title == "Misérables, Les (1995)"
    assert all(m.imdb_id is None and m.tmdb_id is None for m in movies)
    assert list(read_movielens(tmp_path).tags()) == []


def test_100k_utf8_copy_with_bom_is_read_as_utf8(tmp_path: Path) -> None:
    layout_100k(tmp_path, items="")
    write(tmp_path / "u.item", "\ufeff" + item(543, "Misérables, Les (1995)", "0|0|1"), "utf-8")
    assert [m.title for m in read_movielens(tmp_path).movies()] == ["Les Misérables"]


def test_100k_bad_items_are_reported(tmp_path: Path) -> None:
    layout_100k(
        tmp_path,
        genres="Action|0\nComedy|1\nDrama|3\n",  # no genre with index 2
        items=(
            item(1, "Toy Story (1995)", "0|1|0|0")  # 1
            + item(2, "Flag Two (1995)", "0|2|0|0")  # 2: flag not 0/1
            + item(3, "Unknown Index (1995)", "0|0|1|0")  # 3: index 2 is not in u.genre
            + item(4, "Too Many Flags (1995)", "0|0|0|0|1")  # 4
            + item("x", "Bad Id (1995)", "0|0|0|1")  # 5
            + item(1, "Duplicate (1995)", "1|0|0|0")  # 6
            + item(7, "Drama (1995)", "0|0|0|1")  # 7
        ),
    )
    bad: list[BadRow] = []
    movies = list(read_movielens(tmp_path, report=bad.append).movies())
    assert [(m.movie_id, m.genres) for m in movies] == [(1, ("Comedy",)), (7, ("Drama",))]
    file = str(tmp_path / "u.item")
    assert bad == [
        BadRow(file, 2, "genre flag 1: expected 0 or 1, got '2'"),
        BadRow(file, 3, "genre flag 2 is set but u.genre names no genre 2"),
        BadRow(file, 4, "expected 9 fields (u.genre defines 4 genre flags), found 10"),
        BadRow(file, 5, "movie id: expected a positive integer, got 'x'"),
        BadRow(file, 6, "duplicate movie id 1 (first at line 1; the first is kept)"),
    ]


def test_100k_broken_u_genre_is_a_file_error(tmp_path: Path) -> None:
    layout_100k(tmp_path, items=item(1, "Toy Story (1995)", "0|1|0"), genres="Action|0\nComedy\n")
    with pytest.raises(DatasetFormatError, match=r"u\.genre:2: expected 'name\|index'"):
        list(read_movielens(tmp_path).movies())
    write(tmp_path / "u.genre", "Action|0\nComedy|0\n")
    with pytest.raises(DatasetFormatError, match="genre index 0 appears twice"):
        list(read_movielens(tmp_path).movies())


def test_100k_ratings_are_tab_separated_and_checked(tmp_path: Path) -> None:
    layout_100k(
        tmp_path,
        items="",
        data=(
            "196\t242\t3\t881250949\n"  # 1
            "186\t302\t3\t891717742\n"  # 2
            "196\t242\t5\t881250950\n"  # 3: unordered file, duplicate far from the first
            "22\t377\t0\t878887116\n"  # 4: rating 0 is not on the scale
            "22 377 1 878887116\n"  # 5: spaces, not tabs
            "\n"  # 6: blank
            "244\t51\t2\t880606923\n"  # 7
        ),
    )
    bad: list[BadRow] = []
    ratings = list(read_movielens(tmp_path, report=bad.append).ratings())
    assert [(r.user_id, r.movie_id, r.rating) for r in ratings] == [
        (196, 242, 3.0),
        (186, 302, 3.0),
        (244, 51, 2.0),
    ]
    assert ratings[0].timestamp == datetime(1997, 12, 4, 15, 55, 49, tzinfo=UTC)
    file = str(tmp_path / "u.data")
    assert bad == [
        BadRow(
            file,
            3,
            "duplicate rating of movie 242 by user 196 (first at line 1; the first is kept)",
        ),
        BadRow(file, 4, "rating: expected 0.5 to 5.0 in steps of 0.5, got '0'"),
        BadRow(file, 5, "expected 4 tab-separated fields, found 1"),
    ]
