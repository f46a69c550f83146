"""The search port's contract (platform/search/port.py), run on every adapter available.

tantivy always runs. OpenSearch runs where ``MOVIEVERSE_TEST_OPENSEARCH_URL`` is set (no server
can be had on the build machine, so there it skips and says so). Each test writes through a
writable index and reads through a second, read-only one, as the indexer and the search service
do.
"""

from __future__ import annotations

import asyncio
import math
import struct
import uuid
from collections.abc import AsyncIterator, Sequence
from datetime import date
from pathlib import Path
from typing import Protocol, cast

import pytest

from movieverse.platform.search.documents import (
    Document,
    Kind,
    MovieDocument,
    PersonDocument,
    ReviewDocument,
)
from movieverse.platform.search.embeddings import DIMENSIONS
from movieverse.platform.search.port import (
    Batch,
    MovieFilters,
    RebuildHook,
    RebuildStep,
    SearchIndex,
)
from movieverse.platform.search.query import parse_query
from tests.support import eventually, server_url

Pair = tuple[SearchIndex, SearchIndex]

MOVIES = [
    MovieDocument(1, "Amélie", original_title="Le Fabuleux Destin d'Amélie Poulain",
                  genres=("Comedy", "Romance"), release_date=date(2001, 4, 25),
                  original_language="fr", popularity=40, vote_average=7.8),
    MovieDocument(2, "The Matrix", genres=("Action", "Science Fiction"),
                  release_date=date(1999, 3, 30), original_language="en", popularity=100,
                  vote_average=7.9, keywords=("simulated reality", "dystopia"),
                  overview="A hacker learns that reality is a simulation."),
    MovieDocument(3, "Heat", genres=("Action", "Crime"), release_date=date(1995, 12, 15),
                  original_language="en", popularity=30, vote_average=7.7),
    MovieDocument(4, "Heat", genres=("Action",), release_date=date(1986, 3, 14),
                  original_language="en", popularity=3, vote_average=4.6),
    MovieDocument(5, "The Shawshank Redemption", genres=("Drama", "Crime"),
                  release_date=date(1994, 9, 23), original_language="en", popularity=90,
                  vote_average=8.5),
    MovieDocument(6, "Heat Wave", genres=("Drama",), release_date=date(1990, 1, 1),
                  original_language="en", popularity=80, vote_average=6.0),
    MovieDocument(7, "Matrix Dreams", genres=("Drama",), release_date=date(2010, 1, 1),
                  original_language="de", popularity=1, vote_average=3.0,
                  overview="Not the film you think."),
    MovieDocument(8, "Grown-ups Only", genres=("Drama",), release_date=date(2000, 1, 1),
                  popularity=500, adult=True, overview="A matrix of desire."),
]  # fmt: skip
PEOPLE = [
    PersonDocument(31, "Tom Hanks", known_for_department="Acting", popularity=50),
    PersonDocument(32, "Tom Holland", known_for_department="Acting", popularity=60),
    PersonDocument(33, "Zoë Kravitz", known_for_department="Acting", popularity=20),
]
REVIEWS = [
    ReviewDocument("r-1", movie_id=2, username="critic", title="Mind-bending",
                   body="The bullet time sequences still astonish."),
    ReviewDocument("r-2", movie_id=3, username="fan", title="Long but great",
                   body="The bank heist shootout is the best ever filmed."),
]  # fmt: skip


@pytest.fixture(params=["tantivy", "opensearch"])
async def indexes(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Pair]:
    if request.param == "tantivy":
        from movieverse.platform.search.tantivy_index import TantivySearchIndex

        root = tmp_path / "search"
        writer = await TantivySearchIndex.open(root, writable=True)
        reader = await TantivySearchIndex.open(root, writable=False)
        yield writer, reader
        await reader.close()
        await writer.close()
        return
    url = server_url("opensearch")
    if url is None:
        pytest.skip("MOVIEVERSE_TEST_OPENSEARCH_URL is not set")
    from movieverse.platform.search.opensearch import OpenSearchIndex

    prefix = f"mvtest-{uuid.uuid4().hex[:10]}"
    writer_os = await OpenSearchIndex.open(url, prefix=prefix, writable=True)
    reader_os = await OpenSearchIndex.open(url, prefix=prefix, writable=False)
    try:
        yield writer_os, reader_os
    finally:
        await writer_os.client.indices.delete(index=f"{prefix}-*", ignore_unavailable=True)
        await reader_os.close()
        await writer_os.close()


