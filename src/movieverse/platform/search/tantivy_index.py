"""The embedded search adapter: one tantivy index per kind, on disk under ``var/search``.

Layout: ``<root>/<kind>/CURRENT`` names the live generation (a directory beside it) and the schema
version it was built with. A rebuild fills a new generation and replaces ``CURRENT`` atomically
(``os.replace``); readers notice on their next query and open it, so a swap never fails a search.

Only the indexer writes (``writable=True``; tantivy allows one writer per index and locks it);
the search service opens the same directories read-only, possibly from another process, and
picks up every commit by watching ``meta.json``, which tantivy replaces on each commit. tantivy
calls run on worker threads: a commit or a search over a large index must not stall the loop.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import threading
import time
import uuid
from collections.abc import AsyncIterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import Any

import structlog
import tantivy

from movieverse.platform.search import tantivy_queries as queries
from movieverse.platform.search.documents import (
    KINDS,
    Document,
    Kind,
    MovieDocument,
    PersonDocument,
    ReviewDocument,
    from_json,
    kind_of,
)
from movieverse.platform.search.port import (
    MAX_SEMANTIC_RESULTS,
    MAX_WINDOW,
    Batch,
    D,
    FacetCount,
    Hit,
    HitPage,
    IndexBusy,
    IndexStats,
    MovieFacets,
    MovieFilters,
    RebuildHook,
    RebuildStep,
    Suggestion,
    decade_of,
    passes,
)
from movieverse.platform.search.query import ParsedQuery
from movieverse.platform.search.tantivy_schema import (
    SCHEMA_VERSIONS,
    build_schema,
    register_tokenizers,
    to_tantivy,
)
from movieverse.platform.search.tantivy_vectors import VectorTable

log = structlog.get_logger("movieverse.search.tantivy")
CURRENT = "CURRENT"
# tantivy's writer buffers this much before it writes a segment (per writer thread).
WRITER_HEAP = 64_000_000
FORCED_RELOAD_SECONDS = 0.25
FACET_SIZES = {"genres": 40, "languages": 30}


@dataclass
class _Generation:
    kind: Kind
    name: str
    path: Path
    index: tantivy.Index
    schema: tantivy.Schema
    writer: tantivy.IndexWriter | None = None
    # What the last look at meta.json saw: its stamp, when, and its bytes.
    meta_stamp: tuple[int, int, int] = (0, 0, 0)
    meta_checked_at: float = 0.0
    meta: bytes = b""
    # Commits noticed (changes of meta.json), and the count the searcher was last reloaded at.
    commits_seen: int = 0
    commits_loaded: int = 0
    # Counts reloads: what was derived from an older searcher (the vector table) is outdated.
    version: int = 0
    # Looks at meta.json come from the event loop (generation tokens) and from worker threads.
    looking: threading.Lock = field(default_factory=threading.Lock)
    # meta.json's path as a string: built once, not per request (a Path join costs twice the stat).
    meta_path: str = field(init=False)

    def __post_init__(self) -> None:
        self.meta_path = str(self.path / "meta.json")

    def commit(self) -> None:
        assert self.writer is not None
        self.writer.commit()
        self.index.reload()
        self.version += 1

    def notice_commits(self) -> int:
        """Commits noticed so far, another process's included: tantivy replaces meta.json on
        each. A stat per call; the file is read only when its stamp changed, or now and then
        anyway, since two commits within one tick of the file system's clock can leave the same
        stamp (that bounds how long such a commit can go unseen). Cheap enough for every
        request, and never reloads: the loop may ask."""
        try:
            info = os.stat(self.meta_path)
        except FileNotFoundError:
            return self.commits_seen
        stamp = (info.st_mtime_ns, info.st_ino, info.st_size)
        now = time.monotonic()
        with self.looking:
            if stamp == self.meta_stamp and now - self.meta_checked_at <= FORCED_RELOAD_SECONDS:
                return self.commits_seen
            try:
                with open(self.meta_path, "rb") as file:
                    content = file.read()
            except FileNotFoundError:
                return self.commits_seen
            self.meta_stamp, self.meta_checked_at = stamp, now
            if content != self.meta:
                self.meta = content
                self.commits_seen += 1
            return self.commits_seen

    def refresh(self) -> None:
        """Reload the searcher if the index committed since (another writer, maybe elsewhere).
        Reloaded after the commit was noticed, the searcher holds that commit or a later one."""
        seen = self.notice_commits()
        if seen != self.commits_loaded:
            self.index.reload()
            self.commits_loaded = seen
            self.version += 1


@dataclass
class _Rebuild:
    generation: _Generation
    # Ids written live since the rebuild began: their live version beats the source's copy.
    touched: set[str] = field(default_factory=set)


def _open_generation(root: Path, kind: Kind, name: str, *, writable: bool) -> _Generation:
    path = root / kind / name
    schema = build_schema(kind)
    if writable:
        path.mkdir(parents=True, exist_ok=True)
        index = tantivy.Index(schema, path=str(path), reuse=True)
    else:  # never create: a reader finding no index waits for the indexer to make one
        index = tantivy.Index.open(str(path))
    register_tokenizers(index)
    generation = _Generation(kind=kind, name=name, path=path, index=index, schema=schema)
    if writable:
        try:
            # One thread: the machine's other core serves requests.
            generation.writer = index.writer(heap_size=WRITER_HEAP, num_threads=1)
        except ValueError as exc:
            if "LockBusy" in str(exc):
                raise IndexBusy(f"another process is writing the search index at {path}") from exc
            raise
    return generation


def _read_current(root: Path, kind: Kind) -> dict[str, Any] | None:
    try:
        data = json.loads((root / kind / CURRENT).read_text())
    except (FileNotFoundError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _write_current(root: Path, kind: Kind, name: str) -> None:
    target = root / kind / CURRENT
    scratch = target.with_name(f".{CURRENT}.{uuid.uuid4().hex}")
    scratch.write_text(json.dumps({"generation": name, "schema": SCHEMA_VERSIONS[kind]}))
    os.replace(scratch, target)


class TantivySearchIndex:
    """The search port on tantivy. Build it with :meth:`open`."""

    def __init__(self, root: Path, *, writable: bool) -> None:
        self.root = root
        self.writable = writable
        self._live: dict[Kind, _Generation] = {}
        self._current_stamp: dict[Kind, tuple[int, int]] = {}
        self._current_paths = {kind: str(root / kind / CURRENT) for kind in KINDS}
        self._rebuilds: dict[Kind, _Rebuild] = {}
        self._vectors: dict[str, VectorTable] = {}
        self._locks: dict[Kind, asyncio.Lock] = {kind: asyncio.Lock() for kind in KINDS}
        # Kinds whose index was missing or built by older code: empty now, to be rebuilt.
        self.stale: set[Kind] = set()
        # Tests pause a rebuild at each step with it (port.RebuildHook); None otherwise.
        self.rebuild_hook: RebuildHook | None = None

    @classmethod
    async def open(cls, root: Path, *, writable: bool) -> TantivySearchIndex:
        search = cls(root, writable=writable)
        await asyncio.to_thread(search._open_all)
        return search

    def _open_all(self) -> None:
        for kind in KINDS:
            # Stamped before it is read: a swap landing in between is then noticed next query.
            self._stamp_current(kind)
            current = _read_current(self.root, kind)
            fits = current is not None and current.get("schema") == SCHEMA_VERSIONS[kind]
            if self.writable and not fits:
                name = f"g-{uuid.uuid4().hex[:12]}"
                self._live[kind] = _open_generation(self.root, kind, name, writable=True)
                self._live[kind].commit()
                _write_current(self.root, kind, name)
                self.stale.add(kind)
                log.info("search_index_created", kind=kind, generation=name)
            elif fits:
                assert current is not None
                self._open_live(kind, str(current["generation"]))

    def _open_live(self, kind: Kind, name: str) -> None:
        try:
            self._live[kind] = _open_generation(self.root, kind, name, writable=self.writable)
        except (OSError, ValueError):
            if self.writable:
                raise
            # Swapped out and removed while being opened: CURRENT names its successor, and the
            # next query opens that.
            self._current_stamp.pop(kind, None)

    def _current_stamp_now(self, kind: Kind) -> tuple[int, int] | None:
        try:
            info = os.stat(self._current_paths[kind])
        except FileNotFoundError:
            return None
        return (info.st_mtime_ns, info.st_ino)

    def _stamp_current(self, kind: Kind) -> bool:
        """Whether CURRENT changed since last looked at."""
        stamp = self._current_stamp_now(kind)
        if stamp is None:
            return False
        changed = self._current_stamp.get(kind) != stamp
        self._current_stamp[kind] = stamp
        return changed

    def generation(self, kinds: Sequence[Kind]) -> str:
        """A token of what searches of ``kinds`` see (port.SearchIndex.generation): per kind,
        CURRENT's stamp (a rebuild swapped in) and the live generation with the commits noticed
        in it. Stats and, now and then, a read of meta.json: nothing is reloaded here."""
        parts: list[str] = []
        for kind in kinds:
            live = self._live.get(kind)
            if self.writable:
                # Only this object writes (tantivy's lock): its commits are all there are.
                parts.append(f"{live.name}.{live.version}" if live else "-")
                continue
            stamp = self._current_stamp_now(kind)
            commits = live.notice_commits() if live is not None else 0
            parts.append(f"{stamp}.{live.name if live else '-'}.{commits}")
        return "|".join(parts)

    def _reader(self, kind: Kind) -> _Generation | None:
        """The live generation, following a swap or a commit made by another writer."""
        if not self.writable and self._stamp_current(kind):
            current = _read_current(self.root, kind)
            if current is not None and current.get("schema") == SCHEMA_VERSIONS[kind]:
                name = str(current["generation"])
                live = self._live.get(kind)
                if live is None or live.name != name:
                    self._open_live(kind, name)
        generation = self._live.get(kind)
        if generation is not None and not self.writable:
            generation.refresh()
        return generation

    # -- writes -------------------------------------------------------------------------------

    async def upsert(
        self, documents: Sequence[Document], *, vectors: Mapping[str, bytes] | None = None
    ) -> None:
        by_kind: dict[Kind, list[Document]] = {}
        for document in documents:
            by_kind.setdefault(kind_of(document), []).append(document)
        for kind, group in by_kind.items():
            async with self._locks[kind]:
                await asyncio.to_thread(self._write, kind, group, [], vectors or {})

    async def delete(self, kind: Kind, ids: Sequence[str]) -> None:
        if ids:
            async with self._locks[kind]:
                await asyncio.to_thread(self._write, kind, [], list(ids), {})

    def _write(
        self,
        kind: Kind,
        documents: list[Document],
        deleted: list[str],
        vectors: Mapping[str, bytes],
    ) -> None:
        targets = [self._writable(kind)]
        rebuild = self._rebuilds.get(kind)
        if rebuild is not None:
            targets.append(rebuild.generation)
            rebuild.touched.update(d.key for d in documents)
            rebuild.touched.update(deleted)
        last: dict[str, Document] = {d.key: d for d in documents}  # one version per id
        for generation in targets:
            writer = generation.writer
            assert writer is not None
            for key in [*deleted, *last]:
                _delete_term(writer, kind, key)
            for key, document in last.items():
                writer.add_document(to_tantivy(document, vectors.get(key)))
        targets[0].commit()  # the rebuild's generation commits once, when complete

    def _writable(self, kind: Kind) -> _Generation:
        if not self.writable:
            raise RuntimeError("this search index was opened read-only")
        return self._live[kind]

    async def rebuild(self, kind: Kind, batches: AsyncIterable[Batch]) -> int:
        self._writable(kind)
        lock = self._locks[kind]
        async with lock:
            # Opened and registered under the writes' lock, before the source is pulled: every
            # write after the call then reaches the fresh generation and marks its id as
            # touched. (Registered only after the opening's await, a write landing during it
            # reached the old generation alone, and the source's older copy won: #17.)
            if kind in self._rebuilds:
                raise RuntimeError(f"the {kind} index is already being rebuilt")
            name = f"g-{uuid.uuid4().hex[:12]}"
            generation = await asyncio.to_thread(
                _open_generation, self.root, kind, name, writable=True
            )
            rebuild = _Rebuild(generation)
            self._rebuilds[kind] = rebuild
        loaded = 0
        try:
            await self._step(kind, "opened")
            number = 0
            async for batch in batches:
                await self._step(kind, "batch_pulled", number)
                async with lock:  # filtered and loaded with no write in between
                    fresh = [d for d in batch.documents if d.key not in rebuild.touched]
                    await asyncio.to_thread(_add_all, generation, fresh, batch.vectors)
                loaded += len(fresh)
                await self._step(kind, "batch_written", number)
                number += 1
            await self._step(kind, "loaded")
            async with lock:
                await asyncio.to_thread(generation.commit)
                old = self._live[kind]
                await asyncio.to_thread(_write_current, self.root, kind, name)
                self._live[kind] = generation
                del self._rebuilds[kind]  # later writes go to the new live generation alone
                self.stale.discard(kind)
            await self._step(kind, "live")
        except BaseException:
            async with lock:  # not while a live write is using the generation's writer
                if self._rebuilds.get(kind) is rebuild:
                    del self._rebuilds[kind]
                    generation.writer = None
            if self._live[kind] is not generation:
                await asyncio.to_thread(shutil.rmtree, generation.path, True)
            raise
        await self._step(kind, "swapped")
        old.writer = None  # releases tantivy's lock on the old directory
        # Readers that still hold the old generation keep reading its open files.
        await asyncio.to_thread(shutil.rmtree, old.path, True)
        log.info("search_index_swapped", kind=kind, generation=name, documents=loaded)
        return loaded

    async def _step(self, kind: Kind, step: RebuildStep, batch: int = -1) -> None:
        if self.rebuild_hook is not None:
            await self.rebuild_hook(kind, step, batch)

    # -- reads --------------------------------------------------------------------------------

    async def search_movies(
        self, query: ParsedQuery, *, filters: MovieFilters, offset: int, limit: int
    ) -> HitPage[MovieDocument]:
        return await asyncio.to_thread(self._search_movies, query, filters, offset, limit)

    def _search_movies(
        self, query: ParsedQuery, filters: MovieFilters, offset: int, limit: int
    ) -> HitPage[MovieDocument]:
        generation = self._reader("movies")
        if generation is None or query.empty:
            return HitPage(total=0, hits=())
        schema = generation.schema
        conditions = queries.movie_filters(schema, filters)
        searcher = generation.index.searcher()

        def ranked(*, every_term: bool, typos: bool) -> tuple[tantivy.Query, tantivy.SearchResult]:
            text = queries.text_query(
                schema, query, queries.MOVIE_FIELDS,
                every_term=every_term, year_field=True, typos=typos,
            )  # fmt: skip
            full = queries.filtered(text, conditions)
            return full, _page(searcher, full, offset, limit)

        # As typed first; typos only when that names no title (tantivy_queries.names_a_title).
        full, page = ranked(every_term=True, typos=False)
        hits = _hits(searcher, page, "movies", MovieDocument)
        if _typos_may_help(query) and not _names_a_title(searcher, full, hits, offset, query):
            full, page = ranked(every_term=True, typos=True)
            hits = _hits(searcher, page, "movies", MovieDocument)
        relaxed = False
        if _total(page) == 0 and len(query.terms) > 1:
            relaxed = True
            full, page = ranked(every_term=False, typos=True)
            hits = _hits(searcher, page, "movies", MovieDocument)
        facets = _movie_facets(searcher, full) if _total(page) else MovieFacets()
        return HitPage(total=_total(page), hits=hits, facets=facets, relaxed=relaxed)

    async def search_people(
        self, query: ParsedQuery, *, offset: int, limit: int
    ) -> HitPage[PersonDocument]:
        return await asyncio.to_thread(
            self._simple, "people", cls=PersonDocument, query=query,
            fields=queries.PEOPLE_FIELDS, conditions=[], offset=offset, limit=limit,
        )  # fmt: skip

    async def search_reviews(
        self, query: ParsedQuery, *, movie_id: int | None, offset: int, limit: int
    ) -> HitPage[ReviewDocument]:
        def run() -> HitPage[ReviewDocument]:
            generation = self._reader("reviews")
            conditions = []
            if generation is not None and movie_id is not None:
                on_movie = tantivy.Query.term_query(generation.schema, "movie_id", movie_id)
                conditions.append(tantivy.Query.const_score_query(on_movie, 0.0))
            return self._simple(
                "reviews", cls=ReviewDocument, query=query, fields=queries.REVIEW_FIELDS,
                conditions=conditions, offset=offset, limit=limit,
            )  # fmt: skip

        return await asyncio.to_thread(run)

    def _simple(
        self,
        kind: Kind,
        *,
        cls: type[D],
        query: ParsedQuery,
        fields: Sequence[queries.FieldWeight],
        conditions: list[tantivy.Query],
        offset: int,
        limit: int,
    ) -> HitPage[D]:
        generation = self._reader(kind)
        if generation is None or query.empty:
            return HitPage(total=0, hits=())
        schema = generation.schema
        exact = kind == "people"
        searcher = generation.index.searcher()
        weighted = kind != "reviews"
        relaxed = False
        text = queries.text_query(schema, query, fields, every_term=True, exact_field=exact)
        page = _page(searcher, queries.filtered(text, conditions), offset, limit, weighted)
        if _total(page) == 0 and len(query.terms) > 1:
            relaxed = True
            text = queries.text_query(schema, query, fields, every_term=False, exact_field=exact)
            page = _page(searcher, queries.filtered(text, conditions), offset, limit, weighted)
        return HitPage(total=_total(page), hits=_hits(searcher, page, kind, cls), relaxed=relaxed)

    async def search_semantic(
        self, vector: bytes, *, filters: MovieFilters, offset: int, limit: int
    ) -> HitPage[MovieDocument]:
        return await asyncio.to_thread(self._search_semantic, vector, filters, offset, limit)

    def _search_semantic(
        self, vector: bytes, filters: MovieFilters, offset: int, limit: int
    ) -> HitPage[MovieDocument]:
        generation = self._reader("movies")
        if generation is None:
            return HitPage(total=0, hits=())
        table = self._vectors.get(generation.name)
        if table is None or table.outdated(generation.version):
            table = VectorTable.build(generation.index.searcher(), generation.version)
            self._vectors = {generation.name: table}
        ranked: list[Hit[MovieDocument]] = []
        for score, address in table.nearest(vector):
            movie = from_json("movies", _stored(table.searcher, address))
            assert isinstance(movie, MovieDocument)
            if passes(movie, filters):
                ranked.append(Hit(document=movie, score=score))
                if len(ranked) >= MAX_SEMANTIC_RESULTS:
                    break
        return HitPage(total=len(ranked), hits=tuple(ranked[offset : offset + limit]))

    async def suggest(self, query: ParsedQuery, *, limit: int) -> list[Suggestion]:
        return await asyncio.to_thread(self._suggest, query, limit)

    def _suggest(self, query: ParsedQuery, limit: int) -> list[Suggestion]:
        if query.empty:
            return []
        # As typed first: only when that completes no title or name are typos looked for.
        found = self._suggestions(query, limit, typos=False)
        if not found and _typos_may_help(query):
            found = self._suggestions(query, limit, typos=True)
        found.sort(key=lambda s: -s.score)
        return found[:limit]

    def _suggestions(self, query: ParsedQuery, limit: int, *, typos: bool) -> list[Suggestion]:
        found: list[Suggestion] = []
        for kind, fields in (
            ("movies", queries.SUGGEST_MOVIE_FIELDS),
            ("people", queries.SUGGEST_PEOPLE_FIELDS),
        ):
            generation = self._reader(kind)  # type: ignore[arg-type]
            if generation is None:
                continue
            searcher = generation.index.searcher()
            text = queries.suggest_query(generation.schema, query, fields, typos=typos)
            if kind == "movies":
                adult = tantivy.Query.term_query(generation.schema, "adult", 1)
                text = tantivy.Query.boolean_query(
                    [(tantivy.Occur.Must, text), (tantivy.Occur.MustNot, adult)]
                )
            result = searcher.search(text, limit, count=False, weight_by_field="weight")
            for score, address in result.hits:
                data = _stored(searcher, address)
                if kind == "movies":
                    movie = from_json("movies", data)
                    assert isinstance(movie, MovieDocument)
                    found.append(Suggestion("movies", movie.id, movie.title, movie.year, score))
                else:
                    found.append(Suggestion("people", data["id"], data["name"], None, score))
        return found

    async def count(self, kind: Kind) -> int:
        def run() -> int:
            generation = self._reader(kind)
            return generation.index.searcher().num_docs if generation else 0

        return await asyncio.to_thread(run)

    async def stats(self) -> IndexStats:
        def run() -> IndexStats:
            documents: dict[str, int] = {}
            generations: dict[str, str] = {}
            for kind in KINDS:
                generation = self._reader(kind)
                if generation is not None:
                    documents[kind] = generation.index.searcher().num_docs
                    generations[kind] = generation.name
            return IndexStats(
                documents=documents, generations=generations, stale=tuple(sorted(self.stale))
            )

        return await asyncio.to_thread(run)

    async def ping(self) -> str:
        return f"tantivy {version('tantivy')} at {self.root}"

    async def close(self) -> None:
        for generation in self._live.values():
            generation.writer = None
        self._live.clear()


def _delete_term(writer: tantivy.IndexWriter, kind: Kind, key: str) -> None:
    if kind == "reviews":
        writer.delete_documents_by_term("id", key)
    else:
        writer.delete_documents_by_term("id", int(key))


def _add_all(
    generation: _Generation, documents: list[Document], vectors: Mapping[str, bytes]
) -> None:
    writer = generation.writer
    assert writer is not None
    for document in documents:
        writer.add_document(to_tantivy(document, vectors.get(document.key)))


def _typos_may_help(query: ParsedQuery) -> bool:
    """Whether some term forgives typos: else the typo pass would ask the same again."""
    return any(term.edits for term in query.terms)


def _names_a_title(
    searcher: tantivy.Searcher,
    query_as_typed: tantivy.Query,
    page: tuple[Hit[MovieDocument], ...],
    offset: int,
    query: ParsedQuery,
) -> bool:
    """Whether the best match of the query as typed holds it in a title (its page's first hit,
    or, past the first page, the first hit of the first)."""
    if offset == 0:
        best = page[0].document if page else None
    else:
        top = searcher.search(query_as_typed, 1, count=False, weight_by_field="weight").hits
        document = from_json("movies", _stored(searcher, top[0][1])) if top else None
        best = document if isinstance(document, MovieDocument) else None
    if best is None:
        return False
    titles = (best.title, best.original_title, *best.alternate_titles)
    return queries.names_a_title(query, titles)


def _page(
    searcher: tantivy.Searcher,
    query: tantivy.Query,
    offset: int,
    limit: int,
    weighted: bool = True,
) -> tantivy.SearchResult:
    # tantivy wants a limit of at least 1; past the window, count only.
    size = max(1, min(limit, MAX_WINDOW - offset)) if offset < MAX_WINDOW else 1
    start = min(offset, MAX_WINDOW)
    if weighted:
        return searcher.search(query, size, count=True, offset=start, weight_by_field="weight")
    return searcher.search(query, size, count=True, offset=start)


def _hits(
    searcher: tantivy.Searcher, page: tantivy.SearchResult, kind: Kind, cls: type[D]
) -> tuple[Hit[D], ...]:
    hits: list[Hit[D]] = []
    for score, address in page.hits:
        document = from_json(kind, _stored(searcher, address))
        assert isinstance(document, cls)
        hits.append(Hit(document=document, score=float(score)))
    return tuple(hits)


def _movie_facets(searcher: tantivy.Searcher, query: tantivy.Query) -> MovieFacets:
    spec = {
        "genres": {"terms": {"field": "genre", "size": FACET_SIZES["genres"]}},
        "languages": {"terms": {"field": "lang", "size": FACET_SIZES["languages"]}},
        "decades": {"histogram": {"field": "year", "interval": 10, "min_doc_count": 1}},
    }
    result = searcher.aggregate(query, spec)
    genres = tuple(
        FacetCount(str(b["key"]), int(b["doc_count"])) for b in result["genres"]["buckets"]
    )
    languages = tuple(
        FacetCount(str(b["key"]), int(b["doc_count"]))
        for b in result["languages"]["buckets"]
        if b["key"]
    )
    decades = tuple(
        FacetCount(decade_of(int(b["key"])), int(b["doc_count"]))
        for b in sorted(result["decades"]["buckets"], key=lambda b: -b["key"])
        if b["doc_count"]
    )
    return MovieFacets(genres=genres, decades=decades, languages=languages)


def _total(result: tantivy.SearchResult) -> int:
    # Searches ask for the count; tantivy's type stubs leave the attribute out.
    count = getattr(result, "count", None)
    return int(count) if count is not None else 0


def _stored(searcher: tantivy.Searcher, address: tantivy.DocAddress) -> dict[str, Any]:
    raw = searcher.doc(address).get_first("doc")
    data = json.loads(raw) if isinstance(raw, bytes | str) else None
    if not isinstance(data, dict):
        raise RuntimeError("a search document without its stored body")
    return data
