"""Documents in MongoDB (the distributed shape), through pymongo's native asyncio client.

Each document collection is a MongoDB collection named ``<service>_<collection>``, holding the
document's own fields with the id as ``_id``, so filters and sorts address fields directly.

The ``session`` every method takes is the caller's SQL session, which this adapter does not use:
writes here are not part of the caller's SQL transaction and take effect at once, one document
atomically at a time. A caller that must not announce a change before it is stored writes the
document first and its events afterwards.

Filters are built only from validated field names and literal values, never from text that could
be read as an operator: ``name_contains`` becomes a regular expression of the escaped text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from pymongo import ASCENDING, DESCENDING, AsyncMongoClient, ReplaceOne
from pymongo.asynchronous.collection import AsyncCollection
from sqlalchemy.ext.asyncio import AsyncSession

from movieverse.platform.docs.port import (
    Document,
    Filter,
    Scalar,
    SortDirection,
    batches,
    check_filter,
    check_id,
    check_name,
    check_page,
    check_sort,
    last_wins,
)

_BATCH = 1000
_DEFAULT_DATABASE = "movieverse"
# Fail a health check in seconds rather than the driver's default 30; the URL may say otherwise.
_DEFAULT_OPTIONS = {"serverSelectionTimeoutMS": 5000, "connectTimeoutMS": 5000}

# Arrays would otherwise match when any element does; the SQL adapter compares whole values.
_NOT_AN_ARRAY = {"$not": {"$type": "array"}}

MongoClient = AsyncMongoClient[dict[str, Any]]


def mongo_filter(conditions: Filter) -> dict[str, Any]:
    """The MongoDB query for validated conditions."""
    clauses: list[dict[str, Any]] = [
        {name: {"$eq": value, **_NOT_AN_ARRAY}} for name, value in conditions.where
    ]
    if conditions.name_contains is not None:
        name, text = conditions.name_contains
        clauses.append({name: {"$regex": re.escape(text), "$options": "i", **_NOT_AN_ARRAY}})
    if not clauses:
        return {}
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


def _body(raw: Mapping[str, Any]) -> Document:
    return {key: value for key, value in raw.items() if key != "_id"}


class MongoDocumentStore:
    def __init__(self, client: MongoClient, *, database: str, service: str) -> None:
        self._client = client
        self._database = client[database]
        self._prefix = check_name(service, what="service") + "_"

    @classmethod
    def from_url(cls, url: str, *, service: str) -> MongoDocumentStore:
        """A store on the database named in the URL's path (``movieverse`` if none).

        The client connects lazily, so this succeeds even while the server is down.
        """
        # Keyword arguments would override the URL's options, so pass only those it lacks.
        given = {key.lower() for key, _ in parse_qsl(urlsplit(url).query)}
        defaults: dict[str, Any] = {
            k: v for k, v in _DEFAULT_OPTIONS.items() if k.lower() not in given
        }
        client: MongoClient = AsyncMongoClient(url, **defaults)
        database = client.get_default_database(default=_DEFAULT_DATABASE).name
        return cls(client, database=database, service=service)

    def collection(self, name: str) -> AsyncCollection[dict[str, Any]]:
        return self._database[self._prefix + check_name(name)]

    async def get(self, session: AsyncSession, collection: str, doc_id: str) -> Document | None:
        raw = await self.collection(collection).find_one({"_id": check_id(doc_id)})
        return None if raw is None else _body(raw)

    async def get_many(
        self, session: AsyncSession, collection: str, ids: Iterable[str]
    ) -> dict[str, Document]:
        target = self.collection(collection)
        wanted = list(dict.fromkeys(check_id(doc_id) for doc_id in ids))
        found: dict[str, Document] = {}
        for chunk in batches(wanted, _BATCH):
            async for raw in target.find({"_id": {"$in": list(chunk)}}):
                found[raw["_id"]] = _body(raw)
        return found

    async def put(
        self, session: AsyncSession, collection: str, doc_id: str, document: Mapping[str, Any]
    ) -> None:
        await self.put_many(session, collection, [(doc_id, document)])

    async def put_many(
        self,
        session: AsyncSession,
        collection: str,
        items: Sequence[tuple[str, Mapping[str, Any]]],
    ) -> None:
        target = self.collection(collection)
        requests = [
            ReplaceOne({"_id": doc_id}, {"_id": doc_id, **document}, upsert=True)
            for doc_id, document in last_wins(items).items()
        ]
        for chunk in batches(requests, _BATCH):
            # Unordered: the server may apply a batch in parallel; ids are unique within it.
            await target.bulk_write(list(chunk), ordered=False)

    async def delete(self, session: AsyncSession, collection: str, doc_id: str) -> bool:
        result = await self.collection(collection).delete_one({"_id": check_id(doc_id)})
        return result.deleted_count == 1

    async def find(
        self,
        session: AsyncSession,
        collection: str,
        *,
        where: Mapping[str, Scalar] | None = None,
        name_contains: tuple[str, str] | None = None,
        sort: Sequence[tuple[str, SortDirection]] | None = None,
        offset: int = 0,
        limit: int = 20,
    ) -> list[tuple[str, Document]]:
        query = mongo_filter(check_filter(where, name_contains))
        order = [
            (name, DESCENDING if direction == "desc" else ASCENDING)
            for name, direction in check_sort(sort)
        ]
        check_page(offset, limit)
        cursor = self.collection(collection).find(
            query, sort=[*order, ("_id", ASCENDING)], skip=offset, limit=limit
        )
        return [(raw["_id"], _body(raw)) async for raw in cursor]

    async def count(
        self,
        session: AsyncSession,
        collection: str,
        *,
        where: Mapping[str, Scalar] | None = None,
        name_contains: tuple[str, str] | None = None,
    ) -> int:
        query = mongo_filter(check_filter(where, name_contains))
        return await self.collection(collection).count_documents(query)

    async def ping(self) -> str:
        info = await self._database.command("buildInfo")
        return f"MongoDB {info.get('version', '?')}"

    async def close(self) -> None:
        await self._client.close()