async def _filled(pair: Pair) -> Pair:
    writer, _ = pair
    documents: list[Document] = [*MOVIES, *PEOPLE, *REVIEWS]
    await writer.upsert(documents)
    return pair


async def _movies(index: SearchIndex, q: str, **filters: object) -> list[int]:
    page = await index.search_movies(
        parse_query(q), filters=MovieFilters(**filters),  # type: ignore[arg-type]
        offset=0, limit=10,
    )  # fmt: skip
    return [hit.document.id for hit in page.hits]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("amelie", 1),  # accents folded
        ("AMÉLIE", 1),
        ("amleie", 1),  # a transposition is one typo
        ("shawshank redmption", 5),  # two typos allowed from 8 letters
        ("the matrx", 2),
        ("shaws", 5),  # the last term as a prefix
        ("heat 1995", 3),  # the year hint
        ("heat 1986", 4),
        ("fabuleux destin", 1),  # the original title
        ("matrix", 2),  # whole-title match and popularity beat "Matrix Dreams"
        ("simulated reality", 2),  # keywords
    ],
)
async def test_text_matching_and_ranking(indexes: Pair, query: str, expected: int) -> None:
    _, reader = await _filled(indexes)
    assert (await _movies(reader, query))[0] == expected


async def test_an_exact_title_beats_a_more_popular_longer_one(indexes: Pair) -> None:
    _, reader = await _filled(indexes)
    # "Heat Wave" is more popular than either Heat, but "heat" is exactly their title.
    assert (await _movies(reader, "heat"))[:2] == [3, 4]
    assert (await _movies(reader, "heat wave"))[0] == 6


async def test_short_words_and_numbers_forgive_no_typos(indexes: Pair) -> None:
    _, reader = await _filled(indexes)
    assert await _movies(reader, "hat 1995 ") == []
    assert await _movies(reader, "heat 1996 ") == [3, 4, 6]  # the year is optional, not fuzzy


async def test_filters_and_adult_titles(indexes: Pair) -> None:
    _, reader = await _filled(indexes)
    assert await _movies(reader, "heat", year_gte=1991) == [3]
    assert await _movies(reader, "heat", year_lte=1989) == [4]
    assert await _movies(reader, "heat", genres=("crime",)) == [3]
    assert await _movies(reader, "heat", genres=("Action", "Crime")) == [3]
    assert await _movies(reader, "heat", vote_average_gte=7.0) == [3]
    assert await _movies(reader, "matrix", original_language="DE") == [7]
    assert 8 not in await _movies(reader, "matrix")
    assert 8 in await _movies(reader, "matrix", include_adult=True)


async def test_facets_count_every_match_not_only_the_page(indexes: Pair) -> None:
    _, reader = await _filled(indexes)
    page = await reader.search_movies(
        parse_query("heat"), filters=MovieFilters(), offset=0, limit=1
    )
    assert page.total == 3
    assert len(page.hits) == 1
    assert page.facets is not None
    genres = {f.value: f.count for f in page.facets.genres}
    assert genres == {"Action": 2, "Crime": 1, "Drama": 1}
    assert [(f.value, f.count) for f in page.facets.decades] == [
        ("1990s", 2),
        ("1980s", 1),
    ]
    assert [(f.value, f.count) for f in page.facets.languages] == [("en", 3)]


async def test_paging_past_the_end_keeps_the_total(indexes: Pair) -> None:
    _, reader = await _filled(indexes)
    second = await reader.search_movies(
        parse_query("heat"), filters=MovieFilters(), offset=2, limit=2
    )
    assert second.total == 3
    assert len(second.hits) == 1
    past = await reader.search_movies(
        parse_query("heat"), filters=MovieFilters(), offset=40, limit=20
    )
    assert past.total == 3
    assert past.hits == ()
    deep = await reader.search_movies(
        parse_query("heat"), filters=MovieFilters(), offset=50_000, limit=20
    )
    assert deep.total == 3
    assert deep.hits == ()


