"""Statements run straight on the driver's cursor (`models.prepared`): the same values in and
out as through SQLAlchemy, its errors, and SQLAlchemy's execution where it must take over."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine
from sqlmodel import col

from models.enums import OutboxState
from models.prepared import Prepared
from models.tables import Outbox
from tests.conftest import backend_of, drop_on_the_server

AT = datetime(2026, 12, 3, 8, 30, 15, 123456, tzinfo=UTC)
TABLE = Outbox.__table__  # type: ignore[attr-defined]

INSERT = Prepared(sa.insert(Outbox).returning(col(Outbox.id), col(Outbox.created_at)))
SELECT = Prepared(sa.select(TABLE).where(col(Outbox.key) == sa.bindparam("key")))
MARK_SENT = Prepared(
    sa.update(Outbox)
    .where(col(Outbox.id) == sa.bindparam("row_id"))
    .values(state=OutboxState.SENT)
    .returning(col(Outbox.state), col(Outbox.sent_at))
)


def row(key: str, **changes: Any) -> dict[str, Any]:
    """Every column of an outbox row but its id (none left to a default)."""
    values: dict[str, Any] = {
        "key": key,
        "channel": "telegram",
        "chat_id": "1001",
        "payload": {"kind": "reply", "text": "Đã lưu ✅", "choices": [1, 2]},
        "due_at": AT,
        "state": OutboxState.PENDING,
        "claimed_until": None,
        "attempts": 0,
        "last_error": None,
        "sent_at": None,
        "created_at": AT - timedelta(days=1),
    }
    return values | changes


class Executed:
    """How many statements went through SQLAlchemy's `Connection.execute`."""

    def __init__(self, engine: Engine) -> None:
        self.count = 0
        sa.event.listen(engine, "before_execute", self._count)

    def _count(self, *_args: object) -> None:
        self.count += 1


def test_values_go_in_and_come_back_as_through_sqlalchemy(engine: Engine) -> None:
    executed = Executed(engine)
    with engine.begin() as connection:
        row_id, created_at = INSERT.first(connection, row("reply:a")) or (None, None)
        found = SELECT.mapping(connection, {"key": "reply:a"})
    assert executed.count == 0, "nothing went through SQLAlchemy's execution"
    with engine.connect() as connection:
        expected = connection.execute(sa.select(TABLE).where(TABLE.c.id == row_id)).one()
    assert found == dict(expected._mapping)
    assert found["payload"] == {"kind": "reply", "text": "Đã lưu ✅", "choices": [1, 2]}
    assert found["due_at"] == AT
    assert found["due_at"].tzinfo is not None
    assert found["state"] is OutboxState.PENDING
    assert found["claimed_until"] is None
    assert created_at == AT - timedelta(days=1)


def test_values_written_into_the_statement_go_with_those_given(engine: Engine) -> None:
    with engine.begin() as connection:
        row_id = INSERT.scalar(connection, row("reply:b"))
        state, sent_at = MARK_SENT.first(connection, {"row_id": row_id, "sent_at": AT}) or ()
    assert state is OutboxState.SENT
    assert sent_at == AT
    with engine.begin() as connection:  # no row: nothing answered
        assert MARK_SENT.rows(connection, {"row_id": -1, "sent_at": AT}) == []


def test_a_parameter_used_twice_and_a_percent_sign_in_the_sql_come_out_right(
    engine: Engine,
) -> None:
    """On psycopg the SQL goes as `$1, $2, …`, converted from `%(name)s` at compile time."""
    times = sa.bindparam("n", type_=sa.Integer)
    statement = Prepared(
        sa.select(
            (times * times).label("square"),
            sa.literal_column("'50%'").label("share"),
            (sa.bindparam("n", type_=sa.Integer) + sa.bindparam("m", type_=sa.Integer)).label(
                "sum"
            ),
        )
    )
    with engine.begin() as connection:
        assert statement.mapping(connection, {"n": 7, "m": 1}) == {
            "square": 49,
            "share": "50%",
            "sum": 8,
        }
        assert statement.mapping(connection, {"m": 2, "n": 3}) == {
            "square": 9,
            "share": "50%",
            "sum": 5,
        }


def test_an_insert_that_leaves_a_default_to_compute_goes_through_sqlalchemy(
    engine: Engine,
) -> None:
    executed = Executed(engine)
    values = {"key": "reply:c", "channel": "telegram", "chat_id": "1001", "due_at": AT}
    before = datetime.now(UTC)
    with engine.begin() as connection:
        INSERT.rows(connection, values)
        found = SELECT.mapping(connection, {"key": "reply:c"})
    assert executed.count == 1, "the insert went through SQLAlchemy, the select did not"
    assert found is not None
    assert found["payload"] == {}
    assert found["state"] is OutboxState.PENDING
    assert found["attempts"] == 0
    assert found["created_at"] >= before - timedelta(seconds=1)


def test_a_statement_someone_listens_to_goes_through_sqlalchemy(engine: Engine) -> None:
    seen: list[str] = []

    def record(*args: Any) -> None:
        seen.append(args[2])

    sa.event.listen(engine, "before_cursor_execute", record)
    with engine.begin() as connection:
        INSERT.rows(connection, row("reply:d"))
        found = SELECT.mapping(connection, {"key": "reply:d"})
    sa.event.remove(engine, "before_cursor_execute", record)
    assert any(s.startswith("INSERT INTO outbox") for s in seen)
    assert any(s.startswith("SELECT") and "outbox" in s for s in seen)
    assert found is not None
    assert found["chat_id"] == "1001"


def test_the_drivers_errors_come_out_as_sqlalchemys(engine: Engine) -> None:
    with engine.begin() as connection:
        INSERT.rows(connection, row("reply:e"))
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as connection:
        INSERT.rows(connection, row("reply:e"))  # the same key
    with engine.begin() as connection:  # rolled back; the connection goes on working
        assert SELECT.mapping(connection, {"key": "reply:e"}) is not None
    with pytest.raises(sa.exc.ArgumentError, match="'row_id'"), engine.begin() as connection:
        MARK_SENT.rows(connection, {"sent_at": AT})


def test_a_connection_lost_under_a_statement_is_replaced(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("a server that drops connections: PostgreSQL")
    with engine.begin() as connection:
        INSERT.rows(connection, row("reply:f"))
    with engine.connect() as connection:
        drop_on_the_server(engine, backend_of(connection))
        with pytest.raises(sa.exc.OperationalError) as raised:
            SELECT.mapping(connection, {"key": "reply:f"})
        assert raised.value.connection_invalidated
    with engine.begin() as connection:  # a new connection in its place
        assert SELECT.mapping(connection, {"key": "reply:f"}) is not None
