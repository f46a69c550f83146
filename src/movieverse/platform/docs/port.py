"""The documents port: schemaless JSON objects addressed by ``(collection, id)``.

The metadata service keeps people, credits, keywords and movie analyses here. Adapters: SQL
(:mod:`.sql`, JSON columns in the service's own database: the embedded shape) and MongoDB
(:mod:`.mongo`). ``tests/contract/test_documents_contract.py`` holds every adapter to the rules
below.

Transactions. Every method takes the caller's ``AsyncSession`` (DESIGN rule 2, the entrypoint
owns the transaction). The SQL adapter reads and writes in it, so documents commit or roll back
together with the caller's other rows and outbox events; the MongoDB adapter ignores it and its
writes take effect at once, one document atomically at a time.

Names. Collections and queried fields must match ``[a-z_][a-z0-9_]{0,63}`` and the field ``_id``
is reserved: field names are spliced into JSON paths and MongoDB filters, so anything wider could
smuggle a path (``a.b``), an operator (``$where``) or quoting into a query. Ids are 1 to 128
characters, with no NUL (PostgreSQL cannot store it) and no trailing space (MySQL compares
``'a'`` and ``'a '`` as equal). Documents are JSON objects whose top-level keys are neither
``_id`` nor start with ``$`` (MongoDB's own meanings). Violations raise ``ValueError``; a query
value of the wrong type raises ``TypeError``.

Values. Documents hold JSON values only (str, int, float, bool, None, lists, dicts); anything else
fails with an adapter-specific error. Numbers are compared and sorted as 64-bit floats.

Ordering. Sorting compares values of different JSON types in MongoDB's order: missing or null,
then numbers (by value), strings (by Unicode code point, so ``"Zoe" < "amélie"``), objects,
arrays, booleans (false before true). ``desc`` reverses that, so missing values come first in
``asc`` and last in ``desc``. Sort fields are expected to hold scalars: how objects and arrays
compare among themselves differs between adapters and is not part of the contract. Documents
that tie on every sort key are ordered by id ascending, so offset pagination is stable.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

Document = dict[str, Any]
Scalar = str | int | float | bool
SortDirection = Literal["asc", "desc"]

MAX_ID_LENGTH = 128
MAX_LIMIT = 1000

_NAME = re.compile(r"[a-z_][a-z0-9_]{0,63}")
_RESERVED_FIELD = "_id"

T = TypeVar("T")


class DocumentStore(Protocol):
    async def get(self, session: AsyncSession, collection: str, doc_id: str) -> Document | None:
        """The document, or None if there is none with this id in this collection."""
        ...

    async def get_many(
        self, session: AsyncSession, collection: str, ids: Iterable[str]
    ) -> dict[str, Document]:
        """The documents that exist among ``ids``, keyed by id; missing ids are left out."""
        ...

    async def put(
        self, session: AsyncSession, collection: str, doc_id: str, document: Mapping[str, Any]
    ) -> None:
        """Create or wholly replace a document (no merge with what was stored)."""
        ...

    async def put_many(
        self,
        session: AsyncSession,
        collection: str,
        items: Sequence[tuple[str, Mapping[str, Any]]],
    ) -> None:
        """Bulk :meth:`put` in batched round trips. When an id repeats, its last document wins.

        Not atomic on MongoDB: a failure may leave earlier batches written.
        """
        ...

    async def delete(self, session: AsyncSession, collection: str, doc_id: str) -> bool:
        """Remove a document; returns whether it existed."""
        ...

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
        """``(id, document)`` pairs matching every condition, in ``sort`` order then by id.

        ``where``: each top-level field equals the value, with the same JSON type (the string
        ``"5"`` does not match the number 5, ``True`` does not match 1; ``5`` matches ``5.0``).
        A field holding an array never matches, not even one that contains the value.

        ``name_contains``: ``(field, text)``; the field holds a string that contains ``text``
        literally (no wildcards, no regular expression), ignoring case but not accents.

        ``offset`` >= 0 and 1 <= ``limit`` <= ``MAX_LIMIT``.
        """
        ...

    async def count(
        self,
        session: AsyncSession,
        collection: str,
        *,
        where: Mapping[str, Scalar] | None = None,
        name_contains: tuple[str, str] | None = None,
    ) -> int:
        """How many documents :meth:`find` would match without paging."""
        ...

    async def ping(self) -> str:
        """The server's name and version, or raise if it cannot be reached."""
        ...

    async def close(self) -> None:
        """Release what the store owns (not a Database it was handed)."""
        ...