async def test_no_document_matching_every_word_relaxes_to_any(indexes: Pair) -> None:
    _, reader = await _filled(indexes)
    page = await reader.search_movies(
        parse_query("matrix zebra"), filters=MovieFilters(), offset=0, limit=5
    )
    assert page.relaxed
    assert page.hits[0].document.id == 2


@pytest.mark.parametrize(
    "hostile", ["title:*", '"unbalanced', "OR OR", "AND (", "*", "\\", "{!}", "~~~", "héat~2^9"]
)
async def test_query_syntax_is_plain_text(indexes: Pair, hostile: str) -> None:
    _, reader = await _filled(indexes)
    page = await reader.search_movies(
        parse_query(hostile), filters=MovieFilters(), offset=0, limit=5
    )
    assert page.total >= 0  # answered, without an engine error
    if hostile == "héat~2^9":
        assert page.hits[0].document.id in {3, 4}


async def test_upsert_replaces_and_delete_removes(indexes: Pair) -> None:
    writer, reader = await _filled(indexes)
    await writer.upsert([MovieDocument(2, "The Matrix Rebooted", popularity=100)])
    assert (await _movies(reader, "rebooted")) == [2]
    assert await reader.count("movies") == len(MOVIES)
    await writer.delete("movies", ["2", "999"])  # an unknown id is no error
    assert 2 not in await _movies(reader, "matrix")
    await writer.delete("reviews", ["r-1"])
    reviews = await reader.search_reviews(parse_query("bullet"), movie_id=None, offset=0, limit=5)
    assert reviews.total == 0


async def test_the_generation_token_changes_with_every_write_searches_see(indexes: Pair) -> None:
    """Responses are kept under the token (services/search/cache.py): it must change by the time
    a search sees a write or a swap, and hold still while nothing changes. An adapter that cannot
    tell gives None, and nothing is kept."""
    writer, reader = await _filled(indexes)
    movies: tuple[Kind, ...] = ("movies",)
    both: tuple[Kind, ...] = ("movies", "people")
    before = reader.generation(movies)
    if before is None:
        await writer.delete("movies", ["2"])
        assert reader.generation(movies) is None
        return
    assert reader.generation(movies) == before  # nothing written: kept bodies stay good
    await _movies(reader, "matrix")  # a search reloading nothing changes nothing either
    assert reader.generation(movies) == before
    await writer.upsert([MovieDocument(2, "The Matrix Rebooted", popularity=100)])
    edited = reader.generation(movies)
    assert edited != before
    assert await _movies(reader, "rebooted") == [2]
    mixed = reader.generation(both)
    await writer.delete("movies", ["2"])
    assert reader.generation(movies) != edited
    assert reader.generation(both) != mixed
    assert 2 not in await _movies(reader, "matrix")
    people = reader.generation(both)
    await writer.upsert([PersonDocument(34, "Keanu Reeves", popularity=70)])
    assert reader.generation(both) != people
    swapped = reader.generation(movies)
    await writer.rebuild("movies", _batches(MOVIES[:3], 2))
    assert reader.generation(movies) != swapped

    async def reader_follows() -> bool:  # as in the rebuild test: on a later query at worst
        return await _movies(reader, "shawshank") == []

    await eventually(reader_follows)


