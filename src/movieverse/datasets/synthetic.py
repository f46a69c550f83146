"""A deterministic synthetic catalog, written in the public datasets' own formats.

The first ``make run`` on a machine without MovieLens files or Internet access still needs a
catalog worth browsing. :func:`write_synthetic_catalog` writes one into a folder, in the formats
the importers already read, so it goes through exactly the same import path as real data:

- ``tmdb/tmdb_5000_movies.csv`` and ``tmdb/tmdb_5000_credits.csv``: movies with overviews,
  genres, keywords, companies, countries, languages, budgets, scores; cast and crew;
- ``movielens/``: ``movies.csv``, ``links.csv`` (to the TMDB ids above), ``ratings.csv`` and
  ``tags.csv``, in ml-latest-small's layout, plus a README saying what this is.

Every id (movie, person, keyword, company, MovieLens movie) starts at ``SYNTHETIC_ID_BASE``, far
above any real TMDB or MovieLens id, so a real import later never mistakes a synthetic movie for
a real one. The same seed gives byte-identical files. The TMDB file's ``vote_average`` and
``vote_count`` are 0: a movie's score is its ratings (imported with the MovieLens part), which
would otherwise be counted twice -- once as TMDB's votes, once as MovieVerse's ratings.
"""

from __future__ import annotations

import csv
import itertools
import json
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

SYNTHETIC_ID_BASE = 2_000_000_000
DEFAULT_MOVIES = 2_500
DEFAULT_USERS = 610
DEFAULT_SEED = 20261201

