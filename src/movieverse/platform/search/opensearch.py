"""The distributed search adapter: OpenSearch, through its official async client.

Each kind is an alias (``<prefix>-movies``) over one concrete index (``<prefix>-movies-<gen>``)
whose mappings are :func:`.opensearch_queries.mappings`. A rebuild creates a new concrete index,
bulk-loads it with refreshes off, and moves the alias in one ``_aliases`` call: searches go to
the old index until that call and to the new one after, with no moment without either.

Writes made while a rebuild runs go to both indexes, and documents written live win over the
copies the rebuild loads (as in tantivy). A kind's writes and each step of its rebuild take turns
under one lock: a bulk load in flight beside a live write could otherwise land after it and
bring back the older copy (or a deleted document). That holds for the writes of the process
running the rebuild; one indexer process per deployment is the supported layout while a reindex
runs.

Not run here: no OpenSearch server can be had on the build machine. The contract suite runs
against it where ``MOVIEVERSE_TEST_OPENSEARCH_URL`` is set.
"""

from __future__ import annotations

import asyncio
import struct
import uuid
from collections.abc import AsyncIterable, Callable, Mapping, Sequence
from typing import Any

import structlog
from opensearchpy import AsyncOpenSearch, NotFoundError, helpers

from movieverse.platform.search import opensearch_queries as dsl
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
    IndexStats,
    MovieFacets,
    MovieFilters,
    RebuildHook,
    RebuildStep,
    Suggestion,
    decade_of,
)
from movieverse.platform.search.query import ParsedQuery
from movieverse.platform.search.tantivy_queries import (
    SUGGEST_MOVIE_FIELDS,
    SUGGEST_PEOPLE_FIELDS,
)
from movieverse.platform.search.tantivy_schema import SCHEMA_VERSIONS

log = structlog.get_logger("movieverse.search.opensearch")
BULK_CHUNK = 1000