async def test_people_reviews_and_suggestions(indexes: Pair) -> None:
    _, reader = await _filled(indexes)
    people = await reader.search_people(parse_query("tom hanks"), offset=0, limit=5)
    assert people.hits[0].document.id == 31
    zoe = await reader.search_people(parse_query("zoe kravits"), offset=0, limit=5)
    assert [h.document.id for h in zoe.hits] == [33]
    reviews = await reader.search_reviews(
        parse_query("heist shootout"), movie_id=None, offset=0, limit=5
    )
    assert [h.document.id for h in reviews.hits] == ["r-2"]
    on_other = await reader.search_reviews(parse_query("heist"), movie_id=2, offset=0, limit=5)
    assert on_other.total == 0
    suggestions = await reader.suggest(parse_query("tom h"), limit=5)
    # Both Toms complete it; the more popular comes first.
    assert [s.id for s in suggestions] == [32, 31]
    titles = await reader.suggest(parse_query("the shaw"), limit=5)
    assert [(s.kind, s.id, s.text, s.year) for s in titles] == [
        ("movies", 5, "The Shawshank Redemption", 1994)
    ]


async def _batches(documents: Sequence[Document], size: int) -> AsyncIterator[Batch]:
    for start in range(0, len(documents), size):
        await asyncio.sleep(0.01)  # let live writes and queries in between
        yield Batch(documents[start : start + size])


async def test_rebuild_swaps_atomically_and_keeps_live_writes(indexes: Pair) -> None:
    writer, reader = await _filled(indexes)
    source: list[Document] = [
        *MOVIES,
        *(MovieDocument(100 + i, f"Filler {i}", popularity=i) for i in range(200)),
        MovieDocument(2, "The Matrix (stale copy)"),  # the live write below must win
    ]
    failures: list[BaseException] = []
    seen: list[int] = []
    stop = asyncio.Event()

    async def query_throughout() -> None:
        while not stop.is_set():
            try:
                seen.append(len(await _movies(reader, "heat")))
            except Exception as exc:  # a failed query is what this test looks for
                failures.append(exc)
            await asyncio.sleep(0)

    queries = asyncio.create_task(query_throughout())
    rebuild = asyncio.create_task(writer.rebuild("movies", _batches(source, 20)))
    await asyncio.sleep(0.02)
    await writer.upsert([MovieDocument(2, "The Matrix Resurrections", popularity=100)])
    await writer.delete("movies", ["3"])
    loaded = await rebuild
    stop.set()
    await queries
    assert failures == []
    assert seen
    assert all(count >= 2 for count in seen)  # never an empty index mid-swap
    assert loaded >= len(source) - 2
    # The writer sees the swapped-in generation at once, live writes included.
    assert await _movies(writer, "resurrections") == [2]
    assert await _movies(writer, "stale copy") == []

    # Another index object on the same files follows the swap on a later query: its first one
    # can still be answered from the old generation (seen once under two test workers).
    async def reader_follows() -> bool:
        return await _movies(reader, "resurrections") == [2]

    await eventually(reader_follows)
    assert await _movies(reader, "stale copy") == []
    assert 3 not in await _movies(reader, "heat")
    assert await _movies(reader, "filler 150") == [250]
    assert await reader.count("movies") == len(MOVIES) - 1 + 200


def _unit(*weights: float) -> bytes:
    """A normalised 384-dimensional vector whose first components are ``weights``."""
    values = [*weights, *([0.0] * (DIMENSIONS - len(weights)))]
    norm = math.sqrt(sum(v * v for v in values))
    return struct.pack(f"<{DIMENSIONS}f", *(v / norm for v in values))


async def test_semantic_search_ranks_by_cosine_and_filters(indexes: Pair) -> None:
    writer, reader = await _filled(indexes)
    vectors = {
        "1": _unit(1, 0, 0),  # Amélie
        "2": _unit(0, 1, 0),  # The Matrix
        "3": _unit(0.2, 0.9, 0),  # Heat (1995), near The Matrix
        "7": _unit(0, 0.7, 0.7),  # Matrix Dreams
        "8": _unit(0, 1, 0.01),  # adult, nearest of all but left out by default
    }
    movies = [m for m in MOVIES if m.key in vectors]
    await writer.upsert(movies, vectors=vectors)
    query = _unit(0, 1, 0.05)

    async def nearest(**filters: object) -> list[int]:
        page = await reader.search_semantic(
            query, filters=MovieFilters(**filters),  # type: ignore[arg-type]
            offset=0, limit=10,
        )  # fmt: skip
        return [hit.document.id for hit in page.hits]

    assert await nearest() == [2, 3, 7, 1]  # movies without a vector are not ranked
    assert await nearest(include_adult=True) == [8, 2, 3, 7, 1]
    assert await nearest(genres=("Drama",)) == [7]
    assert await nearest(year_gte=1995, year_lte=2005) == [2, 3, 1]
    page = await reader.search_semantic(query, filters=MovieFilters(), offset=2, limit=1)
    assert [h.document.id for h in page.hits] == [7]
    assert page.total == 4
    # A rebuild keeps the vectors it is given.
    await writer.rebuild("movies", _batches_with(MOVIES, vectors))
    assert await nearest() == [2, 3, 7, 1]