# TMDB genre id -> (name, share of movies that have it, MovieLens name or None).
_GENRES: dict[int, tuple[str, float, str | None]] = {
    18: ("Drama", 0.45, "Drama"),
    35: ("Comedy", 0.33, "Comedy"),
    53: ("Thriller", 0.25, "Thriller"),
    28: ("Action", 0.22, "Action"),
    10749: ("Romance", 0.18, "Romance"),
    12: ("Adventure", 0.16, "Adventure"),
    80: ("Crime", 0.15, "Crime"),
    878: ("Science Fiction", 0.11, "Sci-Fi"),
    27: ("Horror", 0.11, "Horror"),
    10751: ("Family", 0.10, "Children"),
    14: ("Fantasy", 0.09, "Fantasy"),
    9648: ("Mystery", 0.08, "Mystery"),
    16: ("Animation", 0.05, "Animation"),
    36: ("History", 0.04, None),
    10402: ("Music", 0.04, None),
    99: ("Documentary", 0.03, "Documentary"),
    10752: ("War", 0.03, "War"),
    37: ("Western", 0.02, "Western"),
    10770: ("TV Movie", 0.01, None),
}
# (ISO 639-1, English name, weight, ISO 3166-1 of a country that speaks it, its name)
_LANGUAGES = (
    ("en", "English", 70, "US", "United States of America"),
    ("fr", "Français", 6, "FR", "France"),
    ("es", "Español", 5, "ES", "Spain"),
    ("ja", "日本語", 4, "JP", "Japan"),
    ("ko", "한국어/조선말", 3, "KR", "South Korea"),
    ("de", "Deutsch", 3, "DE", "Germany"),
    ("it", "Italiano", 3, "IT", "Italy"),
    ("hi", "हिन्दी", 2, "IN", "India"),
    ("zh", "普通话", 2, "CN", "China"),
    ("sv", "svenska", 1, "SE", "Sweden"),
    ("pt", "Português", 1, "BR", "Brazil"),
)
_ADJECTIVES = (
    "Silent", "Last", "Broken", "Hidden", "Crimson", "Golden", "Lost", "Midnight", "Burning",
    "Frozen", "Electric", "Distant", "Wild", "Quiet", "Savage", "Hollow", "Bright", "Secret",
    "Endless", "Fallen", "Iron", "Velvet", "Paper", "Glass", "Northern", "Restless", "Little",
    "Second", "Final", "Impossible", "Beautiful", "Dark", "Open", "Empty", "Forgotten", "Sunday",
)  # fmt: skip
_NOUNS = (
    "Harbor", "Protocol", "Summer", "River", "Garden", "Signal", "Empire", "Horizon", "Witness",
    "Orchard", "Frontier", "Mirror", "Echo", "Voyage", "Station", "Kingdom", "Promise", "Storm",
    "Lighthouse", "Detective", "Machine", "Orchestra", "Island", "Letter", "Shadow", "Valley",
    "Circus", "Bridge", "Archive", "Comet", "Winter", "Parade", "Hotel", "Heist", "Tide",
    "Ballad", "Factory", "Crossing", "Dynasty", "Carnival", "Engine", "Labyrinth", "Sister",
)  # fmt: skip
_PLACES = (
    "Marlow Bay", "the North", "Saint Agnes", "Kestrel Point", "the Dunes", "Old Town",
    "Avalon Street", "the Valley", "Port Lune", "Ashford", "the Moon", "Ravenna", "Cedar Falls",
)  # fmt: skip
_FIRST_NAMES = (
    "Ana", "Ben", "Clara", "Daniel", "Elena", "Felix", "Grace", "Hugo", "Iris", "Jonas", "Kai",
    "Lena", "Marco", "Nina", "Oscar", "Paula", "Quentin", "Rosa", "Samuel", "Tara", "Umar",
    "Vera", "Walter", "Ximena", "Yusuf", "Zoe", "Amara", "Bruno", "Chiara", "Dmitri", "Esther",
    "Farid", "Greta", "Hiro", "Ines", "Jasper", "Keiko", "Luca", "Maya", "Nikolai", "Olga",
    "Pedro", "Rhea", "Soren", "Thea", "Viktor", "Wren", "Yara", "Aiko", "Emil",
)  # fmt: skip
_LAST_NAMES = (
    "Almeida", "Brandt", "Castellano", "Dubois", "Eriksen", "Fontaine", "Garcia", "Hartmann",
    "Ivanova", "Jensen", "Kowalski", "Lindqvist", "Moreau", "Nakamura", "Okafor", "Petrov",
    "Quinn", "Rossi", "Sato", "Tanaka", "Ueda", "Varga", "Whitaker", "Xu", "Yilmaz", "Zhang",
    "Abbott", "Bellamy", "Carver", "Delgado", "Ellison", "Fairbanks", "Gallagher", "Holloway",
    "Iwasaki", "Jovanovic", "Kaur", "Laurent", "Mbeki", "Novak", "Oyelaran", "Park", "Reyes",
)  # fmt: skip
_ROLES = (
    "a retired detective", "two estranged sisters", "a young cartographer", "a disgraced chef",
    "an ambitious reporter", "a lonely astronaut", "a small-town mechanic", "a jazz pianist",
    "a grieving father", "a runaway heiress", "an undercover agent", "a stubborn botanist",
)  # fmt: skip
_EVENTS = (
    "discovers a letter that should not exist", "is framed for a crime nobody saw",
    "inherits a failing hotel", "wakes up with no memory of the last year",
    "receives a signal from deep space", "stumbles on a forgotten family secret",
    "is drafted into an impossible heist", "loses everything in a single night",
)  # fmt: skip
_GOALS = (
    "find the truth", "win back a lost love", "save the town", "pull off one last job",
    "outrun a relentless enemy", "reunite a scattered family", "solve a decades-old murder",
    "keep a dangerous promise",
)  # fmt: skip
_DEADLINES = (
    "the storm hits", "the festival ends", "the money runs out", "winter comes",
    "the trial begins", "the tide turns", "dawn", "it is too late",
)  # fmt: skip
_KEYWORDS = (
    "heist", "time travel", "small town", "revenge", "friendship", "coming of age",
    "dystopia", "artificial intelligence", "road trip", "based on novel", "murder", "family",
    "space", "survival", "love triangle", "conspiracy", "undercover", "haunted house", "sports",
    "music", "war", "prison", "detective", "island", "wedding", "high school", "robot",
    "alien", "magic", "memory loss", "betrayal", "chase", "kidnapping", "journalism", "courtroom",
    "ghost", "serial killer", "dream", "hotel", "train", "ocean", "desert", "mountain", "winter",
    "paris", "new york city", "tokyo", "london", "1980s", "1960s", "world war ii", "cold war",
    "female protagonist", "father daughter relationship", "mother son relationship",
    "biography", "satire", "musician", "chef", "painter", "hacker", "spy", "boxing", "dancing",
    "zombie", "vampire", "superhero", "dragon", "pirate", "cowboy", "samurai", "escape",
)  # fmt: skip
_COMPANIES = (
    "Lantern Pictures", "Northlight Studios", "Blue Harbor Films", "Mosaic Entertainment",
    "Red Kite Productions", "Silver Pine Media", "Orbit Films", "Cobalt House", "Paper Moon",
    "Tidewater Pictures", "Gridline Studios", "Aurora Works",
)  # fmt: skip
_CREW_JOBS = (
    ("Directing", "Director", 1.0),
    ("Writing", "Screenplay", 0.9),
    ("Writing", "Novel", 0.2),
    ("Production", "Producer", 1.0),
    ("Production", "Executive Producer", 0.5),
    ("Sound", "Original Music Composer", 0.9),
    ("Camera", "Director of Photography", 0.9),
    ("Editing", "Editor", 0.9),
    ("Art", "Production Design", 0.6),
    ("Costume & Make-Up", "Costume Design", 0.5),
)
_CHARACTER_FIRST = ("Jack", "Mara", "Eli", "Sofia", "Theo", "June", "Abel", "Nora", "Cal", "Ivy")
_MOVIES_COLUMNS = (
    "budget", "genres", "homepage", "id", "keywords", "original_language", "original_title",
    "overview", "popularity", "production_companies", "production_countries", "release_date",
    "revenue", "runtime", "spoken_languages", "status", "tagline", "title", "vote_average",
    "vote_count",
)  # fmt: skip
_README = """Synthetic MovieVerse demo catalog (seed {seed}).

Not real data: generated by movieverse.datasets.synthetic so that a first run without MovieLens
files or Internet access has a catalog to browse. The layout is ml-latest-small's; ids start at
{base} so they never collide with real MovieLens or TMDB ids. {movies} movies, {users} users,
{ratings} ratings, {tags} tags.
"""


