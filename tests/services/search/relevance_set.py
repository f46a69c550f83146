"""The relevance set: what people type, and the movie they mean, on ml-latest-small + TMDB 5000.

Each case names the movie by its catalog title and year (ids depend on import order). Kinds:
``typo`` misspellings, ``partial`` partial titles or prefixes, ``accent`` accents and case,
``year`` a year hint picking one of several same-named movies, ``article`` leading articles,
``name`` titles that are a person's name (the TMDB 5000 file here has no credits, so no person
records exist to search by cast or crew; people search is held to its contract on synthetic
names instead), ``exact`` a short or common title that must win over longer ones, ``space`` a
title typed with its spaces moved.
"""

from __future__ import annotations

from typing import NamedTuple


class Case(NamedTuple):
    query: str
    title: str
    year: int
    kind: str


CASES: tuple[Case, ...] = (
    # Misspellings
    Case("shawshank redmption", "The Shawshank Redemption", 1994, "typo"),
    Case("forest gump", "Forrest Gump", 1994, "typo"),
    Case("jurasic park", "Jurassic Park", 1993, "typo"),
    Case("finding nemmo", "Finding Nemo", 2003, "typo"),
    Case("ratatoulie", "Ratatouille", 2007, "typo"),
    Case(
        "harry poter philosophers stone", "Harry Potter and the Philosopher's Stone", 2001, "typo"
    ),
    Case("schindlers list", "Schindler's List", 1993, "typo"),
    Case("the godfahter", "The Godfather", 1972, "typo"),
    Case("pulp fictoin", "Pulp Fiction", 1994, "typo"),
    Case("gladiatr", "Gladiator", 2000, "typo"),
    Case("inceptoin", "Inception", 2010, "typo"),
    Case("interstelar", "Interstellar", 2014, "typo"),
    Case("the silense of the lambs", "The Silence of the Lambs", 1991, "typo"),
    Case("terminater 2", "Terminator 2: Judgment Day", 1991, "typo"),
    Case("braveheat", "Braveheart", 1995, "typo"),
    Case("casablnca", "Casablanca", 1942, "typo"),
    Case("the usual suspcts", "The Usual Suspects", 1995, "typo"),
    Case("goodfelas", "GoodFellas", 1990, "typo"),
    Case("apocalipse now", "Apocalypse Now", 1979, "typo"),
    Case("eternal sunshine spotless mind", "Eternal Sunshine of the Spotless Mind", 2004, "typo"),
    # Partial titles and prefixes (the last word still being typed)
    Case(
        "lord of the rings return", "The Lord of the Rings: The Return of the King", 2003, "partial"
    ),
    Case("star wars empire", "The Empire Strikes Back", 1980, "partial"),
    Case(
        "pirates caribbean black pearl",
        "Pirates of the Caribbean: The Curse of the Black Pearl",
        2003,
        "partial",
    ),
    Case(
        "dr strangelove",
        "Dr. Strangelove or: How I Learned to Stop Worrying and Love the Bomb",
        1964,
        "partial",
    ),
    Case("monty python holy grail", "Monty Python and the Holy Grail", 1975, "partial"),
    Case("crouching tiger", "Crouching Tiger, Hidden Dragon", 2000, "partial"),
    Case("good bad ugly", "The Good, the Bad and the Ugly", 1966, "partial"),
    Case("raiders lost ark", "Raiders of the Lost Ark", 1981, "partial"),
    Case("eternal sunsh", "Eternal Sunshine of the Spotless Mind", 2004, "partial"),
    Case("shaws", "The Shawshank Redemption", 1994, "partial"),
    Case("the dark kni", "The Dark Knight", 2008, "partial"),
    Case("back to the fut", "Back to the Future", 1985, "partial"),
    Case("usual suspect", "The Usual Suspects", 1995, "partial"),
    Case("et the extra terrestrial", "E.T. the Extra-Terrestrial", 1982, "partial"),
    Case("2001 a space odyssey", "2001: A Space Odyssey", 1968, "partial"),
    Case("terminator 2", "Terminator 2: Judgment Day", 1991, "partial"),
    # Accents and case
    Case("amelie", "Amélie", 2001, "accent"),
    Case("AMÉLIE", "Amélie", 2001, "accent"),
    Case("les miserables 2012", "Les Misérables", 2012, "accent"),
    Case("y tu mama tambien", "Y Tu Mamá También", 2001, "accent"),
    Case("wall-e", "WALL·E", 2008, "accent"),
    Case("leon the professional", "Léon: The Professional", 1994, "accent"),
    Case("nausicaa valley of the wind", "Nausicaä of the Valley of the Wind", 1984, "accent"),
    Case("deja vu 2006", "Déjà Vu", 2006, "accent"),
    Case("bruno", "Brüno", 2009, "accent"),
    Case("quinceanera", "Quinceañera", 2006, "accent"),
    Case("the fabulous destiny of amelie poulain", "Amélie", 2001, "accent"),
    # A year hint picks one of several same-named movies
    Case("heat 1995", "Heat", 1995, "year"),
    Case("psycho 1960", "Psycho", 1960, "year"),
    Case("psycho 1998", "Psycho", 1998, "year"),
    Case("les miserables 1998", "Les Misérables", 1998, "year"),
    Case("king kong 1933", "King Kong", 1933, "year"),
    Case("king kong 2005", "King Kong", 2005, "year"),
    Case("the fly 1986", "The Fly", 1986, "year"),
    Case("scarface 1983", "Scarface", 1983, "year"),
    Case("ocean's eleven 2001", "Ocean's Eleven", 2001, "year"),
    Case("total recall 1990", "Total Recall", 1990, "year"),
    # Leading articles: MovieLens writes "Matrix, The (1999)"
    Case("the matrix", "The Matrix", 1999, "article"),
    Case("matrix", "The Matrix", 1999, "article"),
    Case("godfather", "The Godfather", 1972, "article"),
    Case("lion king", "The Lion King", 1994, "article"),
    Case("the incredibles", "The Incredibles", 2004, "article"),
    Case("usual suspects the", "The Usual Suspects", 1995, "article"),
    Case("big lebowski", "The Big Lebowski", 1998, "article"),
    # Titles that are a person's name
    Case("forrest gump", "Forrest Gump", 1994, "name"),
    Case("erin brockovich", "Erin Brockovich", 2000, "name"),
    Case("ed wood", "Ed Wood", 1994, "name"),
    Case("malcolm x", "Malcolm X", 1992, "name"),
    Case("jerry maguire", "Jerry Maguire", 1996, "name"),
    Case("annie hall", "Annie Hall", 1977, "name"),
    Case("donnie brasco", "Donnie Brasco", 1997, "name"),
    Case("billy elliot", "Billy Elliot", 2000, "name"),
    Case("gandhi", "Gandhi", 1982, "name"),
    Case("amadeus", "Amadeus", 1984, "name"),
    # Short and common titles must win over longer ones
    Case("heat", "Heat", 1995, "exact"),
    Case("up", "Up", 2009, "exact"),
    Case("alien", "Alien", 1979, "exact"),
    Case("aliens", "Aliens", 1986, "exact"),
    Case("se7en", "Se7en", 1995, "exact"),
    Case("psycho", "Psycho", 1960, "exact"),
    Case("jaws", "Jaws", 1975, "exact"),
    Case("toy story", "Toy Story", 1995, "exact"),
    # Another title the movie goes by (MovieLens's original-language and a.k.a. titles, and its
    # own title where TMDB's differs)
    Case("la haine", "Hate", 1995, "other"),
    Case("cite des enfants perdus", "The City of Lost Children", 1995, "other"),
    Case("sen to chihiro", "Spirited Away", 2001, "other"),
    Case("la vita e bella", "Life Is Beautiful", 1997, "other"),
    Case("mononoke hime", "Princess Mononoke", 1997, "other"),
    Case("cidade de deus", "City of God", 2002, "other"),
    Case("festen", "The Celebration", 1998, "other"),
    Case("star wars episode v", "The Empire Strikes Back", 1980, "other"),
    # Spaces moved
    Case("fightclub", "Fight Club", 1999, "space"),
    Case("brave heart", "Braveheart", 1995, "space"),
    Case("good fellas", "GoodFellas", 1990, "space"),
    Case("walle", "WALL·E", 2008, "space"),
)
