"""The genre vocabulary metadata serves at ``/genres``.

The same ids and names as the movies service's vocabulary (a test holds the two identical): TMDB's
genre ids, the lingua franca of movie APIs, plus ids above TMDB's range for the MovieLens genres
TMDB lacks. Services share no modules, so the vocabulary is written out here rather than imported.
Source of the TMDB ids and names: TMDB API ``/genre/movie/list``.
"""

from __future__ import annotations

GENRES: dict[int, str] = {
    # TMDB /genre/movie/list
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
    # MovieLens genres without a TMDB counterpart
    100001: "Film-Noir",
    100002: "Musical",
    100003: "IMAX",
}