@dataclass(frozen=True)
class SyntheticCatalog:
    """Where the files went, and how much they hold."""

    root: Path
    tmdb_dir: Path
    movielens_dir: Path
    movies: int
    people: int
    ratings: int
    tags: int


@dataclass
class _Person:
    person_id: int
    name: str
    gender: int
    fame: float


@dataclass
class _Movie:
    index: int
    title: str
    year: int
    release: date
    language: tuple[str, str, int, str, str]
    genres: list[int]
    keywords: list[int]
    quality: float
    hype: float
    cast: list[tuple[_Person, str, int]] = field(default_factory=list)
    crew: list[tuple[_Person, str, str]] = field(default_factory=list)
    ratings: list[float] = field(default_factory=list)

    @property
    def tmdb_id(self) -> int:
        return SYNTHETIC_ID_BASE + self.index

    @property
    def movielens_id(self) -> int:
        return SYNTHETIC_ID_BASE + self.index


def write_synthetic_catalog(
    root: Path,
    *,
    movies: int = DEFAULT_MOVIES,
    users: int = DEFAULT_USERS,
    seed: int = DEFAULT_SEED,
) -> SyntheticCatalog:
    """Write the catalog under ``root`` (``root/tmdb``, ``root/movielens``); returns its size."""
    if movies < 1 or users < 1:
        raise ValueError("a synthetic catalog needs at least one movie and one user")
    rng = random.Random(seed)
    people = _people(rng, count=max(50, movies * 3))
    fame = list(itertools.accumulate(p.fame for p in people))
    catalog = [_movie(rng, index, people, fame) for index in range(1, movies + 1)]
    ratings = _ratings(rng, catalog, users=users)
    tags = _tags(rng, catalog, users=users)
    tmdb_dir, movielens_dir = root / "tmdb", root / "movielens"
    tmdb_dir.mkdir(parents=True, exist_ok=True)
    movielens_dir.mkdir(parents=True, exist_ok=True)
    _write_tmdb_movies(tmdb_dir / "tmdb_5000_movies.csv", catalog)
    _write_tmdb_credits(tmdb_dir / "tmdb_5000_credits.csv", catalog)
    _write_movielens(movielens_dir, catalog, ratings, tags)
    (movielens_dir / "README.txt").write_text(
        _README.format(
            seed=seed,
            base=SYNTHETIC_ID_BASE,
            movies=movies,
            users=users,
            ratings=len(ratings),
            tags=len(tags),
        ),
        encoding="utf-8",
    )
    credited = {p.person_id for m in catalog for p, _, _ in (*m.cast, *m.crew)}
    return SyntheticCatalog(
        root=root,
        tmdb_dir=tmdb_dir,
        movielens_dir=movielens_dir,
        movies=movies,
        people=len(credited),
        ratings=len(ratings),
        tags=len(tags),
    )


# Generation --------------------------------------------------------------------------------


def _people(rng: random.Random, *, count: int) -> list[_Person]:
    people = []
    for index in range(1, count + 1):
        gender = rng.choice((1, 2))
        name = f"{rng.choice(_FIRST_NAMES)} {rng.choice(_LAST_NAMES)}"
        # Fame is heavy-tailed: a few people are in many movies, most in one or two.
        fame = rng.paretovariate(1.3)
        people.append(_Person(SYNTHETIC_ID_BASE + index, name, gender, fame))
    return people


