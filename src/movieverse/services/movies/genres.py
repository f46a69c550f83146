"""MovieLens genre names onto the shared vocabulary's ids (``movieverse.contracts.genres``)."""

from __future__ import annotations

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
