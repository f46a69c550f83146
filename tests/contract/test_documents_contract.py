"""One behaviour for every document store: SQLite always; PostgreSQL, MySQL/MariaDB and MongoDB
when their URLs are set. Each test gets a database of its own."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from pymongo import AsyncMongoClient
from pymongo.errors import ServerSelectionTimeoutError
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from movieverse.platform.db import Database, normalise_url
from movieverse.platform.docs import (
    Document,
    DocumentStore,
    Scalar,
    SortDirection,
    SqlDocumentStore,
    create_document_store,
    documents_table,
)
from movieverse.platform.docs.mongo import MongoDocumentStore, mongo_filter
from movieverse.platform.docs.port import check_filter
from movieverse.platform.models import service_metadata
from movieverse.platform.settings import PlatformSettings
from tests.support import require_server

SERVICE = "docstest"


@asynccontextmanager
async def _fresh_server_database(kind: str) -> AsyncIterator[str]:
    """An empty database on the PostgreSQL or MySQL server, dropped afterwards."""
    base = normalise_url(require_server(kind))
    name = f"mv_docs_{uuid.uuid4().hex[:10]}"
    quoted = f'"{name}"' if kind == "postgres" else f"`{name}`"
    admin = create_async_engine(base, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            await conn.execute(text(f"CREATE DATABASE {quoted}"))
        try:
            yield make_url(base).set(database=name).render_as_string(hide_password=False)
        finally:
            async with admin.connect() as conn:
                await conn.execute(text(f"DROP DATABASE IF EXISTS {quoted}"))
    finally:
        await admin.dispose()


@dataclass
class Harness:
    backend: str
    store: DocumentStore
    # The caller's database: the SQL store lives in it; beside MongoDB it only supplies sessions.
    db: Database

    async def put_many(self, collection: str, items: Sequence[tuple[str, Document]]) -> None:
        async with self.db.unit_of_work() as session:
            await self.store.put_many(session, collection, items)

    async def get(self, collection: str, doc_id: str) -> Document | None:
        async with self.db.unit_of_work(write=False) as session:
            return await self.store.get(session, collection, doc_id)

    async def ids(
        self,
        collection: str,
        *,
        where: Mapping[str, Scalar] | None = None,
        name_contains: tuple[str, str] | None = None,
        sort: list[tuple[str, SortDirection]] | None = None,
        offset: int = 0,
        limit: int = 100,
    ) -> list[str]:
        async with self.db.unit_of_work(write=False) as session:
            found = await self.store.find(
                session,
                collection,
                where=where,
                name_contains=name_contains,
                sort=sort,
                offset=offset,
                limit=limit,
            )
        return [doc_id for doc_id, _ in found]

    async def count(
        self,
        collection: str,
        *,
        where: Mapping[str, Scalar] | None = None,
        name_contains: tuple[str, str] | None = None,
    ) -> int:
        async with self.db.unit_of_work(write=False) as session:
            return await self.store.count(
                session, collection, where=where, name_contains=name_contains
            )


@pytest.fixture(params=["sqlite", "postgres", "mysql", "mongodb"])
async def harness(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Harness]:
    backend: str = request.param
    settings = PlatformSettings(environment="test")
    async with AsyncExitStack() as cleanup:
        store: DocumentStore
        if backend == "mongodb":
            mongo_url = require_server("mongodb")
            database = f"mvtest_docs_{uuid.uuid4().hex[:10]}"
            client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
                mongo_url, serverSelectionTimeoutMS=5000
            )
            store = MongoDocumentStore(client, database=database, service=SERVICE)
            cleanup.push_async_callback(store.close)
            cleanup.push_async_callback(client.drop_database, database)
            url = f"sqlite:///{tmp_path / 'caller.db'}"
        elif backend == "sqlite":
            url = f"sqlite:///{tmp_path / 'documents.db'}"
        else:
            url = await cleanup.enter_async_context(_fresh_server_database(backend))
        db = Database.connect(url, settings)
        cleanup.push_async_callback(db.dispose)
        if backend != "mongodb":
            metadata = service_metadata()
            table = documents_table(metadata, SERVICE)
            async with db.engine.begin() as conn:
                await conn.run_sync(metadata.create_all)
            store = SqlDocumentStore(db, table)
        yield Harness(backend, store, db)


# -- storing and loading ------------------------------------------------------------------------

MOVIE_ANALYSIS: Document = {
    "title": "Le Fabuleux Destin d'Amélie Poulain",
    "tagline": "Elle va changer votre vie 🎬 — 天使",
    "runtime": 122,
    "score": 0.875,
    "adult": False,
    "collection": None,
    "genres": [{"id": 35, "name": "Comédie"}, {"id": 10749, "name": "Romance"}],
    "sentiment": {"positive": 0.8, "aspects": {"music": [1, 2.5, None, "yes"], "empty": {}}},
}


async def test_put_get_round_trip(harness: Harness) -> None:
    async with harness.db.unit_of_work() as session:
        await harness.store.put(session, "analyses", "movie:194", MOVIE_ANALYSIS)
        # A write is visible to later reads of the same unit of work.
        assert await harness.store.get(session, "analyses", "movie:194") == MOVIE_ANALYSIS
    assert await harness.get("analyses", "movie:194") == MOVIE_ANALYSIS
    assert await harness.get("analyses", "movie:404") is None
    # Collections are separate namespaces.
    assert await harness.get("people", "movie:194") is None


async def test_put_replaces_the_whole_document(harness: Harness) -> None:
    async with harness.db.unit_of_work() as session:
        await harness.store.put(session, "people", "1", {"name": "Old", "biography": "long"})
    async with harness.db.unit_of_work() as session:
        await harness.store.put(session, "people", "1", {"name": "New"})
    assert await harness.get("people", "1") == {"name": "New"}
    assert await harness.count("people") == 1


async def test_ids_are_exact_and_case_sensitive(harness: Harness) -> None:
    await harness.put_many(
        "people",
        [("abc", {"n": 1}), ("ABC", {"n": 2}), ("é", {"n": 3}), ("e", {"n": 4}), ("a b", {"n": 5})],
    )
    assert await harness.get("people", "ABC") == {"n": 2}
    assert await harness.get("people", "abc") == {"n": 1}
    assert await harness.get("people", "é") == {"n": 3}
    assert await harness.get("people", "e") == {"n": 4}
    assert await harness.get("people", "a b") == {"n": 5}
    assert await harness.count("people") == 5


async def test_get_many_returns_what_exists(harness: Harness) -> None:
    await harness.put_many("people", [("1", {"n": 1}), ("2", {"n": 2}), ("3", {"n": 3})])
    async with harness.db.unit_of_work(write=False) as session:
        found = await harness.store.get_many(session, "people", ["3", "missing", "1", "3"])
        assert found == {"1": {"n": 1}, "3": {"n": 3}}
        assert await harness.store.get_many(session, "people", []) == {}
        assert await harness.store.get_many(session, "credits", ["1"]) == {}


async def test_delete(harness: Harness) -> None:
    await harness.put_many("people", [("1", {"n": 1}), ("2", {"n": 2})])
    async with harness.db.unit_of_work() as session:
        assert await harness.store.delete(session, "people", "1") is True
        assert await harness.store.delete(session, "people", "1") is False
        assert await harness.store.delete(session, "credits", "2") is False
    assert await harness.get("people", "1") is None
    assert await harness.get("people", "2") == {"n": 2}


async def test_sql_writes_roll_back_with_the_caller(harness: Harness) -> None:
    async def write_then_fail() -> None:
        async with harness.db.unit_of_work() as session:
            await harness.store.put(session, "people", "ghost", {"n": 1})
            raise RuntimeError("abort")

    with pytest.raises(RuntimeError, match="abort"):
        await write_then_fail()
    stored = await harness.get("people", "ghost")
    if isinstance(harness.store, SqlDocumentStore):
        assert stored is None  # part of the caller's transaction
    else:
        assert stored == {"n": 1}  # MongoDB writes take effect at once (documented)


async def test_put_many_in_bulk(harness: Harness) -> None:
    items: list[tuple[str, Document]] = [
        (f"person:{i:05d}", {"n": i, "name": f"Person {i}"}) for i in range(5000)
    ]
    items.append(("person:00000", {"n": -1, "name": "last one wins"}))
    await harness.put_many("people", items)
    assert await harness.count("people") == 5000
    assert await harness.get("people", "person:00000") == {"n": -1, "name": "last one wins"}
    assert await harness.get("people", "person:04999") == {"n": 4999, "name": "Person 4999"}
    assert await harness.ids("people", where={"n": 2500}) == ["person:02500"]

    await harness.put_many(
        "people", [(f"person:{i:05d}", {"n": i, "revised": True}) for i in range(100)]
    )
    assert await harness.count("people") == 5000
    assert await harness.count("people", where={"revised": True}) == 100
    await harness.put_many("people", [])
    assert await harness.count("people") == 5000


# -- finding ------------------------------------------------------------------------------------

PEOPLE: list[tuple[str, Document]] = [
    ("p1", {"name": "Amélie Poulain", "dept": "Acting", "pop": 9.5, "born": 1975, "active": True}),
    ("p2", {"name": "AMÉLIE Nothomb", "dept": "Writing", "pop": 10, "born": 1966, "active": False}),
    ("p3", {"name": "amelie sans accent", "dept": "acting", "pop": 100, "born": None}),
    ("p4", {"name": "Zoe", "dept": "Acting", "pop": 2.5, "active": 1}),
    ("p5", {"name": "bob", "dept": ["Acting", "Directing"], "pop": "10"}),
    ("p6", {"dept": "Acting", "pop": 9.5, "name": 1975}),
]


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ({"dept": "Acting"}, ["p1", "p4", "p6"]),  # exact case; an array holding it never matches
        ({"dept": "acting"}, ["p3"]),
        ({"pop": 10}, ["p2"]),  # the string "10" is not the number 10
        ({"pop": 10.0}, ["p2"]),
        ({"pop": "10"}, ["p5"]),
        ({"active": True}, ["p1"]),  # the number 1 is not true
        ({"active": 1}, ["p4"]),
        ({"active": False}, ["p2"]),
        ({"dept": "Acting", "pop": 9.5}, ["p1", "p6"]),
        ({"born": 1975}, ["p1"]),
        ({"nowhere": "Acting"}, []),
        ({}, ["p1", "p2", "p3", "p4", "p5", "p6"]),
    ],
)
async def test_find_where_equals(
    harness: Harness, where: dict[str, Scalar], expected: list[str]
) -> None:
    await harness.put_many("people", PEOPLE)
    assert await harness.ids("people", where=where) == expected
    assert await harness.count("people", where=where) == len(expected)


@pytest.mark.parametrize(
    ("needle", "expected"),
    [
        ("amélie", ["p1", "p2"]),
        ("AMÉLIE", ["p1", "p2"]),  # non-ASCII letters are case-folded too
        ("amelie", ["p3"]),  # accents are not ignored
        ("ZO", ["p4"]),
        ("e N", ["p2"]),
        ("1975", []),  # only strings are searched
        ("", ["p1", "p2", "p3", "p4", "p5"]),
    ],
)
async def test_name_contains_ignores_case(
    harness: Harness, needle: str, expected: list[str]
) -> None:
    await harness.put_many("people", PEOPLE)
    assert await harness.ids("people", name_contains=("name", needle)) == expected
    assert await harness.count("people", name_contains=("name", needle)) == len(expected)


async def test_name_contains_with_where_and_on_other_fields(harness: Harness) -> None:
    await harness.put_many("people", PEOPLE)
    acting: dict[str, Scalar] = {"dept": "Acting"}
    amelie = ("name", "amélie")
    assert await harness.ids("people", where=acting, name_contains=amelie) == ["p1"]
    assert await harness.count("people", where=acting, name_contains=amelie) == 1
    # Both conditions on one field.
    named = {"name": "AMÉLIE Nothomb"}
    assert await harness.ids("people", where=named, name_contains=amelie) == ["p2"]
    # The field is a string in p5 only; the array in p5's dept is not searched.
    assert await harness.ids("people", name_contains=("pop", "10")) == ["p5"]
    assert await harness.ids("people", name_contains=("dept", "ACT")) == ["p1", "p3", "p4", "p6"]


TITLES: list[tuple[str, Document]] = [
    ("t1", {"title": "100% Love"}),
    ("t2", {"title": "snake_case"}),
    ("t3", {"title": "back\\slash"}),
    ("t4", {"title": "a.*b regex"}),
    ("t5", {"title": "$where clause"}),
    ("t6", {"title": "O'Brien'; drop table x; --"}),
    ("t7", {"title": "plain title"}),
    ("t8", {"title": "slash/ed"}),
]


@pytest.mark.parametrize(
    ("needle", "expected"),
    [
        ("%", ["t1"]),
        ("_", ["t2"]),
        ("\\", ["t3"]),
        (".*", ["t4"]),
        (".", ["t4"]),
        ("*", ["t4"]),
        ("$where", ["t5"]),
        ("'; drop table", ["t6"]),
        ("/", ["t8"]),
        ("%_", []),
        ("/%", []),
        ("\\%", []),
        ("^", []),
        ("(", []),
        ("[a-z]", []),
        ("e$", []),
        ("'", ["t6"]),
        ('"', []),
    ],
)
async def test_name_contains_matches_literally(
    harness: Harness, needle: str, expected: list[str]
) -> None:
    await harness.put_many("titles", TITLES)
    assert await harness.ids("titles", name_contains=("title", needle)) == expected
    assert await harness.count("titles") == len(TITLES)  # nothing was dropped either


SORTABLE: list[tuple[str, Document]] = [
    ("s1", {"title": "amélie", "rank": 10}),
    ("s2", {"title": "Zoe", "rank": 9}),
    ("s3", {"title": "Bob", "rank": 100}),
    ("s4", {"title": "bob", "rank": 2.5}),
    ("s5", {"title": "Émile", "rank": 10}),
    ("s6", {"rank": 10.0}),
]


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        # Strings by code point; a missing field is the smallest value.
        ([("title", "asc")], ["s6", "s3", "s2", "s1", "s4", "s5"]),
        ([("title", "desc")], ["s5", "s4", "s1", "s2", "s3", "s6"]),
        # Numbers by value (not "10" < "100" < "2.5"), int and float alike; ties by id ascending.
        ([("rank", "asc")], ["s4", "s2", "s1", "s5", "s6", "s3"]),
        ([("rank", "desc")], ["s3", "s1", "s5", "s6", "s2", "s4"]),
        ([("rank", "desc"), ("title", "asc")], ["s3", "s6", "s1", "s5", "s2", "s4"]),
        ([("rank", "asc"), ("title", "desc")], ["s4", "s2", "s5", "s1", "s6", "s3"]),
        ([("nowhere", "desc")], ["s1", "s2", "s3", "s4", "s5", "s6"]),
        ([], ["s1", "s2", "s3", "s4", "s5", "s6"]),
    ],
)
async def test_sort(
    harness: Harness, sort: list[tuple[str, SortDirection]], expected: list[str]
) -> None:
    await harness.put_many("sortable", SORTABLE)
    assert await harness.ids("sortable", sort=sort) == expected


async def test_sort_across_json_types(harness: Harness) -> None:
    await harness.put_many(
        "mixed",
        [
            ("m1", {"v": "text"}),
            ("m2", {"v": 3}),
            ("m3", {"v": True}),
            ("m4", {"v": None}),
            ("m5", {}),
            ("m6", {"v": False}),
            ("m7", {"v": -1.5}),
            ("m8", {"v": "Text"}),
        ],
    )
    # null and missing, then numbers, strings, booleans: MongoDB's order.
    ascending = ["m4", "m5", "m7", "m2", "m8", "m1", "m6", "m3"]
    assert await harness.ids("mixed", sort=[("v", "asc")]) == ascending
    assert await harness.ids("mixed", sort=[("v", "desc")]) == [
        "m3", "m6", "m1", "m8", "m2", "m7", "m4", "m5"
    ]  # fmt: skip


async def test_offset_pagination_is_stable_over_ties(harness: Harness) -> None:
    await harness.put_many("page", [(f"d{i:02d}", {"group": i % 2}) for i in range(25)])
    expected = [f"d{i:02d}" for i in range(0, 25, 2)] + [f"d{i:02d}" for i in range(1, 25, 2)]
    pages = [
        await harness.ids("page", sort=[("group", "asc")], offset=offset, limit=10)
        for offset in (0, 10, 20)
    ]
    assert [len(page) for page in pages] == [10, 10, 5]
    assert pages[0] + pages[1] + pages[2] == expected
    assert await harness.ids("page", sort=[("group", "asc")], offset=25, limit=10) == []
    assert await harness.ids("page", where={"group": 1}, offset=3, limit=2) == ["d07", "d09"]
    assert await harness.count("page") == 25
    assert await harness.count("page", where={"group": 0}) == 13
    assert await harness.count("empty") == 0


async def test_find_returns_documents_with_their_ids(harness: Harness) -> None:
    await harness.put_many("people", PEOPLE)
    async with harness.db.unit_of_work(write=False) as session:
        found = await harness.store.find(session, "people", where={"name": "Zoe"})
    assert found == [("p4", PEOPLE[3][1])]


# -- refusals -----------------------------------------------------------------------------------

BAD_FIELDS = ["Name", "name.first", "$where", "a-b", "", "x" * 65, "name\n", "_id", "1st", "é"]


@pytest.mark.parametrize("field", BAD_FIELDS)
async def test_invalid_field_names_are_refused(harness: Harness, field: str) -> None:
    async with harness.db.unit_of_work(write=False) as session:
        with pytest.raises(ValueError, match="field"):
            await harness.store.find(session, "people", where={field: 1})
        with pytest.raises(ValueError, match="field"):
            await harness.store.find(session, "people", sort=[(field, "asc")])
        with pytest.raises(ValueError, match="field"):
            await harness.store.find(session, "people", name_contains=(field, "x"))
        with pytest.raises(ValueError, match="field"):
            await harness.store.count(session, "people", where={field: "x"})


async def test_invalid_names_ids_documents_and_pages_are_refused(harness: Harness) -> None:
    store = harness.store
    async with harness.db.unit_of_work() as session:
        for collection in ["People", "a.b", "system.x", "", "x" * 65, "$cmd"]:
            with pytest.raises(ValueError, match="collection"):
                await store.get(session, collection, "1")
        for doc_id in ["", "x" * 129, "trailing ", "nul\x00"]:
            with pytest.raises(ValueError, match="id"):
                await store.put(session, "people", doc_id, {"n": 1})
        with pytest.raises(ValueError, match="id"):
            await store.get_many(session, "people", ["ok", ""])
        reserved: list[Document] = [{"_id": "x"}, {"$set": {"n": 1}}]
        for document in reserved:
            with pytest.raises(ValueError, match="reserved"):
                await store.put_many(session, "people", [("1", document)])
        with pytest.raises(TypeError):
            await store.put(session, "people", "1", ["not", "an", "object"])  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="direction"):
            await store.find(session, "people", sort=[("name", "up")])  # type: ignore[list-item]
        with pytest.raises(ValueError, match="twice"):
            await store.find(session, "people", sort=[("name", "asc"), ("name", "desc")])
        for offset, limit in [(-1, 10), (0, 0), (0, 1001)]:
            with pytest.raises(ValueError, match=r"offset|limit"):
                await store.find(session, "people", offset=offset, limit=limit)
        for value in [None, [1], {"$gt": 1}]:
            with pytest.raises(TypeError):
                await store.find(session, "people", where={"n": value})  # type: ignore[dict-item]
        with pytest.raises(ValueError, match="finite"):
            await store.count(session, "people", where={"n": float("nan")})
    assert await harness.count("people") == 0


async def test_ping_names_the_server(harness: Harness) -> None:
    version = await harness.store.ping()
    prefixes = {"sqlite": "SQLite ", "postgres": "PostgreSQL ", "mongodb": "MongoDB "}
    if harness.backend in prefixes:
        assert version.startswith(prefixes[harness.backend])
    else:
        assert re.match(r"\d+\.\d+", version)


# -- without a server ---------------------------------------------------------------------------


async def test_sql_ping_raises_when_unreachable() -> None:
    db = Database.connect("postgresql://nobody@127.0.0.1:1/none", PlatformSettings())
    try:
        store = SqlDocumentStore(db, documents_table(service_metadata(), SERVICE))
        with pytest.raises(ConnectionError, match="unreachable"):
            await store.ping()
    finally:
        await db.dispose()


async def test_mongo_ping_raises_when_unreachable() -> None:
    store = MongoDocumentStore.from_url(
        "mongodb://127.0.0.1:1/mvdocs?serverSelectionTimeoutMS=200", service=SERVICE
    )
    try:
        with pytest.raises(ServerSelectionTimeoutError, match=r"127\.0\.0\.1:1"):
            await store.ping()
    finally:
        await store.close()


def test_mongo_filters_hold_literals_only() -> None:
    assert mongo_filter(check_filter(None, None)) == {}
    assert mongo_filter(check_filter(None, ("name", ".*$where(x)"))) == {
        "name": {"$regex": r"\.\*\$where\(x\)", "$options": "i", "$not": {"$type": "array"}}
    }
    assert mongo_filter(check_filter({"dept": "$ne", "pop": 10}, ("name", "a"))) == {
        "$and": [
            {"dept": {"$eq": "$ne", "$not": {"$type": "array"}}},
            {"pop": {"$eq": 10, "$not": {"$type": "array"}}},
            {"name": {"$regex": "a", "$options": "i", "$not": {"$type": "array"}}},
        ]
    }


async def test_factory_picks_the_adapter_from_the_url(tmp_path: Path) -> None:
    db = Database.connect(f"sqlite:///{tmp_path / 'svc.db'}", PlatformSettings())
    table = documents_table(service_metadata(), SERVICE)
    try:
        assert isinstance(
            create_document_store(None, service=SERVICE, table=table, database=db),
            SqlDocumentStore,
        )
        store = create_document_store(
            "mongodb://127.0.0.1:1/mv", service=SERVICE, table=table, database=db
        )
        assert isinstance(store, MongoDocumentStore)
        await store.close()
        with pytest.raises(ValueError, match="postgresql://") as refused:
            create_document_store(
                "postgresql://user:s3cret@db/x", service=SERVICE, table=table, database=db
            )
        assert "s3cret" not in str(refused.value)
    finally:
        await db.dispose()


def test_documents_table_is_per_service() -> None:
    table = documents_table(service_metadata(), "metadata")
    assert table.name == "metadata_documents"
    assert [column.name for column in table.primary_key.columns] == ["collection", "doc_id"]
    with pytest.raises(ValueError, match="service"):
        documents_table(service_metadata(), "Meta-data")
