"""The tantivy indexes' schemas and how a document becomes a tantivy document.

Text is folded by :func:`~movieverse.platform.search.query.words` before tantivy sees it and split
on spaces there, so indexed tokens are exactly the terms a parsed query holds: no analyzer of the
engine's can disagree with ours. The whole document is also stored as JSON (``doc``) so a hit
comes back as the typed document it was.
"""

from __future__ import annotations

import json
import math

import tantivy

from movieverse.datasets.titles import ARTICLES
from movieverse.platform.search.documents import (
    Document,
    Kind,
    MovieDocument,
    PersonDocument,
    ReviewDocument,
    to_json,
)
from movieverse.platform.search.query import fold, words

# Bumped whenever a schema or what goes into it changes: an index built by older code is then
# rebuilt from the indexer's documents rather than read with the wrong fields.
SCHEMA_VERSIONS: dict[Kind, str] = {
    "movies": "movies-1",
    "people": "people-1",
    "reviews": "reviews-1",
}
TOKENIZER = "mv_words"
_FOLDED_ARTICLES = frozenset(fold(article).rstrip("'") for article in ARTICLES)


def register_tokenizers(index: tantivy.Index) -> None:
    index.register_tokenizer(
        TOKENIZER, tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.whitespace()).build()
    )


def build_schema(kind: Kind) -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    builder.add_bytes_field("doc", stored=True)
    if kind == "reviews":
        builder.add_text_field("id", tokenizer_name="raw")
        builder.add_integer_field("movie_id", indexed=True, fast=True)
        _text(builder, "title", "body", "username")
        builder.add_text_field("lang", tokenizer_name="raw", fast=True)
        return builder.build()
    builder.add_integer_field("id", indexed=True, fast=True)
    builder.add_text_field("exact", tokenizer_name="raw")
    builder.add_text_field("bare", tokenizer_name="raw")
    builder.add_float_field("weight", fast=True)
    if kind == "people":
        _text(builder, "name")
        return builder.build()
    _text(builder, "title", "alt", "keywords", "overview")
    builder.add_bytes_field("vec", stored=True)  # the sentence embedding, when there is one
    builder.add_text_field("genre", tokenizer_name="raw", fast=True)
    builder.add_text_field("genre_key", tokenizer_name="raw")
    builder.add_text_field("lang", tokenizer_name="raw", fast=True)
    builder.add_integer_field("year", indexed=True, fast=True)
    builder.add_float_field("vote", indexed=True, fast=True)
    builder.add_integer_field("adult", indexed=True)
    return builder.build()


def _text(builder: tantivy.SchemaBuilder, *names: str) -> None:
    for name in names:
        builder.add_text_field(name, tokenizer_name=TOKENIZER, index_option="position")


def folded(text: str | None) -> str:
    return " ".join(words(text or ""))


def exact_forms(*titles: str | None) -> tuple[list[str], list[str]]:
    """Each title whole and folded ("the matrix"), and apart from those, each without its
    leading article ("matrix"): a whole-title match without the article counts for less, so
    "heat" ranks Heat above The Heat."""
    whole: list[str] = []
    bare: list[str] = []
    for title in titles:
        found = words(title or "")
        if not found:
            continue
        # Squeezed too, for titles typed as one word ("fightclub") or styled as one ("WALL·E").
        whole += [" ".join(found), "".join(found)]
        if len(found) > 1 and found[0] in _FOLDED_ARTICLES:
            bare += [" ".join(found[1:]), "".join(found[1:])]
    whole = list(dict.fromkeys(whole))
    return whole, [form for form in dict.fromkeys(bare) if form not in whole]


def popularity_weight(popularity: float) -> float:
    """The stored weight tantivy turns into a score multiplier of ``log2(2 + weight)``.

    The multiplier wanted is ``1 + 0.15 ln(1 + popularity)``: 1 for an unknown film, about 1.35
    at TMDB's median popularity (10), 2 at its most popular (about 875). Logarithmic, so
    popularity orders equally good text matches without burying a precise match of an obscure
    title under a popular near-miss.
    """
    multiplier = 1.0 + 0.15 * math.log1p(max(popularity, 0.0))
    return float(max(2.0**multiplier - 2.0, 0.0))


def movie_popularity(movie: MovieDocument) -> float:
    """TMDB's popularity; for a movie without one (a MovieLens-only title), its votes stand in,
    scaled to TMDB's range (a TMDB 5000 movie has about 20 to 100 votes per popularity point)."""
    return movie.popularity if movie.popularity > 0 else movie.vote_count / 20


def to_tantivy(document: Document, vector: bytes | None = None) -> tantivy.Document:
    out = tantivy.Document()
    if vector is not None and isinstance(document, MovieDocument):
        out.add_bytes("vec", vector)
    out.add_bytes("doc", json.dumps(to_json(document), separators=(",", ":")).encode())
    if isinstance(document, MovieDocument):
        _movie(out, document)
    elif isinstance(document, PersonDocument):
        out.add_integer("id", document.id)
        out.add_text("name", folded(document.name))
        _add_forms(out, exact_forms(document.name))
        out.add_float("weight", popularity_weight(document.popularity))
    else:
        _review(out, document)
    return out


def _add_forms(out: tantivy.Document, forms: tuple[list[str], list[str]]) -> None:
    for form in forms[0]:
        out.add_text("exact", form)
    for form in forms[1]:
        out.add_text("bare", form)


def _movie(out: tantivy.Document, movie: MovieDocument) -> None:
    out.add_integer("id", movie.id)
    out.add_text("title", folded(movie.title))
    others = [t for t in (movie.original_title, *movie.alternate_titles) if t and t != movie.title]
    out.add_text("alt", folded(" ".join(others)))
    out.add_text("keywords", folded(" ".join(movie.keywords)))
    out.add_text("overview", folded(movie.overview))
    _add_forms(out, exact_forms(movie.title, *others))
    for genre in movie.genres:
        out.add_text("genre", genre)
        out.add_text("genre_key", fold(genre))
    out.add_text("lang", (movie.original_language or "").lower())
    if movie.year is not None:
        out.add_integer("year", movie.year)
    out.add_float("vote", movie.vote_average)
    out.add_integer("adult", int(movie.adult))
    out.add_float("weight", popularity_weight(movie_popularity(movie)))


def _review(out: tantivy.Document, review: ReviewDocument) -> None:
    out.add_text("id", review.id)
    out.add_integer("movie_id", review.movie_id)
    out.add_text("title", folded(review.title))
    out.add_text("body", folded(review.body))
    out.add_text("username", folded(review.username))
    out.add_text("lang", (review.language or "").lower())
