"""SQL that reads the same on SQLite and PostgreSQL: inserts that ignore a conflicting key."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, cast

import sqlalchemy as sa
from sqlmodel import Session, SQLModel

from models.prepared import Prepared, commit_with, run_postponed

if TYPE_CHECKING:
    from sqlalchemy.dialects.postgresql import Insert as PostgresqlInsert
    from sqlalchemy.dialects.sqlite import Insert as SqliteInsert

    _DialectInsert = PostgresqlInsert | SqliteInsert


def insert_ignoring_conflict(session: Session, table: type[SQLModel], **values: Any) -> bool:
    """Insert a row unless one with the same key exists; True if this call inserted it."""
    return _insert_returning(session, table, values, returned=None) is not None


def insert_returning_id(session: Session, table: type[SQLModel], **values: Any) -> int | None:
    """Insert a row unless one with the same key exists; its id, or None if it existed."""
    found = _insert_returning(session, table, values, returned="id")
    return None if found is None else int(found)


def insert_returning_id_committing(
    session: Session, table: type[SQLModel], **values: Any
) -> int | None:
    """`insert_returning_id` as the last change of the session's transaction, committed with
    it where the driver allows (`models.prepared.commit_with`); what the session holds
    unflushed goes first. The session's commit must follow (it finds nothing left to do)."""
    session.flush()
    connection = session.connection()
    statement = _insert_ignoring_returning(table, connection.dialect.name, "id")
    rows = commit_with(connection, statement, values)
    return int(rows[0][0]) if rows else None


def insert_row(session: Session, table: type[SQLModel], **values: Any) -> int:
    """Insert a row (a key already there is an IntegrityError, as the ORM would raise); its
    id. One Core statement built once per table, not the ORM's unit of work for one row."""
    return int(_insert_returning_id(table).scalar(session.connection(), values))


@functools.cache
def _insert_returning_id(table: type[SQLModel]) -> Prepared:
    target = cast(sa.Table, table.__table__)  # type: ignore[attr-defined]
    return Prepared(sa.insert(target).returning(target.c.id))


def insert_many_returning(
    session: Session, table: type[SQLModel], rows: Sequence[dict[str, Any]], *, returned: str
) -> list[Any]:
    """Insert a few rows (all with the same columns), skipping those whose key exists; the
    `returned` column of the rows that went in. One statement (SQLAlchemy's
    "insertmanyvalues"): for batches of tens, not the bulk loads of
    `insert_many_ignoring_conflict`."""
    if not rows:
        return []
    connection = session.connection()
    statement = _insert_ignoring_returning(table, connection.dialect.name, returned).statement
    return list(connection.execute(statement, list(rows)).scalars())


def _insert_returning(
    session: Session, table: type[SQLModel], values: dict[str, Any], *, returned: str | None
) -> Any:
    connection = session.connection()
    statement = _insert_ignoring_returning(table, connection.dialect.name, returned)
    # RETURNING says whether a row went in; a row count is not reported by every driver here.
    return statement.scalar(connection, values)


@functools.cache
def _insert_ignoring_returning(
    table: type[SQLModel], dialect_name: str, returned: str | None
) -> Prepared:
    """`INSERT … ON CONFLICT DO NOTHING RETURNING <column, or 1>`, built once per table:
    the values come as parameters, so a call costs no expression building (the chat path
    inserts a few rows per update)."""
    target = cast(sa.Table, table.__table__)  # type: ignore[attr-defined]
    column = target.c[returned] if returned else sa.literal_column("1")
    return Prepared(_insert_of(dialect_name)(target).on_conflict_do_nothing().returning(column))


def _insert_of(dialect_name: str) -> Callable[[sa.Table], _DialectInsert]:
    """The `insert` of SQLite's or PostgreSQL's dialect (the ones with ON CONFLICT), imported
    when first used: a process loads the dialect it talks to, not the other one as well."""
    if dialect_name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as postgresql_insert

        return postgresql_insert
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert


def insert_many_ignoring_conflict(
    session: Session, table: type[SQLModel], rows: list[dict[str, Any]]
) -> int:
    """Insert many rows (all with the same columns), skipping those whose key exists; how many
    went in (RETURNING lists the rows that went in; a skipped row returns nothing).

    On PostgreSQL the rows are COPYed into a temporary table and moved over with one `INSERT …
    SELECT … ON CONFLICT DO NOTHING`: no statement text grows with the rows (a multi-row VALUES
    of 60,000 rows costs seconds in the driver's parameter parsing alone, arrays of them seconds
    in its escaping). On SQLite SQLAlchemy's "insertmanyvalues"
    sends multi-row VALUES batches of one statement compiled once."""
    if not rows:
        return 0
    target = cast(sa.Table, table.__table__)  # type: ignore[attr-defined]
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        return _insert_many_by_copy(connection, target, rows)
    statement = _insert_of("sqlite")(target).on_conflict_do_nothing().returning(target.c.id)
    return len(connection.execute(statement, rows).all())


def _insert_many_by_copy(
    connection: sa.Connection, target: sa.Table, rows: list[dict[str, Any]]
) -> int:
    dialect = connection.dialect
    names = list(rows[0])
    convert: list[Callable[[Any], Any] | None] = []
    for name in names:
        kind = target.c[name].type
        convert.append(_to_json if isinstance(kind, sa.JSON) else kind.bind_processor(dialect))
    quote = dialect.identifier_preparer.quote
    columns = ", ".join(quote(n) for n in names)
    staging = quote(f"staging_{target.name}")
    run_postponed(connection)  # what comes next goes to the driver's cursor directly
    driver = connection.connection.driver_connection
    assert driver is not None
    with driver.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMPORARY TABLE {staging} ON COMMIT DROP AS "
            f"SELECT {columns} FROM {quote(target.name)} WITH NO DATA"
        )
        with cursor.copy(f"COPY {staging} ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(
                    [
                        to_database(row[name]) if to_database else row[name]
                        for name, to_database in zip(names, convert, strict=True)
                    ]
                )
        cursor.execute(
            f"INSERT INTO {quote(target.name)} ({columns}) SELECT {columns} FROM {staging} "
            "ON CONFLICT DO NOTHING RETURNING 1"
        )
        written = len(cursor.fetchall())
        cursor.execute(f"DROP TABLE {staging}")
    return written


def _to_json(value: Any) -> str | None:
    return None if value is None else json.dumps(value)


def is_postgresql(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"
