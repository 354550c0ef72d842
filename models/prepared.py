"""The statements of the chat path, run straight on the driver's cursor.

SQLAlchemy's `Connection.execute` looks up its compiled form by the statement's cache key,
builds an execution context, walks its events and wraps the cursor in a result: measured in
the handlers' own work, about 0.1 ms a statement, several times the statement itself, and a
chat update runs six or seven of them. A `Prepared` statement is compiled by SQLAlchemy once
per dialect and set of parameters; then each execution converts the values with the column
types' own bind processors (SQLAlchemy's, for that dialect), hands SQL and values to the
driver's cursor of the same connection, inside the same transaction, and converts what comes
back with the types' result processors. The SQL, the values and the types are exactly what
SQLAlchemy would send and read; the driver's errors come out as SQLAlchemy's (IntegrityError,
OperationalError, …), and a lost connection is invalidated as SQLAlchemy does.

On psycopg the statement goes in the server's own form, `$1, $2, …` (converted from
SQLAlchemy's `%(name)s` once, at compile time), through a `RawCursor` with the values in order:
psycopg's default cursor parses the `%(name)s` form and reorders a dict of values on every
execution. One cursor serves each driver connection (kept in its pool record's `info`), and
whether rows come back is the statement's (a select, a RETURNING), not the cursor's
`description`, which psycopg builds anew, column by column, on every read.

What it does not do itself goes through SQLAlchemy's execution, as before: an insert that
leaves out a column with a Python-side default (SQLAlchemy computes it per execution),
expanding `IN` lists and parameters rendered into the SQL (found when the statement is first
compiled for a set of parameters), and every statement while something listens to what
SQLAlchemy sends (an engine's `before_cursor_execute` events, `echo`), so that listener sees
it as before.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.compiler import SQLCompiler

_REQUIRED = object()  # a parameter each execution must give
_CURSOR = "models.prepared.cursor"  # the key of a driver connection's cursor in its `info`
_PYFORMAT = re.compile(r"%\((?P<name>[^)]+)\)s|%%")  # psycopg's placeholders, and an escaped %
Processor = Callable[[Any], Any]
Row = tuple[Any, ...]


class _NotPreparable(Exception):
    """A statement `Prepared` does not run by itself (see the module's docstring)."""


@dataclass(frozen=True)
class _Bind:
    name: str  # as the caller gives it
    fixed: Any  # the value written into the statement, or _REQUIRED
    process: Processor | None


@dataclass
class _Compiled:
    dialect: Dialect
    sql: str
    binds: tuple[_Bind, ...]  # in the order of the SQL's placeholders (positional styles)
    names: tuple[str, ...] | None  # the placeholders' names (named styles); None: positional
    raw_sql: bytes | None  # psycopg: the SQL with $1, $2, … (`binds` in their order)
    result_types: tuple[sa.types.TypeEngine[Any], ...]
    results: tuple[Processor | None, ...] | None = None  # set from the first answer


class Prepared:
    """A Core statement (a select, or an insert/update/delete with or without RETURNING)
    built once, executed on a connection in a transaction with a dict of parameters."""

    def __init__(self, statement: sa.Executable) -> None:
        self.statement = statement
        self._compiled: dict[tuple[str, frozenset[str]], _Compiled | None] = {}
        self._lock = threading.Lock()
        columns = getattr(statement, "exported_columns", ())
        self.keys: tuple[str, ...] = tuple(column.key for column in columns)

    def rows(self, connection: sa.Connection, parameters: Mapping[str, Any]) -> list[Row]:
        """The rows it answers (none for a statement without RETURNING)."""
        compiled = None if _observed(connection) else self._compile(connection.dialect, parameters)
        if compiled is None:
            result = connection.execute(self.statement, parameters)
            return [tuple(row) for row in result] if result.returns_rows else []
        values = _values(compiled, parameters)
        if not connection.in_transaction():
            connection.begin()  # as Connection.execute begins one itself
        cursor = _cursor(connection, raw=compiled.raw_sql is not None)
        try:
            cursor.execute(compiled.raw_sql or compiled.sql, values)
            raw = cursor.fetchall() if self.keys else []
            if raw and compiled.results is None:
                compiled.results = _result_processors(compiled, cursor.description)
        except connection.dialect.loaded_dbapi.Error as error:
            raise _as_sqlalchemy_error(connection, error, compiled.sql, values, cursor) from error
        results = compiled.results
        if not raw or results is None or not any(results):
            return [tuple(row) for row in raw]
        return [
            tuple(
                value if process is None else process(value)
                for value, process in zip(row, results, strict=True)
            )
            for row in raw
        ]

    def first(self, connection: sa.Connection, parameters: Mapping[str, Any]) -> Row | None:
        rows = self.rows(connection, parameters)
        return rows[0] if rows else None

    def scalar(self, connection: sa.Connection, parameters: Mapping[str, Any]) -> Any:
        """The first column of the first row; None if there is none."""
        row = self.first(connection, parameters)
        return None if row is None else row[0]

    def mappings(
        self, connection: sa.Connection, parameters: Mapping[str, Any]
    ) -> list[dict[str, Any]]:
        """The rows by column name (the labels of a select)."""
        return [
            dict(zip(self.keys, row, strict=True)) for row in self.rows(connection, parameters)
        ]

    def mapping(
        self, connection: sa.Connection, parameters: Mapping[str, Any]
    ) -> dict[str, Any] | None:
        """The first row by column name (the labels of a select); None if there is none."""
        row = self.first(connection, parameters)
        return None if row is None else dict(zip(self.keys, row, strict=True))

    def _compile(self, dialect: Dialect, parameters: Mapping[str, Any]) -> _Compiled | None:
        """Its compiled form for this dialect and these parameters' names; None if it goes
        through SQLAlchemy's execution."""
        key = (dialect.name, frozenset(parameters))
        try:
            return self._compiled[key]
        except KeyError:
            pass
        with self._lock:
            if key not in self._compiled:
                try:
                    self._compiled[key] = _compiled(self.statement, dialect, sorted(parameters))
                except _NotPreparable:
                    self._compiled[key] = None
            return self._compiled[key]


def _cursor(connection: sa.Connection, *, raw: bool) -> Any:
    """The cursor of the connection's driver connection, made on first use (a psycopg
    `RawCursor` for statements in the server's form). A driver connection replaced by the
    pool comes with an empty `info`, and so a cursor of its own."""
    record = connection.connection
    cursor = record.info.get(_CURSOR)
    if cursor is None:
        driver = record.driver_connection
        assert driver is not None
        if raw:
            from psycopg import RawCursor  # only raw SQL is for psycopg

            cursor = RawCursor(driver)
        else:
            cursor = driver.cursor()
        record.info[_CURSOR] = cursor
    return cursor


def _observed(connection: sa.Connection) -> bool:
    """Someone listens to the statements SQLAlchemy sends, or logs them."""
    dispatch = connection.engine.dispatch  # the connection's own joins it, at a cost per call
    return bool(
        dispatch.before_cursor_execute or dispatch.after_cursor_execute or connection.engine.echo
    )


def _compiled(statement: sa.Executable, dialect: Dialect, keys: Sequence[str]) -> _Compiled:
    compiled = statement.compile(dialect=dialect, column_keys=list(keys))  # type: ignore[attr-defined]
    assert isinstance(compiled, SQLCompiler)
    if compiled.insert_prefetch or compiled.update_prefetch:
        missing = [c.key for c in (*compiled.insert_prefetch, *compiled.update_prefetch)]
        raise _NotPreparable(f"Python-side defaults to compute per execution: give {missing}")
    if compiled.literal_execute_params or compiled.post_compile_params:
        raise _NotPreparable("parameters rendered into the SQL per execution (IN lists)")
    binds = {}
    for name, bind in compiled.binds.items():
        if bind.callable is not None:
            raise _NotPreparable(f"a parameter computed per execution: {name}")
        fixed = _REQUIRED if bind.required or name in keys else bind.value
        process = bind.type.dialect_impl(dialect).bind_processor(dialect)
        binds[name] = _Bind(name, fixed, process)
    names: tuple[str, ...] | None = None
    raw_sql: bytes | None = None
    if dialect.positional:
        placed = tuple(binds[name] for name in compiled.positiontup or ())
    else:
        escaped = compiled.escaped_bind_names
        placed = tuple(binds.values())
        names = tuple(escaped.get(bind.name, bind.name) for bind in placed)
        if dialect.driver == "psycopg":
            raw_sql, order = _server_form(compiled.string)
            by_name = dict(zip(names, placed, strict=True))
            placed, names = tuple(by_name[name] for name in order), None
    columns = getattr(statement, "exported_columns", ())
    return _Compiled(
        dialect=dialect,
        sql=compiled.string,
        binds=placed,
        names=names,
        raw_sql=raw_sql,
        result_types=tuple(column.type for column in columns),
    )


def _server_form(sql: str) -> tuple[bytes, tuple[str, ...]]:
    """psycopg's `%(name)s` SQL in PostgreSQL's own `$1, $2, …` (a name used twice is one
    number; `%%` is `%`), and the names in the numbers' order."""
    order: dict[str, int] = {}

    def number(found: re.Match[str]) -> str:
        name = found.group("name")
        if name is None:
            return "%"
        return f"${order.setdefault(name, len(order) + 1)}"

    converted = _PYFORMAT.sub(number, sql)
    return converted.encode(), tuple(order)


def _values(compiled: _Compiled, parameters: Mapping[str, Any]) -> Sequence[Any] | dict[str, Any]:
    values = []
    for bind in compiled.binds:
        if bind.fixed is _REQUIRED:
            try:
                value = parameters[bind.name]
            except KeyError:
                raise sa.exc.ArgumentError(
                    f"a value is required for bind parameter {bind.name!r}"
                ) from None
        else:
            value = parameters.get(bind.name, bind.fixed)
        values.append(value if bind.process is None else bind.process(value))
    if compiled.names is None:
        return tuple(values)
    return dict(zip(compiled.names, values, strict=True))


def _result_processors(compiled: _Compiled, description: Any) -> tuple[Processor | None, ...]:
    """Each column's result processor, as SQLAlchemy picks it for this dialect (and the
    driver's type of the column, which some processors look at)."""
    dialect = compiled.dialect
    assert len(compiled.result_types) == len(description), "the answer is not the statement's"
    return tuple(
        type_.dialect_impl(dialect).result_processor(dialect, column[1])
        for type_, column in zip(compiled.result_types, description, strict=True)
    )


def _as_sqlalchemy_error(
    connection: sa.Connection, error: Any, sql: str, values: Any, cursor: Any
) -> sa.exc.StatementError:
    """The driver's error as SQLAlchemy raises it; a connection the error says is lost is
    invalidated (the pool replaces it), as SQLAlchemy does."""
    dialect = connection.dialect
    driver = connection.connection.driver_connection
    lost = dialect.is_disconnect(error, driver, cursor)
    if lost:
        connection.invalidate(error)
    wrapped: sa.exc.StatementError = sa.exc.DBAPIError.instance(
        sql,
        values,
        error,
        dialect.loaded_dbapi.Error,
        connection_invalidated=lost,
        dialect=dialect,
    )
    return wrapped
