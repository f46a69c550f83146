"""The genre vocabulary of the catalog.

TMDB's genre ids are the lingua franca of movie APIs, so the catalog uses them. MovieLens names
map onto them; the few MovieLens genres TMDB lacks get ids of their own above TMDB's range.
Source of the TMDB ids and names: TMDB API ``/genre/movie/list``.
"""

from __future__ import annotations

TMDB_GENRES: dict[int, str] = {
    28: "Action",
    12: "Adventure",
    16: "Animation",
    35: "Comedy",
    80: "Crime",
    99: "Documentary",
    18: "Drama",
    10751: "Family",
    14: "Fantasy",
    36: "History",
    27: "Horror",
    10402: "Music",
    9648: "Mystery",
    10749: "Romance",
    878: "Science Fiction",
    10770: "TV Movie",
    53: "Thriller",
    10752: "War",
    37: "Western",
}

# MovieLens genres without a TMDB counterpart.
EXTRA_GENRES: dict[int, str] = {
    100001: "Film-Noir",
    100002: "Musical",
    100003: "IMAX",
}

ALL_GENRES: dict[int, str] = {**TMDB_GENRES, **EXTRA_GENRES}

# MovieLens genre name -> catalog genre id.
MOVIELENS_GENRES: dict[str, int] = {
    "Action": 28,
    "Adventure": 12,
    "Animation": 16,
    "Children": 10751,
    "Children's": 10751,
    "Comedy": 35,
    "Crime": 80,
    "Documentary": 99,
    "Drama": 18,
    "Fantasy": 14,
    "Film-Noir": 100001,
    "Horror": 27,
    "IMAX": 100003,
    "Musical": 100002,
    "Mystery": 9648,
    "Romance": 10749,
    "Sci-Fi": 878,
    "Thriller": 53,
    "War": 10752,
    "Western": 37,
}