async def _batches_with(
    documents: Sequence[Document], vectors: dict[str, bytes]
) -> AsyncIterator[Batch]:
    yield Batch(documents, dict(vectors))


# -- a rebuild against live writes, at each of its steps ------------------------------------------

MARK = "quokka"  # a keyword only these documents carry: one query lists them all
REBUILD_BATCH = 4


def _marked(movie_id: int, title: str) -> MovieDocument:
    return MovieDocument(movie_id, title, keywords=(MARK,), popularity=1)


# The rebuild's source, snapshotted before the rebuild is called: it holds the copies the live
# writes replace. Ids 2-5 come in the first batch, 12-15 in the last, fillers between: a live
# write lands either after the source's copy of its id was loaded or before it is.
REBUILD_SOURCE: list[MovieDocument] = [
    *(_marked(i, f"Early {i}") for i in range(2, 6)),
    *(_marked(100 + i, f"Filler {i}") for i in range(2 * REBUILD_BATCH)),
    *(_marked(i, f"Late {i}") for i in range(12, 16)),
]
REBUILD_POINTS: list[tuple[RebuildStep, int]] = [
    ("opened", -1),
    ("batch_pulled", 0),
    ("batch_written", 0),
    ("batch_pulled", 3),
    ("batch_written", 3),
    ("loaded", -1),
    ("live", -1),
    ("swapped", -1),
]


async def _write_live(writer: SearchIndex) -> None:
    """A new id, a changed one, a deleted one, an upsert then a delete, two upserts; each for an
    id the source yields first and for one it yields last."""
    await writer.upsert([_marked(900, "Live new")])
    for early, late in ((2, 12), (3, 13), (4, 14), (5, 15)):
        if early == 2:
            await writer.upsert([_marked(2, "Early 2 changed"), _marked(12, "Late 12 changed")])
        elif early == 3:
            await writer.delete("movies", ["3", "13"])
        elif early == 4:
            await writer.upsert([_marked(4, "Early 4 changed")])
            await writer.upsert([_marked(14, "Late 14 changed")])
            await writer.delete("movies", ["4", "14"])
        else:
            for version in ("first", "second"):
                await writer.upsert([_marked(5, f"Early 5 {version}")])
                await writer.upsert([_marked(15, f"Late 15 {version}")])
        assert late == early + 10


EXPECTED_AFTER_REBUILD = {
    **{100 + i: f"Filler {i}" for i in range(2 * REBUILD_BATCH)},
    900: "Live new",
    2: "Early 2 changed",
    12: "Late 12 changed",
    5: "Early 5 second",
    15: "Late 15 second",
}


class _Hooked(Protocol):
    rebuild_hook: RebuildHook | None


async def _source(documents: Sequence[Document], size: int) -> AsyncIterator[Batch]:
    for start in range(0, len(documents), size):
        yield Batch(documents[start : start + size])


async def _marked_titles(index: SearchIndex) -> dict[int, str]:
    page = await index.search_movies(parse_query(MARK), filters=MovieFilters(), offset=0, limit=100)
    assert page.total == len(page.hits)
    return {hit.document.id: hit.document.title for hit in page.hits}


