"""The genre vocabulary: movies tags movies with these ids, metadata serves their names at
``/genres``, users' favourite genres and discover's filters name them.

TMDB's genre ids are the lingua franca of movie APIs, so the catalog uses them; the MovieLens
genres TMDB lacks get ids of their own above TMDB's range. Source of the TMDB ids and names: TMDB
API ``/genre/movie/list``.
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

GENRES: dict[int, str] = {**TMDB_GENRES, **EXTRA_GENRES}
