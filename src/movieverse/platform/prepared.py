"""Statements of the hottest writes, compiled once (issue 18, "Fast paths").

On the write path's inline SQLite connection (platform/writes.py) a Core statement run through
``Connection.execute`` spends most of its CPU in SQLAlchemy, not in SQLite: its cache key, an
execution context, parameter processing, a result object. Measured on this machine, a rating
write's read of a movie's totals costs 31 us through ``Connection.execute`` and 10 us through
sqlite3's cursor, with the same bind and result processing; a rating write runs five such
statements.

:class:`Prepared` keeps the Core statement -- one definition for every store -- and, on that
connection only, runs its SQL text on the sqlite3 connection, passing each value through its
type's own bind processor and each returned value through its type's result processor: the
values SQLAlchemy itself would send and return. Anywhere else (a unit of work, PostgreSQL,
MariaDB) it is ``Connection.execute``.

It steps aside, to ``Connection.execute``, for whatever it would not do the same way: Python-side
column defaults or ``onupdate`` values (SQLAlchemy computes them per execution), expanding
``IN`` parameters, callable or missing required parameters. Errors keep SQLAlchemy's classes
(``IntegrityError`` and the rest), so callers catch the same exceptions on every path.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Connection, Executable
from sqlalchemy.engine.interfaces import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ClauseElement
from sqlalchemy.sql.selectable import Select

# Connection.info key under which the write path keeps its sqlite3 connection (writes.py).
INLINE_SQLITE = "movieverse_inline_sqlite"

Processor = Callable[[Any], Any]
Params = Mapping[str, Any]
# Where a positional value comes from: the caller's parameters (by name), or a value fixed in
# the statement itself.
_FROM_PARAMS = object()


@dataclass(frozen=True, slots=True)
class _Plan:
    sql: str
    names: tuple[str, ...]
    fixed: tuple[Any, ...]  # _FROM_PARAMS, or the statement's own value of that parameter
    binds: tuple[Processor | None, ...]
    results: tuple[Processor | None, ...]

    def values(self, params: Params) -> tuple[Any, ...]:
        out = []
        for name, fixed, process in zip(self.names, self.fixed, self.binds, strict=True):
            value = params[name] if fixed is _FROM_PARAMS else fixed
            out.append(value if process is None else process(value))
        return tuple(out)

    def row(self, raw: Sequence[Any]) -> tuple[Any, ...]:
        return tuple(
            value if process is None else process(value)
            for value, process in zip(raw, self.results, strict=True)
        )


class Prepared:
    """A Core statement, run on the inline SQLite connection without SQLAlchemy's per-execution
    work. Parameters are passed by their bind names (or column keys, for an INSERT)."""

    def __init__(self, statement: Executable) -> None:
        self.statement = statement
        # By the set of parameter names (an INSERT's column list depends on it); None: this
        # statement goes through Connection.execute.
        self._plans: dict[frozenset[str], _Plan | None] = {}
        self.inline_runs = 0  # executions that went straight to sqlite3 (tests)

    def execute(self, connection: Connection, params: Params) -> None:
        raw, plan = self._inline(connection, params)
        if plan is None or raw is None:
            connection.execute(self.statement, dict(params))
            return
        values = plan.values(params)
        self._run(plan, values, lambda: raw.execute(plan.sql, values))

    def execute_many(self, connection: Connection, many: Sequence[Params]) -> None:
        if not many:
            return
        raw, plan = self._inline(connection, many[0])
        if plan is None or raw is None or any(params.keys() != many[0].keys() for params in many):
            connection.execute(self.statement, [dict(p) for p in many])
            return
        rows = [plan.values(params) for params in many]
        self._run(plan, rows, lambda: raw.executemany(plan.sql, rows))

    def first(self, connection: Connection, params: Params) -> tuple[Any, ...] | None:
        """The first row the statement returns, or None."""
        raw, plan = self._inline(connection, params)
        if plan is None or raw is None:
            row = connection.execute(self.statement, dict(params)).first()
            return None if row is None else tuple(row)
        values = plan.values(params)
        found = self._run(plan, values, lambda: raw.execute(plan.sql, values).fetchone())
        return None if found is None else plan.row(found)

    def _inline(
        self, connection: Connection, params: Params
    ) -> tuple[sqlite3.Connection | None, _Plan | None]:
        raw = cast("sqlite3.Connection | None", connection.info.get(INLINE_SQLITE))
        if raw is None:
            return None, None
        keys = frozenset(params)
        if keys not in self._plans:
            self._plans[keys] = _plan(self.statement, connection.dialect, keys)
        return raw, self._plans[keys]

    def _run(self, plan: _Plan, values: Sequence[Any], call: Callable[[], Any]) -> Any:
        try:
            result = call()
        except sqlite3.Error as exc:
            # SQLAlchemy's own translation: IntegrityError, OperationalError, ... by the driver's
            # exception class, as Connection.execute would raise them.
            raise DBAPIError.instance(plan.sql, values, exc, sqlite3.Error) from exc
        self.inline_runs += 1
        return result


def _plan(statement: Executable, dialect: Dialect, keys: frozenset[str]) -> _Plan | None:
    compiled = cast(ClauseElement, statement).compile(dialect=dialect, column_keys=sorted(keys))
    assert isinstance(compiled, SQLCompiler)
    if (
        compiled.insert_prefetch
        or compiled.update_prefetch
        or compiled.post_compile_params
        or compiled.literal_execute_params
        or compiled.effective_returning
        or compiled.positiontup is None
    ):
        return None  # SQLAlchemy computes, expands or returns something per execution
    fixed: list[Any] = []
    binds: list[Processor | None] = []
    for name in compiled.positiontup:
        bind = compiled.binds[name]
        if name in keys:
            fixed.append(_FROM_PARAMS)
        elif bind.callable is not None or (bind.required and bind.value is None):
            return None  # computed per execution, or missing: let SQLAlchemy say so
        else:
            fixed.append(bind.value)
        binds.append(bind.type.dialect_impl(dialect).bind_processor(dialect))
    results: list[Processor | None] = []
    if isinstance(statement, Select):
        results = [
            column.type.dialect_impl(dialect).result_processor(dialect, None)
            for column in statement.selected_columns
        ]
    return _Plan(
        compiled.string, tuple(compiled.positiontup), tuple(fixed), tuple(binds), tuple(results)
    )