@pytest.mark.parametrize(
    ("step", "batch"), REBUILD_POINTS, ids=[s if b < 0 else f"{s}-{b}" for s, b in REBUILD_POINTS]
)
async def test_live_writes_at_each_rebuild_step_are_kept(
    indexes: Pair, step: RebuildStep, batch: int
) -> None:
    writer, reader = indexes
    await writer.upsert(REBUILD_SOURCE)  # what was live before the rebuild
    paused_at: list[tuple[str, int]] = []

    async def write_there(kind: Kind, at: RebuildStep, number: int) -> None:
        # The rebuild waits here while the live writes run to completion: no timing involved.
        if kind == "movies" and (at, number) == (step, batch):
            paused_at.append((at, number))
            await _write_live(writer)

    cast(_Hooked, writer).rebuild_hook = write_there
    await writer.rebuild("movies", _source(REBUILD_SOURCE, REBUILD_BATCH))
    cast(_Hooked, writer).rebuild_hook = None
    assert paused_at == [(step, batch)]
    assert await _marked_titles(writer) == EXPECTED_AFTER_REBUILD
    assert await writer.count("movies") == len(EXPECTED_AFTER_REBUILD)

    async def reader_agrees() -> bool:
        return await _marked_titles(reader) == EXPECTED_AFTER_REBUILD

    await eventually(reader_agrees)  # a second index object follows the swap (see above)
    assert await reader.count("movies") == len(EXPECTED_AFTER_REBUILD)
    # Later writes reach the swapped-in index alone, and are kept.
    await writer.delete("movies", ["900"])
    await writer.upsert([_marked(2, "Early 2 again")])
    after = {k: v for k, v in EXPECTED_AFTER_REBUILD.items() if k != 900} | {2: "Early 2 again"}
    assert await _marked_titles(writer) == after


async def _failing_source(documents: Sequence[Document], size: int) -> AsyncIterator[Batch]:
    yield Batch(documents[:size])
    raise RuntimeError("the source broke off")


async def test_live_writes_during_a_failed_rebuild_stay_live(indexes: Pair) -> None:
    writer, reader = indexes
    await writer.upsert(REBUILD_SOURCE)

    async def write_there(kind: Kind, at: RebuildStep, number: int) -> None:
        if (kind, at, number) == ("movies", "batch_written", 0):
            await _write_live(writer)

    cast(_Hooked, writer).rebuild_hook = write_there
    with pytest.raises(RuntimeError, match="broke off"):
        await writer.rebuild("movies", _failing_source(REBUILD_SOURCE, REBUILD_BATCH))
    cast(_Hooked, writer).rebuild_hook = None
    assert await _marked_titles(writer) == EXPECTED_AFTER_REBUILD
    assert await _marked_titles(reader) == EXPECTED_AFTER_REBUILD
    # The failed rebuild is gone: writes reach the live index alone, and a new rebuild runs.
    await writer.delete("movies", ["900"])
    assert 900 not in await _marked_titles(reader)
    await writer.rebuild("movies", _source(REBUILD_SOURCE, REBUILD_BATCH))
    assert await _marked_titles(writer) == {d.id: d.title for d in REBUILD_SOURCE}


async def test_a_failure_once_the_new_index_is_live_leaves_it_live(indexes: Pair) -> None:
    """The swap's call can fail after the swap took effect (a client timeout after the server
    applied it): the rebuilt index is then the live one, and the clean-up must not remove it."""
    writer, reader = indexes
    await writer.upsert([_marked(1, "Before the rebuild")])

    async def fail_once_live(kind: Kind, at: RebuildStep, number: int) -> None:
        if (kind, at) == ("movies", "live"):
            raise TimeoutError("the swap's answer never came")

    cast(_Hooked, writer).rebuild_hook = fail_once_live
    with pytest.raises(TimeoutError):
        await writer.rebuild("movies", _source(REBUILD_SOURCE, REBUILD_BATCH))
    cast(_Hooked, writer).rebuild_hook = None
    rebuilt = {d.id: d.title for d in REBUILD_SOURCE}
    assert await _marked_titles(writer) == rebuilt

    async def reader_agrees() -> bool:
        return await _marked_titles(reader) == rebuilt

    await eventually(reader_agrees)
    await writer.upsert([_marked(2, "After")])  # and it takes writes
    assert (await _marked_titles(writer))[2] == "After"
