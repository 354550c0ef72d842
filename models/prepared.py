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

A transaction can begin with statements read ahead (`begin_with`): on psycopg, BEGIN and those
statements go to the server as one message, `BEGIN; EXECUTE a(…); EXECUTE b(…)` (PostgreSQL's
simple query protocol runs them one after the other, each with a snapshot of its own, as if
sent one by one; each is a statement prepared on the server once per connection, the values
written as literals by psycopg's own adapters), and their answers are served to the same
statements with the same values when the code executes them next, in that order. A chat
update begins this way: its inbox mark (which takes the chat's lock) and the read of its
sender, one round trip instead of three (psycopg sends BEGIN by itself, and waits for it).
Anything else executed in between drops what was read ahead, so nothing stale is served.
Such a transaction can end the same way (`commit_with`): its last statement and the COMMIT in
one message, `EXECUTE c(…); COMMIT`; a chat update's last is the insert of its reply.
"""

from __future__ import annotations

import itertools
import re
import threading
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.compiler import SQLCompiler

_REQUIRED = object()  # a parameter each execution must give
_CURSOR = "models.prepared.cursor"  # the key of a driver connection's cursor in its `info`
_AHEAD = "models.prepared.ahead"  # answers read ahead in a connection's transaction (`info`)
_ON_SERVER = "models.prepared.on_server"  # the statements prepared on a driver connection
_BEGUN = "models.prepared.begun"  # the transaction `begin_with` began on the server (`info`)
_LATER = "models.prepared.later"  # writes postponed in a connection's transaction (`info`)
_SERVER_NUMBERS = itertools.count(1)  # names statements prepared on the server (psycopg)
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
    server_name: bytes | None = None  # psycopg: its name where prepared on the server


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
        if _LATER in connection.info:
            run_postponed(connection)
        if _AHEAD in connection.info:
            served = _read_ahead(connection, self, parameters)
            if served is not None:
                return served
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
        return _processed(compiled, raw)

    def later(self, connection: sa.Connection, parameters: Mapping[str, Any]) -> None:
        """Run this write (its answer unread) later in the transaction: on psycopg, in a
        transaction `begin_with` began, it waits for the next statement and goes to the server
        in that one's round trip, before it (a `commit_with`, another Prepared, anything
        executed, the commit); elsewhere it runs now (see `run_postponed`)."""
        planned = _on_server_in_begun(connection, self, parameters)
        if planned is None:
            self.rows(connection, parameters)
            return
        forget_read_ahead(connection)  # the answers read ahead are from before this write
        postponed: _Postponed | None = connection.info.get(_LATER)
        if postponed is None or postponed.transaction is not connection.get_transaction():
            postponed = _Postponed(connection.get_transaction(), [])
            connection.info[_LATER] = postponed
        postponed.statements.append(planned[1])

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


def _processed(compiled: _Compiled, raw: Sequence[Sequence[Any]]) -> list[Row]:
    """The driver's rows with the column types' result processors applied."""
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


# ---- a transaction that begins with statements read ahead -----------------------------------

Statement = tuple[Prepared, Mapping[str, Any]]


@dataclass
class _Ahead:
    """Answers read ahead, for the transaction they were read in."""

    transaction: sa.RootTransaction | None
    answers: deque[tuple[Prepared, Mapping[str, Any], list[Row]]]


def begin_with(connection: sa.Connection, statements: Sequence[Statement]) -> None:
    """Begin the connection's transaction with `statements`, run now one after the other (each
    sees what the ones before it did, as if executed in turn); their answers are served when
    the same statements are executed next with the same values, in the same order, in this
    transaction (see the module's docstring). On psycopg that is one round trip; where it is
    not (another driver, something listening to the statements, a transaction already begun
    on the server, a statement it does not run by itself) nothing is done now, and each
    statement runs when executed, as it would have."""
    sent = _sent_with_begin(connection, statements, commit=False)
    if sent is None:
        return
    answers: deque[tuple[Prepared, Mapping[str, Any], list[Row]]] = deque(
        (statement.prepared, statement.parameters, rows) for statement, rows in sent
    )
    connection.info[_AHEAD] = _Ahead(connection.get_transaction(), answers)
    connection.info[_BEGUN] = connection.get_transaction()


def run_together(connection: sa.Connection, statements: Sequence[Statement]) -> list[list[Row]]:
    """The whole of the connection's transaction: `statements` run one after the other and
    committed; the rows of each. On psycopg one round trip, `BEGIN; EXECUTE …; …; COMMIT`
    (PostgreSQL runs nothing after a statement that fails, and the transaction is rolled
    back), and the commit that follows (the session's) finds nothing left to commit; where
    `begin_with` would not read ahead, each runs in turn, and that commit commits them."""
    sent = _sent_with_begin(connection, statements, commit=True)
    if sent is None:
        return [prepared.rows(connection, parameters) for prepared, parameters in statements]
    return [rows for _, rows in sent]


def _sent_with_begin(
    connection: sa.Connection, statements: Sequence[Statement], *, commit: bool
) -> list[tuple[_Planned, list[Row]]] | None:
    """`BEGIN; EXECUTE …` (and `; COMMIT` if `commit`) sent on psycopg: each statement with its
    rows; None where nothing was sent (see `begin_with`)."""
    if connection.dialect.driver != "psycopg" or _observed(connection):
        return None
    from psycopg.adapt import Transformer
    from psycopg.pq import TransactionStatus

    if not connection.in_transaction():
        connection.begin()
    record = connection.connection
    driver = record.driver_connection
    if (
        driver is None
        or driver.autocommit
        or driver.pgconn.transaction_status != TransactionStatus.IDLE
        or (driver.isolation_level, driver.read_only, driver.deferrable) != (None, None, None)
    ):
        return None  # psycopg would begin with more than a plain BEGIN, or already began
    planned: list[_Planned] = []
    for prepared, parameters in statements:
        if (statement := _planned(connection, prepared, parameters)) is None:
            return None
        planned.append(statement)
    transformer = Transformer.from_context(driver)
    executions = [p.execution(transformer) for p in planned]
    sql = b"; ".join([b"BEGIN", *executions, *([b"COMMIT"] if commit else [])])
    try:
        results = _begin_on_server(driver, record.info, sql, [p.compiled for p in planned])
    except connection.dialect.loaded_dbapi.Error as error:
        raise _as_sqlalchemy_error(connection, error, sql.decode(), (), None) from error
    if commit:
        _check_committed(results[-1])
    return [
        (statement, _loaded(transformer, statement.compiled, result))
        for statement, result in zip(planned, results[1 : 1 + len(planned)], strict=True)
    ]  # BEGIN's result first, COMMIT's last


def _check_committed(result: Any) -> None:
    """A COMMIT's result: PostgreSQL answers ROLLBACK to it in a transaction that failed."""
    if result.command_status != b"COMMIT":
        raise sa.exc.InvalidRequestError(
            f"the transaction was not committed ({result.command_status!r})"
        )


def _loaded(transformer: Any, compiled: _Compiled, result: Any) -> list[Row]:
    """The rows of a statement's result in a simple query's answer, as `Prepared.rows`
    would answer them."""
    if not result.ntuples:
        return []
    transformer.set_pgresult(result)
    raw = transformer.load_rows(0, result.ntuples, tuple)
    if compiled.results is None:
        types = [(None, result.ftype(column)) for column in range(result.nfields)]
        compiled.results = _result_processors(compiled, types)
    return _processed(compiled, raw)


def commit_with(
    connection: sa.Connection, prepared: Prepared, parameters: Mapping[str, Any]
) -> list[Row]:
    """Run the last statement of the transaction's changes and commit them with it: its rows.

    On psycopg, in a transaction `begin_with` began, `EXECUTE a(…); COMMIT` goes as one
    message (PostgreSQL skips the COMMIT if the statement fails, and the transaction is rolled
    back as after any failed statement); the commit that follows (the session's) finds nothing
    left to commit, and psycopg sends nothing. Anything run after this on the connection runs
    in a transaction of its own, which that commit commits. Elsewhere (another driver,
    something listening, a transaction not begun by `begin_with`, whose statements prepared
    on the server this one cannot vouch for) the statement just runs, and the commit that
    follows commits."""
    folded = _on_server_in_begun(connection, prepared, parameters)
    if folded is None:
        return prepared.rows(connection, parameters)
    driver, statement = folded
    statements = [*_take_postponed(connection), statement]  # the writes postponed go first
    forget_read_ahead(connection)
    del connection.info[_BEGUN]  # what runs after this is in a transaction of its own
    results, transformer = _executed(connection, driver, statements, b"COMMIT")
    _check_committed(results[-1])
    return _loaded(transformer, statement.compiled, results[-2])


def keep_transactions_whole(engine: sa.Engine) -> None:
    """What a statement executed through the engine's connections (not a `Prepared` one)
    finds in its transaction: the writes postponed before it run first, and what was read
    ahead is not served after it; postponed writes run at the commit, and are dropped at a
    rollback."""

    def before_execute(connection: sa.Connection, *_execution: Any) -> None:
        if _LATER in connection.info:
            run_postponed(connection)
        forget_read_ahead(connection)

    sa.event.listen(engine, "before_execute", before_execute)
    sa.event.listen(engine, "commit", run_postponed)
    sa.event.listen(engine, "rollback", drop_postponed)


def run_postponed(connection: sa.Connection) -> None:
    """Send the writes `Prepared.later` postponed in the connection's transaction now, in one
    round trip (something else is about to run, or the transaction to commit); those of a
    transaction that ended without them (rolled back) are dropped."""
    statements = _take_postponed(connection)
    if statements:
        driver = connection.connection.driver_connection
        _executed(connection, driver, statements)


def drop_postponed(connection: sa.Connection) -> None:
    """The transaction rolls back: the writes postponed in it are not sent."""
    if not connection.invalidated:  # else its driver connection, and all it held, are gone
        connection.info.pop(_LATER, None)


@dataclass
class _Postponed:
    """Writes postponed (`Prepared.later`) in the transaction they belong to."""

    transaction: sa.RootTransaction | None
    statements: list[_Planned]


def _take_postponed(connection: sa.Connection) -> list[_Planned]:
    postponed: _Postponed | None = connection.info.pop(_LATER, None)
    if postponed is None or postponed.transaction is not connection.get_transaction():
        return []
    return postponed.statements


def _executed(
    connection: sa.Connection, driver: Any, statements: list[_Planned], *after: bytes
) -> tuple[list[Any], Any]:
    """`EXECUTE a(…); EXECUTE b(…)` (and `after`, as `COMMIT`) sent in one message, each
    statement prepared on the server first where it is not yet: the results, and the
    transformer that reads them."""
    from psycopg.adapt import Transformer

    transformer = Transformer.from_context(driver)
    sql = b"; ".join([*(p.execution(transformer) for p in statements), *after])
    on_server = connection.connection.info.setdefault(_ON_SERVER, set())
    try:
        _prepare_on_server(driver, on_server, [p.compiled for p in statements])
        return _simple_query(driver, sql), transformer
    except connection.dialect.loaded_dbapi.Error as error:
        raise _as_sqlalchemy_error(connection, error, sql.decode(), (), None) from error


def _on_server_in_begun(
    connection: sa.Connection, prepared: Prepared, parameters: Mapping[str, Any]
) -> tuple[Any, _Planned] | None:
    """The driver connection and the statement planned, where it may go to the server as
    `EXECUTE` with what comes next: on psycopg, in a transaction `begin_with` began (whose
    statements found on the server vouch that none was deallocated since)."""
    begun = connection.info.get(_BEGUN)
    if (
        connection.dialect.driver != "psycopg"
        or begun is None
        or begun is not connection.get_transaction()
        or _observed(connection)
    ):
        return None
    from psycopg.pq import TransactionStatus

    driver = connection.connection.driver_connection
    if driver is None or driver.pgconn.transaction_status != TransactionStatus.INTRANS:
        return None
    statement = _planned(connection, prepared, parameters)
    return None if statement is None else (driver, statement)


def _planned(
    connection: sa.Connection, prepared: Prepared, parameters: Mapping[str, Any]
) -> _Planned | None:
    """The statement compiled and its values converted, to go to the server as `EXECUTE`;
    None if it is not one prepared on the server (see `Prepared.rows`)."""
    compiled = prepared._compile(connection.dialect, parameters)
    if compiled is None or compiled.raw_sql is None or compiled.server_name is None:
        return None
    values = _values(compiled, parameters)
    assert isinstance(values, tuple), "psycopg's statements take their values in order"
    return _Planned(prepared, parameters, compiled, values)


@dataclass(frozen=True)
class _Planned:
    """A statement going to the server as `EXECUTE` (`begin_with`, `run_together`,
    `commit_with`, `Prepared.later`), compiled, its values converted."""

    prepared: Prepared
    parameters: Mapping[str, Any]
    compiled: _Compiled
    values: tuple[Any, ...]

    def execution(self, transformer: Any) -> bytes:
        """`EXECUTE name(literal, …)` of the statement prepared on the server."""
        name = self.compiled.server_name or b""
        if not self.values:
            return b"EXECUTE " + name
        literals = (
            b"NULL" if v is None else bytes(transformer.as_literal(v)) for v in self.values
        )
        return b"EXECUTE %s(%s)" % (name, b", ".join(literals))


def forget_read_ahead(connection: sa.Connection) -> None:
    """Something else runs in the transaction: what was read ahead may no longer hold."""
    connection.info.pop(_AHEAD, None)


def _read_ahead(
    connection: sa.Connection, prepared: Prepared, parameters: Mapping[str, Any]
) -> list[Row] | None:
    """The answer read ahead for this statement, if it is the next one and of this
    transaction; anything else drops what was read ahead."""
    ahead: _Ahead = connection.info[_AHEAD]
    if ahead.transaction is connection.get_transaction() and ahead.answers:
        next_prepared, next_parameters, rows = ahead.answers[0]
        if next_prepared is prepared and next_parameters == parameters:
            ahead.answers.popleft()
            if not ahead.answers:
                del connection.info[_AHEAD]
            return rows
    del connection.info[_AHEAD]
    return None


def _begin_on_server(
    driver: Any, info: dict[Any, Any], sql: bytes, statements: list[_Compiled]
) -> list[Any]:
    """Send `BEGIN; EXECUTE …` (`sql`), the statements it executes prepared on the server
    first where they are not yet. psycopg deallocates every statement prepared on the server
    when a transaction rolls back (its own cache and ours): a statement found missing is
    prepared again, and `sql` sent once more, after the failed BEGIN is rolled back."""
    from psycopg import errors

    on_server: set[bytes | None] = info.setdefault(_ON_SERVER, set())
    _prepare_on_server(driver, on_server, statements)
    try:
        return _simple_query(driver, sql)
    except errors.InvalidSqlStatementName:
        _simple_query(driver, b"ROLLBACK")  # not psycopg's: it would deallocate them again
        on_server.clear()
    _prepare_on_server(driver, on_server, statements)
    return _simple_query(driver, sql)


def _prepare_on_server(
    driver: Any, on_server: set[bytes | None], statements: list[_Compiled]
) -> None:
    missing = list(
        {c.server_name: c for c in statements if c.server_name not in on_server}.values()
    )
    if missing:  # each once, though a statement may run more than once
        _simple_query(
            driver, b"; ".join(b"PREPARE %s AS %s" % (c.server_name, c.raw_sql) for c in missing)
        )
        on_server.update(c.server_name for c in missing)


def _simple_query(driver: Any, sql: bytes) -> list[Any]:
    """Send `sql` (statements separated by `;`) in one message of the simple query protocol,
    as psycopg sends its own BEGIN and COMMIT; the results, the first error raised."""
    from psycopg import errors, generators
    from psycopg.pq import ExecStatus

    with driver.lock:
        driver.pgconn.send_query(sql)
        results: list[Any] = driver.wait(generators.execute(driver.pgconn))
    for result in results:
        if result.status not in (ExecStatus.COMMAND_OK, ExecStatus.TUPLES_OK):
            raise errors.error_from_result(result, encoding=driver.info.encoding)
    return results


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
        server_name=f"baocao_{next(_SERVER_NUMBERS)}".encode() if raw_sql else None,
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