class OpenSearchIndex:
    """The search port on OpenSearch. Build it with :meth:`open`."""

    def __init__(self, client: AsyncOpenSearch, *, prefix: str, writable: bool) -> None:
        self.client = client
        self.prefix = prefix
        self.writable = writable
        self.stale: set[Kind] = set()
        self._building: dict[Kind, tuple[str, set[str]]] = {}
        self._locks: dict[Kind, asyncio.Lock] = {kind: asyncio.Lock() for kind in KINDS}
        # Tests pause a rebuild at each step with it (port.RebuildHook); None otherwise.
        self.rebuild_hook: RebuildHook | None = None

    @classmethod
    async def open(cls, url: str, *, prefix: str, writable: bool) -> OpenSearchIndex:
        client = AsyncOpenSearch(hosts=[url], timeout=10, max_retries=2, retry_on_timeout=True)
        search = cls(client, prefix=prefix, writable=writable)
        if writable:
            for kind in KINDS:
                await search._ensure(kind)
        return search

    def alias(self, kind: Kind) -> str:
        return f"{self.prefix}-{kind}"

    async def _create(self, kind: Kind) -> str:
        name = f"{self.alias(kind)}-{uuid.uuid4().hex[:12]}"
        await self.client.indices.create(
            index=name,
            body={
                "settings": {
                    "number_of_shards": 1,
                    "refresh_interval": "1s",
                    "index.knn": kind == "movies",
                },
                "mappings": dsl.mappings(kind),
            },
        )
        return name

    async def _ensure(self, kind: Kind) -> None:
        """An alias for every kind; an index of an older schema is marked stale (and rebuilt)."""
        alias = self.alias(kind)
        try:
            found = await self.client.indices.get_alias(name=alias)
        except NotFoundError:
            found = {}
        if not found:
            name = await self._create(kind)
            await self.client.indices.put_alias(index=name, name=alias)
            self.stale.add(kind)
            return
        mapping = await self.client.indices.get_mapping(index=alias)
        versions = {m["mappings"].get("_meta", {}).get("schema") for m in mapping.values()}
        if versions != {SCHEMA_VERSIONS[kind]}:
            self.stale.add(kind)

    # -- writes -------------------------------------------------------------------------------

    async def upsert(
        self, documents: Sequence[Document], *, vectors: Mapping[str, bytes] | None = None
    ) -> None:
        by_kind: dict[Kind, dict[str, Document]] = {}
        for document in documents:  # one version per id: the last
            by_kind.setdefault(kind_of(document), {})[document.key] = document
        for kind, latest in by_kind.items():
            bodies = {key: dsl.source(d, (vectors or {}).get(key)) for key, d in latest.items()}

            def index_op(index: str, key: str, bodies: dict[str, Any] = bodies) -> dict[str, Any]:
                return {"_op_type": "index", "_index": index, "_id": key, "_source": bodies[key]}

            await self._write(kind, list(bodies), index_op)

    async def delete(self, kind: Kind, ids: Sequence[str]) -> None:
        def delete_op(index: str, key: str) -> dict[str, Any]:
            return {"_op_type": "delete", "_index": index, "_id": key}

        await self._write(kind, list(ids), delete_op)

    async def _write(
        self, kind: Kind, keys: list[str], action: Callable[[str, str], dict[str, Any]]
    ) -> None:
        if not keys:
            return
        async with self._locks[kind]:
            await self._bulk([action(self.alias(kind), key) for key in keys])
            building = self._building.get(kind)
            if building is not None:
                name, touched = building
                touched.update(keys)
                # Not refreshed now: refreshes are off on the fresh index (a "wait_for" would
                # wait for the swap's), and the swap refreshes it before it serves.
                await self._bulk([action(name, key) for key in keys], refresh=False)

    async def _bulk(self, actions: list[dict[str, Any]], *, refresh: bool = True) -> None:
        if not actions:
            return
        # Deleting what is not there is no error; anything else is.
        _, errors = await helpers.async_bulk(
            self.client, actions, chunk_size=BULK_CHUNK, raise_on_error=False,
            refresh="wait_for" if refresh else False,
        )  # fmt: skip
        if isinstance(errors, int):  # a count, when stats_only; not asked for here
            errors = []
        failures = [e for e in errors if _status(e) != 404]
        if failures:
            raise RuntimeError(f"OpenSearch refused {len(failures)} writes: {failures[:3]}")

    async def rebuild(self, kind: Kind, batches: AsyncIterable[Batch]) -> int:
        alias = self.alias(kind)
        lock = self._locks[kind]
        async with lock:
            # Registered under the writes' lock before the source is pulled: every write after
            # the call reaches the fresh index and marks its id as touched (#17).
            if kind in self._building:
                raise RuntimeError(f"the {kind} index is already being rebuilt")
            name = await self._create(kind)
            building: tuple[str, set[str]] = (name, set())
            self._building[kind] = building
        touched = building[1]
        loaded = 0
        try:
            await self.client.indices.put_settings(index=name, body={"refresh_interval": "-1"})
            await self._step(kind, "opened")
            number = 0
            async for batch in batches:
                await self._step(kind, "batch_pulled", number)
                async with lock:  # filtered and loaded with no write in flight beside
                    fresh = [d for d in batch.documents if d.key not in touched]
                    actions = [
                        {"_op_type": "index", "_index": name, "_id": d.key,
                         "_source": dsl.source(d, batch.vectors.get(d.key))}
                        for d in fresh
                    ]  # fmt: skip
                    await self._bulk(actions, refresh=False)
                loaded += len(fresh)
                await self._step(kind, "batch_written", number)
                number += 1
            await self._step(kind, "loaded")
            async with lock:
                await self.client.indices.put_settings(index=name, body={"refresh_interval": "1s"})
                await self.client.indices.refresh(index=name)
                old = list(await self.client.indices.get_alias(name=alias))
                swap = [{"remove": {"index": o, "alias": alias}} for o in old]
                swap.append({"add": {"index": name, "alias": alias}})
                await self.client.indices.update_aliases(body={"actions": swap})
                del self._building[kind]  # later writes go to the alias alone
                self.stale.discard(kind)
            await self._step(kind, "live")
        except BaseException:
            async with lock:
                if self._building.get(kind) is building:
                    del self._building[kind]
            # The swap may have been applied even though its call failed (a client timeout
            # after the server acted): then ``name`` is the live index, and it stays.
            if not await self._serves_alias(alias, name):
                await self.client.indices.delete(index=name, ignore_unavailable=True)
            raise
        await self._step(kind, "swapped")
        for index in old:
            await self.client.indices.delete(index=index, ignore_unavailable=True)
        log.info("search_index_swapped", kind=kind, index=name, documents=loaded)
        return loaded

    async def _serves_alias(self, alias: str, index: str) -> bool:
        """Whether ``index`` is behind ``alias``; True when that cannot be told, since a
        leftover index only costs disk and deleting the live one would empty searches."""
        try:
            return bool(await self.client.indices.exists_alias(name=alias, index=index))
        except Exception as exc:  # any failure to ask: keep the index
            log.warning("search_alias_check_failed", alias=alias, index=index, error=repr(exc))
            return True

    async def _step(self, kind: Kind, step: RebuildStep, batch: int = -1) -> None:
        if self.rebuild_hook is not None:
            await self.rebuild_hook(kind, step, batch)

    # -- reads --------------------------------------------------------------------------------

    async def _search(
        self, kind: Kind, query: dict[str, Any], *, offset: int, limit: int, **extra: Any
    ) -> dict[str, Any]:
        if offset >= MAX_WINDOW:
            offset, limit = 0, 0  # counts only
        body = {"query": query, "from": offset, "size": min(limit, MAX_WINDOW - offset)}
        body |= extra
        try:
            result: dict[str, Any] = await self.client.search(
                index=self.alias(kind), body=body, track_total_hits=True
            )
        except NotFoundError:
            return {"hits": {"total": {"value": 0}, "hits": []}}
        return result

    async def search_movies(
        self, query: ParsedQuery, *, filters: MovieFilters, offset: int, limit: int
    ) -> HitPage[MovieDocument]:
        if query.empty:
            return HitPage(total=0, hits=())
        conditions = dsl.movie_filters(filters)
        relaxed = False
        text = dsl.text_query(query, dsl.FIELDS["movies"], every_term=True, year_field=True)
        full = dsl.weighted(dsl.filtered(text, conditions))
        result = await self._search(
            "movies", full, offset=offset, limit=limit, aggs=dsl.MOVIE_AGGREGATIONS
        )
        if _total(result) == 0 and len(query.terms) > 1:
            relaxed = True
            text = dsl.text_query(query, dsl.FIELDS["movies"], every_term=False, year_field=True)
            full = dsl.weighted(dsl.filtered(text, conditions))
            result = await self._search(
                "movies", full, offset=offset, limit=limit, aggs=dsl.MOVIE_AGGREGATIONS
            )
        return HitPage(
            total=_total(result),
            hits=_hits(result, "movies", MovieDocument),
            facets=_facets(result.get("aggregations", {})),
            relaxed=relaxed,
        )

    async def search_people(
        self, query: ParsedQuery, *, offset: int, limit: int
    ) -> HitPage[PersonDocument]:
        return await self._simple("people", PersonDocument, query, [], offset=offset, limit=limit)

    async def search_reviews(
        self, query: ParsedQuery, *, movie_id: int | None, offset: int, limit: int
    ) -> HitPage[ReviewDocument]:
        conditions = [{"term": {"movie_id": movie_id}}] if movie_id is not None else []
        return await self._simple(
            "reviews", ReviewDocument, query, conditions, offset=offset, limit=limit
        )

    async def _simple(
        self,
        kind: Kind,
        cls: type[D],
        query: ParsedQuery,
        conditions: list[dict[str, Any]],
        *,
        offset: int,
        limit: int,
    ) -> HitPage[D]:
        if query.empty:
            return HitPage(total=0, hits=())
        exact = kind == "people"
        relaxed = False

        def build(every_term: bool) -> dict[str, Any]:
            text = dsl.text_query(query, dsl.FIELDS[kind], every_term=every_term, exact_field=exact)
            full = dsl.filtered(text, conditions)
            return dsl.weighted(full) if kind != "reviews" else full

        result = await self._search(kind, build(True), offset=offset, limit=limit)
        if _total(result) == 0 and len(query.terms) > 1:
            relaxed = True
            result = await self._search(kind, build(False), offset=offset, limit=limit)
        return HitPage(total=_total(result), hits=_hits(result, kind, cls), relaxed=relaxed)

    async def search_semantic(
        self, vector: bytes, *, filters: MovieFilters, offset: int, limit: int
    ) -> HitPage[MovieDocument]:
        """k-NN on the ``vec`` field (HNSW, cosine), the filters applied inside the search."""
        values = list(struct.unpack(f"<{len(vector) // 4}f", vector))
        knn = {
            "knn": {
                "vec": {
                    "vector": values,
                    "k": MAX_SEMANTIC_RESULTS,
                    "filter": {"bool": {"filter": dsl.movie_filters(filters)}},
                }
            }
        }
        result = await self._search(
            "movies", knn, offset=min(offset, MAX_SEMANTIC_RESULTS),
            limit=max(0, min(limit, MAX_SEMANTIC_RESULTS - offset)),
        )  # fmt: skip
        total = min(_total(result), MAX_SEMANTIC_RESULTS)
        return HitPage(total=total, hits=_hits(result, "movies", MovieDocument))

    async def suggest(self, query: ParsedQuery, *, limit: int) -> list[Suggestion]:
        if query.empty:
            return []
        found: list[Suggestion] = []
        movies = dsl.text_query(query, SUGGEST_MOVIE_FIELDS, every_term=True)
        movies = dsl.filtered(movies, dsl.movie_filters(MovieFilters()))
        people = dsl.text_query(query, SUGGEST_PEOPLE_FIELDS, every_term=True)
        results = await asyncio.gather(
            self._search("movies", dsl.weighted(movies), offset=0, limit=limit),
            self._search("people", dsl.weighted(people), offset=0, limit=limit),
        )
        for kind, result in zip(("movies", "people"), results, strict=True):
            for hit in result["hits"]["hits"]:
                data = hit["_source"]["doc"]
                score = float(hit.get("_score") or 0.0)
                if kind == "movies":
                    movie = from_json("movies", data)
                    assert isinstance(movie, MovieDocument)
                    found.append(Suggestion("movies", movie.id, movie.title, movie.year, score))
                else:
                    found.append(Suggestion("people", data["id"], data["name"], None, score))
        found.sort(key=lambda s: -s.score)
        return found[:limit]

    def generation(self, kinds: Sequence[Kind]) -> str | None:
        # Another process's writes show after a refresh this process hears nothing of: no
        # token can say when, so responses from OpenSearch are never kept.
        return None

    async def count(self, kind: Kind) -> int:
        try:
            result = await self.client.count(index=self.alias(kind))
        except NotFoundError:
            return 0
        return int(result["count"])

    async def stats(self) -> IndexStats:
        documents: dict[str, int] = {}
        generations: dict[str, str] = {}
        for kind in KINDS:
            documents[kind] = await self.count(kind)
            try:
                generations[kind] = ",".join(
                    await self.client.indices.get_alias(name=self.alias(kind))
                )
            except NotFoundError:
                continue
        return IndexStats(
            documents=documents, generations=generations, stale=tuple(sorted(self.stale))
        )

    async def ping(self) -> str:
        info = await self.client.info()
        return f"OpenSearch {info['version']['number']}"

    async def close(self) -> None:
        await self.client.close()


