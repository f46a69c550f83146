"""Documents as JSON rows in the owning service's SQL database (SQLite, PostgreSQL, MySQL/MariaDB).

Every method runs in the caller's ``AsyncSession`` and only executes statements -- it never
commits -- so documents commit or roll back with the request, consumer or job that wrote them,
together with its outbox events (DESIGN rule 2). That is also why the store does not open its own
unit of work: on SQLite a second writing transaction inside the caller's would wait for the
caller's write lock, which is held until the caller commits. The store is bound to the service's
:class:`Database` only to learn the dialect and to answer :meth:`SqlDocumentStore.ping`; the
session passed in must belong to that Database.

Queries read top-level fields through each dialect's JSON functions and first classify the value
by its JSON type, so filters and sorting follow the port's type rules (numbers by value, strings
by code point, booleans apart from numbers) identically on every backend. Those expressions are
not indexed: a ``find`` reads every row of its collection (the primary key narrows it to the
collection). Case-insensitive matching folds with Python's ``str.lower`` on SQLite (whose own
lower() knows ASCII only) and with the server's lower() elsewhere, which on PostgreSQL needs a
UTF-8 ``LC_CTYPE`` to fold non-ASCII letters.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    ColumnElement,
    Float,
    Insert,
    MetaData,
    String,
    Table,
    and_,
    case,
    delete,
    func,
    literal,
    literal_column,
    select,
)
from sqlalchemy.dialects import mysql, postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session
from sqlalchemy.types import TypeEngine

from movieverse.platform.db import Database, UtcDateTime, utcnow
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

# Rows per executemany / IN list: large enough to amortise round trips, small enough to stay
# below every driver's bound-parameter limit (32,767 for asyncpg).
_BATCH = 1000

_MYSQL = frozenset({"mysql", "mariadb"})

# Sort ranks of JSON types, in MongoDB's order; 0 is null or missing.
_NUMBER, _STRING, _OBJECT, _ARRAY, _BOOLEAN = 1, 2, 3, 4, 5

# What each dialect's JSON type function answers, mapped to those ranks.
_TYPE_RANKS: dict[str, dict[str, int]] = {
    # json_type() tells true from false, which the boolean rules below rely on.
    "sqlite": {
        "integer": _NUMBER,
        "real": _NUMBER,
        "text": _STRING,
        "object": _OBJECT,
        "array": _ARRAY,
        "true": _BOOLEAN,
        "false": _BOOLEAN,
    },
    "postgresql": {
        "number": _NUMBER,
        "string": _STRING,
        "object": _OBJECT,
        "array": _ARRAY,
        "boolean": _BOOLEAN,
    },
    "mysql": {
        "INTEGER": _NUMBER,
        "UNSIGNED INTEGER": _NUMBER,
        "DOUBLE": _NUMBER,
        "DECIMAL": _NUMBER,
        "STRING": _STRING,
        "OBJECT": _OBJECT,
        "ARRAY": _ARRAY,
        "BOOLEAN": _BOOLEAN,
    },
}

# Collations that compare by code point, as SQLite's default and MongoDB do. MySQL's default
# ones would also make ids and equality case-insensitive.
_BINARY_COLLATION = {"postgresql": "C", "mysql": "utf8mb4_bin"}

# SQLite's lower() folds ASCII only; this Python function is registered per connection instead.
_SQLITE_LOWER = "movieverse_lower"

_LIKE_ESCAPE = "/"


def _key_type(length: int) -> TypeEngine[str]:
    """A string key compared byte for byte: case-sensitive ids and code point order."""
    return (
        String(length)
        .with_variant(postgresql.VARCHAR(length, collation="C"), "postgresql")
        .with_variant(
            mysql.VARCHAR(length, charset="utf8mb4", collation="utf8mb4_bin"), "mysql", "mariadb"
        )
    )


def documents_table(metadata: MetaData, service: str) -> Table:
    """``<service>_documents``: declare it in the service's MetaData so its migrations create it."""
    check_name(service, what="service")
    return Table(
        f"{service}_documents",
        metadata,
        Column("collection", _key_type(64), primary_key=True),
        Column("doc_id", _key_type(128), primary_key=True),
        Column("body", JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False),
        Column("updated_at", UtcDateTime, nullable=False),
    )