@dataclass(frozen=True)
class Filter:
    """Validated query conditions, ready for an adapter to translate."""

    where: tuple[tuple[str, Scalar], ...]
    name_contains: tuple[str, str] | None


def check_name(name: str, *, what: str = "collection") -> str:
    if not isinstance(name, str) or _NAME.fullmatch(name) is None:
        raise ValueError(f"invalid {what} name {name!r}: expected [a-z_][a-z0-9_]{{0,63}}")
    return name


def check_field(name: str) -> str:
    check_name(name, what="field")
    if name == _RESERVED_FIELD:
        raise ValueError(f"the field name {_RESERVED_FIELD!r} is reserved")
    return name


def check_id(doc_id: str) -> str:
    if not isinstance(doc_id, str) or not 0 < len(doc_id) <= MAX_ID_LENGTH:
        raise ValueError(f"a document id is a string of 1 to {MAX_ID_LENGTH} characters")
    if "\x00" in doc_id or doc_id.endswith(" "):
        raise ValueError("a document id may not contain NUL or end with a space")
    return doc_id


def check_document(document: Mapping[str, Any]) -> Mapping[str, Any]:
    if not isinstance(document, Mapping):
        raise TypeError(f"a document is a JSON object, not {type(document).__name__}")
    for key in document:
        if not isinstance(key, str):
            raise ValueError(f"document keys are strings, not {key!r}")
        if key == _RESERVED_FIELD or key.startswith("$"):
            raise ValueError(f"the document key {key!r} is reserved")
    return document


def last_wins(
    items: Sequence[tuple[str, Mapping[str, Any]]],
) -> dict[str, Mapping[str, Any]]:
    """Validated items with one entry per id (one statement may not touch a row twice)."""
    return {check_id(doc_id): check_document(document) for doc_id, document in items}


def check_filter(
    where: Mapping[str, Scalar] | None, name_contains: tuple[str, str] | None
) -> Filter:
    conditions: list[tuple[str, Scalar]] = []
    for field, value in (where or {}).items():
        check_field(field)
        if not isinstance(value, str | int | float):  # bool is an int
            raise TypeError(
                f"where[{field!r}] must be a string, number or boolean, not {type(value).__name__}"
            )
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"where[{field!r}] must be a finite number")
        conditions.append((field, value))
    if name_contains is not None:
        field, text = name_contains
        check_field(field)
        if not isinstance(text, str):
            raise TypeError("name_contains text must be a string")
    return Filter(where=tuple(conditions), name_contains=name_contains)


def check_sort(
    sort: Sequence[tuple[str, SortDirection]] | None,
) -> tuple[tuple[str, SortDirection], ...]:
    seen: set[str] = set()
    for field, direction in sort or ():
        check_field(field)
        if direction not in ("asc", "desc"):
            raise ValueError(f"sort direction must be 'asc' or 'desc', not {direction!r}")
        if field in seen:  # MongoDB refuses a repeated sort key
            raise ValueError(f"the sort names {field!r} twice")
        seen.add(field)
    return tuple(sort or ())


def check_page(offset: int, limit: int) -> None:
    if offset < 0:
        raise ValueError("offset must be >= 0")
    if not 1 <= limit <= MAX_LIMIT:
        raise ValueError(f"limit must be between 1 and {MAX_LIMIT}")


def batches(items: Sequence[T], size: int) -> Iterable[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
