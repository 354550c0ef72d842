"""SQL that reads the same on SQLite and PostgreSQL: inserts that ignore a conflicting key."""

from __future__ import annotations

from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, SQLModel


def insert_ignoring_conflict(session: Session, table: type[SQLModel], **values: Any) -> bool:
    """Insert a row unless one with the same key exists; True if this call inserted it."""
    target = cast(sa.Table, table.__table__)  # type: ignore[attr-defined]
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = (
        dialect.insert(target)
        .values(**values)
        .on_conflict_do_nothing()
        .returning(sa.literal_column("1"))
    )
    # RETURNING says whether a row went in; a row count is not reported by every driver here.
    return session.connection().execute(statement).first() is not None


def insert_many_ignoring_conflict(
    session: Session, table: type[SQLModel], rows: list[dict[str, Any]], *, chunk: int = 500
) -> int:
    """Insert many rows, a few hundred per statement, skipping those whose key exists; how
    many went in."""
    target = cast(sa.Table, table.__table__)  # type: ignore[attr-defined]
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    written = 0
    for first in range(0, len(rows), chunk):
        statement = (
            dialect.insert(target)
            .values(rows[first : first + chunk])
            .on_conflict_do_nothing()
            .returning(sa.literal_column("1"))
        )
        written += len(session.connection().execute(statement).all())
    return written


def is_postgresql(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"