def _title(rng: random.Random) -> str:
    shape = rng.random()
    if shape < 0.35:
        return f"The {rng.choice(_ADJECTIVES)} {rng.choice(_NOUNS)}"
    if shape < 0.55:
        return f"{rng.choice(_ADJECTIVES)} {rng.choice(_NOUNS)}"
    if shape < 0.70:
        return f"The {rng.choice(_NOUNS)} of {rng.choice(_PLACES)}"
    if shape < 0.82:
        return f"{rng.choice(_FIRST_NAMES)}'s {rng.choice(_NOUNS)}"
    if shape < 0.92:
        return f"{rng.choice(_NOUNS)}s"
    return f"{rng.choice(_NOUNS)} {rng.randint(2, 4)}"


def _movie(
    rng: random.Random, index: int, people: Sequence[_Person], fame: Sequence[float]
) -> _Movie:
    """One movie; ``fame`` is the running total of people's fame (cumulative weights, computed
    once: weighting 7,500 people afresh for every movie would be quadratic)."""
    # Releases lean recent, as in real catalogs: the square root of a uniform draw.
    year = 1950 + int(75 * math.sqrt(rng.random()))
    release = date(year, 1, 1) + timedelta(days=rng.randrange(365))
    language = rng.choices(_LANGUAGES, weights=[w for _, _, w, _, _ in _LANGUAGES])[0]
    genres = [g for g, (_, share, _) in _GENRES.items() if rng.random() < share][:3]
    if not genres:
        genres = [rng.choice((18, 35))]
    keywords = rng.sample(range(len(_KEYWORDS)), k=rng.randint(2, 7))
    movie = _Movie(
        index=index,
        title=_title(rng),
        year=year,
        release=release,
        language=language,
        genres=genres,
        keywords=[SYNTHETIC_ID_BASE + k for k in keywords],
        quality=rng.gauss(0, 1),
        hype=rng.lognormvariate(0, 1.1),
    )
    cast_size = rng.randint(5, 14)
    cast_people = _distinct(rng.choices(people, cum_weights=fame, k=cast_size * 2))[:cast_size]
    for order, person in enumerate(cast_people):
        character = f"{rng.choice(_CHARACTER_FIRST)} {rng.choice(_LAST_NAMES)}"
        movie.cast.append((person, character, order))
    for department, job, chance in _CREW_JOBS:
        if rng.random() < chance:
            movie.crew.append((rng.choices(people, cum_weights=fame)[0], department, job))
    return movie


def _distinct(people: list[_Person]) -> list[_Person]:
    return list({p.person_id: p for p in people}.values())


def _ratings(
    rng: random.Random, catalog: Sequence[_Movie], *, users: int
) -> list[tuple[int, int, float, int]]:
    """``(user, movieId, rating, timestamp)``: each user rates movies picked by hype; a rating
    follows the movie's quality and the user's leniency, in MovieLens half-star steps."""
    rows = []
    hype = list(itertools.accumulate(m.hype for m in catalog))
    start = datetime(2015, 1, 1, tzinfo=UTC).timestamp()
    span = datetime(2026, 11, 1, tzinfo=UTC).timestamp() - start
    for user in range(1, users + 1):
        leniency = rng.gauss(0, 0.4)
        count = min(len(catalog), max(20, int(rng.lognormvariate(3.8, 0.9))))
        seen = {m.index: m for m in rng.choices(catalog, cum_weights=hype, k=count * 2)}
        for movie in list(seen.values())[:count]:
            raw = 3.4 + 0.7 * movie.quality + leniency + rng.gauss(0, 0.7)
            rating = min(5.0, max(0.5, round(raw * 2) / 2))
            movie.ratings.append(rating)
            rows.append((user, movie.movielens_id, rating, int(start + rng.random() * span)))
    rows.sort(key=lambda r: (r[0], r[1]))  # MovieLens files are ordered by user, then movie
    return rows


def _tags(
    rng: random.Random, catalog: Sequence[_Movie], *, users: int
) -> list[tuple[int, int, str, int]]:
    rows = []
    for movie in catalog:
        if rng.random() < 0.3:
            for keyword_id in rng.sample(movie.keywords, k=min(2, len(movie.keywords))):
                name = _KEYWORDS[keyword_id - SYNTHETIC_ID_BASE]
                stamp = 1_500_000_000 + rng.randrange(250_000_000)
                rows.append((rng.randint(1, users), movie.movielens_id, name, stamp))
    rows.sort(key=lambda r: (r[0], r[1]))
    return rows