def like_pattern(text: str) -> str:
    """A LIKE pattern matching ``text`` anywhere, with its wildcards taken literally."""
    escaped = (
        text.replace(_LIKE_ESCAPE, _LIKE_ESCAPE * 2)
        .replace("%", _LIKE_ESCAPE + "%")
        .replace("_", _LIKE_ESCAPE + "_")
    )
    return f"%{escaped}%"


def _unicode_lower(value: object) -> object:
    return value.lower() if isinstance(value, str) else value


def _install_sqlite_functions(sync_session: Session) -> None:
    pooled = sync_session.connection().connection
    if not pooled.info.get(_SQLITE_LOWER):
        driver: Any = pooled.dbapi_connection
        driver.create_function(_SQLITE_LOWER, 1, _unicode_lower, deterministic=True)
        pooled.info[_SQLITE_LOWER] = True


@dataclass(frozen=True)
class _Field:
    """SQL expressions for one top-level field of the body, per dialect."""

    rank: ColumnElement[Any]  # its JSON type's sort rank
    text: ColumnElement[Any]  # the string, compared by code point; only where rank is _STRING
    # The string for lower(): PostgreSQL's lower() under the C collation folds ASCII only.
    foldable: ColumnElement[Any]
    number: ColumnElement[Any]  # the number; only where rank is _NUMBER
    boolean: ColumnElement[Any]  # 'true' or 'false'; only where rank is _BOOLEAN

    @classmethod
    def of(cls, dialect: str, body: ColumnElement[Any], field: str) -> _Field:
        path = f'$."{field}"'  # the field name is validated, and bound as a parameter anyway
        if dialect == "sqlite":
            kind: ColumnElement[Any] = func.json_type(body, path, type_=String)
            text: ColumnElement[Any] = func.json_extract(body, path, type_=String)
            number: ColumnElement[Any] = func.json_extract(body, path, type_=Float)
            boolean = kind
            foldable = text
        elif dialect == "postgresql":
            kind = func.jsonb_typeof(body[field], type_=String)
            foldable = body[field].as_string()
            text = foldable.collate(_BINARY_COLLATION[dialect])
            number = body[field].as_float()
            boolean = text
        else:
            extracted = func.json_extract(body, path)
            kind = func.json_type(extracted, type_=String)
            text = func.json_unquote(extracted, type_=String).collate(_BINARY_COLLATION["mysql"])
            # SQLAlchemy will not render CAST(... AS DOUBLE) for MySQL; adding a double literal
            # converts just the same on MySQL and MariaDB.
            number = extracted + literal_column("0e0", Float)
            boolean = foldable = text
        ranks = _TYPE_RANKS["mysql" if dialect in _MYSQL else dialect]
        rank = case(ranks, value=kind, else_=0)
        return cls(rank=rank, text=text, foldable=foldable, number=number, boolean=boolean)

    def equals(self, value: Scalar) -> ColumnElement[bool]:
        if isinstance(value, bool):
            return and_(self.rank == _BOOLEAN, self.boolean == ("true" if value else "false"))
        if isinstance(value, int | float):
            # Guarded by CASE: PostgreSQL would fail casting a string to a number.
            return case((self.rank == _NUMBER, self.number), else_=None) == float(value)
        return and_(self.rank == _STRING, self.text == value)

    def sort_keys(self) -> tuple[ColumnElement[Any], ...]:
        number = case(
            (self.rank == _NUMBER, self.number),
            (self.rank == _BOOLEAN, case((self.boolean == "true", 1.0), else_=0.0)),
            else_=None,
        )
        text = case((self.rank == _STRING, self.text), else_=None)
        return self.rank, number, text


