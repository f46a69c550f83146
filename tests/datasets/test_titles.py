"""MovieLens titles, written by hand from the forms found in ml-100k and ml-latest-small."""

from __future__ import annotations

import pytest

from movieverse.datasets import move_trailing_article, parse_movielens_title

TITLES = [
    # raw title, display title, year, alternate titles
    ("Matrix, The (1999)", "The Matrix", 1999, ()),
    ("Toy Story (1995)", "Toy Story", 1995, ()),
    (
        "City of Lost Children, The (Cité des enfants perdus, La) (1995)",
        "The City of Lost Children",
        1995,
        ("La Cité des enfants perdus",),
    ),
    # Commas inside the title: only the last ", <article>" moves.
    (
        "Good, the Bad and the Ugly, The (Buono, il brutto, il cattivo, Il) (1966)",
        "The Good, the Bad and the Ugly",
        1966,
        ("Il Buono, il brutto, il cattivo",),
    ),
    ("Good, The Bad and The Ugly, The (1966)", "The Good, The Bad and The Ugly", 1966, ()),
    ("Play It Again, Sam (1972)", "Play It Again, Sam", 1972, ()),
    (
        "Haunted World of Edward D. Wood Jr., The (1995)",
        "The Haunted World of Edward D. Wood Jr.",
        1995,
        (),
    ),
    ("Tetsuo, the Ironman (Tetsuo) (1989)", "Tetsuo, the Ironman", 1989, ("Tetsuo",)),
    # English, French, Spanish, Italian, German, Portuguese, Scandinavian articles.
    ("Clockwork Orange, A (1971)", "A Clockwork Orange", 1971, ()),
    (
        "Affair of Love, An (Liaison pornographique, Une) (1999)",
        "An Affair of Love",
        1999,
        ("Une Liaison pornographique",),
    ),
    ("Misérables, Les (1995)", "Les Misérables", 1995, ()),
    ("Contempt (Mépris, Le) (1963)", "Contempt", 1963, ("Le Mépris",)),
    ("Atalante, L' (1934)", "L'Atalante", 1934, ()),
    ("Bear, The (Ours, L') (1988)", "The Bear", 1988, ("L'Ours",)),
    ("Postino, Il (1994)", "Il Postino", 1994, ()),
    (
        "Vitelloni, I (a.k.a. The Young and the Passionate) (1953)",
        "I Vitelloni",
        1953,
        ("The Young and the Passionate",),
    ),
    (
        "Mondays in the Sun (Lunes al sol, Los) (2002)",
        "Mondays in the Sun",
        2002,
        ("Los Lunes al sol",),
    ),
    ("Swamp, The (Ciénaga, La) (2001)", "The Swamp", 2001, ("La Ciénaga",)),
    (
        "Young and the Damned, The (Olvidados, Los) (1950)",
        "The Young and the Damned",
        1950,
        ("Los Olvidados",),
    ),
    ("Boot, Das (Boat, The) (1981)", "Das Boot", 1981, ("The Boat",)),
    ("Tin Drum, The (Blechtrommel, Die) (1979)", "The Tin Drum", 1979, ("Die Blechtrommel",)),
    ("Bewegte Mann, Der (1994)", "Der Bewegte Mann", 1994, ()),
    ("Convent, The (Convento, O) (1995)", "The Convent", 1995, ("O Convento",)),
    (
        "Seventh Seal, The (Sjunde inseglet, Det) (1957)",
        "The Seventh Seal",
        1957,
        ("Det Sjunde inseglet",),
    ),
    ("Hip Hop Witch, Da (2000)", "Da Hip Hop Witch", 2000, ()),
    # Subtitles after a colon keep the article at the very front.
    (
        "Lord of the Rings: The Two Towers, The (2002)",
        "The Lord of the Rings: The Two Towers",
        2002,
        (),
    ),
    # Alternate titles: a.k.a. dropped, several of them, parentheses inside the title kept.
    ("Seven (a.k.a. Se7en) (1995)", "Seven", 1995, ("Se7en",)),
    (
        "Léon: The Professional (a.k.a. The Professional) (Léon) (1994)",
        "Léon: The Professional",
        1994,
        ("The Professional", "Léon"),
    ),
    ("(500) Days of Summer (2009)", "(500) Days of Summer", 2009, ()),
    ("Evangelion: 3.0 You Can (Not) Redo (2012)", "Evangelion: 3.0 You Can (Not) Redo", 2012, ()),
    ("1-900 (06) (1994)", "1-900", 1994, ("06",)),
    # Years: missing, a series range (en dash), trailing space, a format qualifier after the year.
    ("Babylon 5", "Babylon 5", None, ()),
    ("Death Note: Desu nôto (2006\u20132007)", "Death Note: Desu nôto", 2006, ()),
    ("Some Series (2015-)", "Some Series", 2015, ()),
    ("Two Friends (1986) ", "Two Friends", 1986, ()),
    (
        "Land Before Time III: The Time of the Great Giving (1995) (V)",
        "Land Before Time III: The Time of the Great Giving",
        1995,
        (),
    ),
    ("unknown", "unknown", None, ()),
    # Degenerate shapes stay as written rather than becoming empty.
    ("(1999)", "(1999)", None, ()),
    ("Broken (Paren (1999)", "Broken (Paren", 1999, ()),
    (", The (2001)", ", The", 2001, ()),
]


@pytest.mark.parametrize(("raw", "title", "year", "alternates"), TITLES)
def test_parse_movielens_title(
    raw: str, title: str, year: int | None, alternates: tuple[str, ...]
) -> None:
    parsed = parse_movielens_title(raw)
    assert (parsed.title, parsed.year, parsed.alternate_titles) == (title, year, alternates)


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Matrix, The", "The Matrix"),
        ("Enfer, L'", "L'Enfer"),
        ("Woman Is a Woman, A", "A Woman Is a Woman"),
        # Only the exact, capitalised article at the very end moves.
        ("Truth or Consequences, N.M.", "Truth or Consequences, N.M."),
        ("Tinker, Tailor, Soldier, Spy", "Tinker, Tailor, Soldier, Spy"),
        ("Honey, I Shrunk the Kids", "Honey, I Shrunk the Kids"),
        ("Matrix, the", "Matrix, the"),
        ("Matrix,The", "Matrix,The"),
        ("The", "The"),
    ],
)
def test_move_trailing_article(title: str, expected: str) -> None:
    assert move_trailing_article(title) == expected