# Writing -----------------------------------------------------------------------------------


def _json(items: list[dict[str, object]]) -> str:
    return json.dumps(items, ensure_ascii=False)


def _tmdb_row(rng: random.Random, movie: _Movie) -> dict[str, object]:
    code, language_name, _, country, country_name = movie.language
    count = len(movie.ratings)
    budget = 0 if rng.random() < 0.3 else rng.randrange(1, 200) * 1_000_000
    revenue = 0 if budget == 0 or rng.random() < 0.2 else int(budget * rng.lognormvariate(0.4, 0.8))
    role, event = rng.choice(_ROLES), rng.choice(_EVENTS)
    goal, deadline = rng.choice(_GOALS), rng.choice(_DEADLINES)
    company = rng.randrange(len(_COMPANIES))
    return {
        "budget": budget,
        "genres": _json([{"id": g, "name": _GENRES[g][0]} for g in movie.genres]),
        "homepage": "",
        "id": movie.tmdb_id,
        "keywords": _json(
            [{"id": k, "name": _KEYWORDS[k - SYNTHETIC_ID_BASE]} for k in movie.keywords]
        ),
        "original_language": code,
        "original_title": movie.title,
        "overview": f"When {role} {event}, they must {goal} before {deadline}.",
        "popularity": round(movie.hype * (1 + count / 10), 6),
        "production_companies": _json(
            [{"name": _COMPANIES[company], "id": SYNTHETIC_ID_BASE + 1 + company}]
        ),
        "production_countries": _json([{"iso_3166_1": country, "name": country_name}]),
        "release_date": movie.release.isoformat(),
        "revenue": revenue,
        "runtime": max(70, min(200, int(rng.gauss(108, 18)))),
        "spoken_languages": _json([{"iso_639_1": code, "name": language_name}]),
        "status": "Released",
        "tagline": f"Every {rng.choice(_NOUNS).lower()} has a price." if rng.random() < 0.6 else "",
        "title": movie.title,
        # The score comes from the ratings (see the module docstring).
        "vote_average": 0.0,
        "vote_count": 0,
    }


def _write_tmdb_movies(path: Path, catalog: Sequence[_Movie]) -> None:
    # Its own generator for the per-row extras, so the ratings above do not shift with them.
    rng = random.Random(len(catalog))
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=_MOVIES_COLUMNS)
        writer.writeheader()
        for movie in catalog:
            writer.writerow(_tmdb_row(rng, movie))


def _write_tmdb_credits(path: Path, catalog: Sequence[_Movie]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(("movie_id", "title", "cast", "crew"))
        for movie in catalog:
            cast = [
                {
                    "cast_id": order + 1,
                    "character": character,
                    "credit_id": f"synthetic-{movie.index}-cast-{order}",
                    "gender": person.gender,
                    "id": person.person_id,
                    "name": person.name,
                    "order": order,
                }
                for person, character, order in movie.cast
            ]
            crew = [
                {
                    "credit_id": f"synthetic-{movie.index}-crew-{position}",
                    "department": department,
                    "gender": person.gender,
                    "id": person.person_id,
                    "job": job,
                    "name": person.name,
                }
                for position, (person, department, job) in enumerate(movie.crew)
            ]
            writer.writerow((movie.tmdb_id, movie.title, _json(cast), _json(crew)))


def _write_movielens(
    folder: Path,
    catalog: Sequence[_Movie],
    ratings: Sequence[tuple[int, int, float, int]],
    tags: Sequence[tuple[int, int, str, int]],
) -> None:
    with (folder / "movies.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(("movieId", "title", "genres"))
        for movie in catalog:
            names = [_GENRES[g][2] for g in movie.genres if _GENRES[g][2] is not None]
            genres = "|".join(n for n in names if n) or "(no genres listed)"
            writer.writerow((movie.movielens_id, f"{movie.title} ({movie.year})", genres))
    with (folder / "links.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(("movieId", "imdbId", "tmdbId"))
        for movie in catalog:
            writer.writerow((movie.movielens_id, "", movie.tmdb_id))
    with (folder / "ratings.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(("userId", "movieId", "rating", "timestamp"))
        writer.writerows((u, m, f"{r:.1f}", t) for u, m, r, t in ratings)
    with (folder / "tags.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(("userId", "movieId", "tag", "timestamp"))
        writer.writerows(tags)