class SqlDocumentStore:
    """Documents in ``table`` (see :func:`documents_table`) of ``database``."""

    def __init__(self, database: Database, table: Table) -> None:
        if database.dialect not in {"sqlite", "postgresql", *_MYSQL}:
            raise ValueError(f"no documents support for the {database.dialect} dialect")
        self._db = database
        self._table = table
        self._dialect = database.dialect

    @property
    def table(self) -> Table:
        return self._table

    def _field(self, name: str) -> _Field:
        return _Field.of(self._dialect, self._table.c.body, name)

    def _upsert(self) -> Insert:
        table = self._table
        if self._dialect in _MYSQL:
            mysql_insert = mysql.insert(table)
            return mysql_insert.on_duplicate_key_update(
                body=mysql_insert.inserted.body, updated_at=mysql_insert.inserted.updated_at
            )
        keys = [table.c.collection, table.c.doc_id]
        if self._dialect == "postgresql":
            pg_insert = postgresql.insert(table)
            return pg_insert.on_conflict_do_update(
                index_elements=keys,
                set_={"body": pg_insert.excluded.body, "updated_at": pg_insert.excluded.updated_at},
            )
        lite_insert = sqlite.insert(table)
        return lite_insert.on_conflict_do_update(
            index_elements=keys,
            set_={"body": lite_insert.excluded.body, "updated_at": lite_insert.excluded.updated_at},
        )

    async def get(self, session: AsyncSession, collection: str, doc_id: str) -> Document | None:
        table = self._table
        stmt = select(table.c.body).where(
            table.c.collection == check_name(collection), table.c.doc_id == check_id(doc_id)
        )
        body: Document | None = (await session.execute(stmt)).scalar_one_or_none()
        return body

    async def get_many(
        self, session: AsyncSession, collection: str, ids: Iterable[str]
    ) -> dict[str, Document]:
        check_name(collection)
        wanted = list(dict.fromkeys(check_id(doc_id) for doc_id in ids))
        table = self._table
        found: dict[str, Document] = {}
        for chunk in batches(wanted, _BATCH):
            stmt = select(table.c.doc_id, table.c.body).where(
                table.c.collection == collection, table.c.doc_id.in_(chunk)
            )
            for doc_id, body in await session.execute(stmt):
                found[doc_id] = body
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
        check_name(collection)
        now = utcnow()
        rows = [
            {"collection": collection, "doc_id": doc_id, "body": dict(body), "updated_at": now}
            for doc_id, body in last_wins(items).items()
        ]
        stmt = self._upsert()
        for chunk in batches(rows, _BATCH):
            # A list of parameter sets runs as one executemany per chunk.
            await session.execute(stmt, list(chunk))

    async def delete(self, session: AsyncSession, collection: str, doc_id: str) -> bool:
        table = self._table
        result = await session.execute(
            delete(table).where(
                table.c.collection == check_name(collection), table.c.doc_id == check_id(doc_id)
            )
        )
        return bool(getattr(result, "rowcount", 0) == 1)

    async def _conditions(
        self, session: AsyncSession, collection: str, conditions: Filter
    ) -> list[ColumnElement[bool]]:
        clauses: list[ColumnElement[bool]] = [self._table.c.collection == check_name(collection)]
        clauses += [self._field(name).equals(value) for name, value in conditions.where]
        if conditions.name_contains is not None:
            name, text = conditions.name_contains
            field = self._field(name)
            if self._dialect == "sqlite":
                await session.run_sync(_install_sqlite_functions)
                lower = getattr(func, _SQLITE_LOWER)
            else:
                lower = func.lower
            # The same lower() on both sides, so both are folded by one set of rules.
            pattern = lower(literal(like_pattern(text), String))
            clauses.append(
                and_(
                    field.rank == _STRING,
                    lower(field.foldable).like(pattern, escape=_LIKE_ESCAPE),
                )
            )
        return clauses

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
        conditions = check_filter(where, name_contains)
        order = check_sort(sort)
        check_page(offset, limit)
        table = self._table
        order_by: list[ColumnElement[Any]] = []
        for name, direction in order:
            for key in self._field(name).sort_keys():
                order_by.append(key.desc() if direction == "desc" else key.asc())
        order_by.append(table.c.doc_id.asc())
        stmt = (
            select(table.c.doc_id, table.c.body)
            .where(*await self._conditions(session, collection, conditions))
            .order_by(*order_by)
            .offset(offset)
            .limit(limit)
        )
        return [(doc_id, body) for doc_id, body in await session.execute(stmt)]

    async def count(
        self,
        session: AsyncSession,
        collection: str,
        *,
        where: Mapping[str, Scalar] | None = None,
        name_contains: tuple[str, str] | None = None,
    ) -> int:
        conditions = check_filter(where, name_contains)
        stmt = (
            select(func.count())
            .select_from(self._table)
            .where(*await self._conditions(session, collection, conditions))
        )
        return int((await session.execute(stmt)).scalar_one())

    async def ping(self) -> str:
        status = await self._db.status("documents")
        if not status.reachable or status.version is None:
            raise ConnectionError(f"documents database unreachable: {status.error}")
        return status.version

    async def close(self) -> None:
        # The Database belongs to the service, whose lifespan disposes of it.
        return None


__all__ = ["SqlDocumentStore", "documents_table", "like_pattern"]