def _status(error: dict[str, Any]) -> int | None:
    for outcome in error.values():
        if isinstance(outcome, dict) and "status" in outcome:
            return int(outcome["status"])
    return None


def _total(result: dict[str, Any]) -> int:
    return int(result["hits"]["total"]["value"])


def _hits(result: dict[str, Any], kind: Kind, cls: type[D]) -> tuple[Hit[D], ...]:
    hits: list[Hit[D]] = []
    for hit in result["hits"]["hits"]:
        document = from_json(kind, hit["_source"]["doc"])
        assert isinstance(document, cls)
        hits.append(Hit(document=document, score=float(hit.get("_score") or 0.0)))
    return tuple(hits)


def _facets(aggregations: dict[str, Any]) -> MovieFacets:
    if not aggregations:
        return MovieFacets()

    def terms(name: str) -> tuple[FacetCount, ...]:
        return tuple(
            FacetCount(str(b["key"]), int(b["doc_count"]))
            for b in aggregations[name]["buckets"]
            if b["key"]
        )

    decades = tuple(
        FacetCount(decade_of(int(b["key"])), int(b["doc_count"]))
        for b in sorted(aggregations["decades"]["buckets"], key=lambda b: -b["key"])
        if b["doc_count"]
    )
    return MovieFacets(genres=terms("genres"), decades=decades, languages=terms("languages"))
