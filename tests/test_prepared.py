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
from models.prepared import Prepared, begin_with, commit_with, run_together
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


# ---- a transaction begun with statements read ahead (`begin_with`) --------------------------


def prepared_on_the_server(connection: sa.Connection) -> set[str]:
    """The names of the statements prepared in this connection's server session."""
    names = connection.exec_driver_sql("SELECT name FROM pg_prepared_statements").scalars()
    return set(names)


def test_statements_read_ahead_answer_as_if_each_ran_in_turn(engine: Engine) -> None:
    with engine.begin() as connection:
        row_id = INSERT.scalar(connection, row("reply:g"))
    executed = Executed(engine)
    with engine.begin() as connection:
        begin_with(
            connection,
            [(MARK_SENT, {"row_id": row_id, "sent_at": AT}), (SELECT, {"key": "reply:g"})],
        )
        marked = MARK_SENT.first(connection, {"row_id": row_id, "sent_at": AT})
        found = SELECT.mapping(connection, {"key": "reply:g"})  # sees what the mark wrote
        inserted = INSERT.scalar(connection, row("reply:h"))
        begin_with(connection, [(SELECT, {"key": "reply:h"})])  # begun already: not read ahead
        assert SELECT.mapping(connection, {"key": "reply:h"}) is not None
        if engine.dialect.name == "postgresql":
            assert executed.count == 0, "nothing went through SQLAlchemy's execution"
            assert len(prepared_on_the_server(connection)) == 2  # the mark and the select
    assert marked == (OutboxState.SENT, AT)
    assert found is not None
    assert found["state"] is OutboxState.SENT
    assert found["sent_at"] == AT
    assert found["sent_at"].tzinfo is not None
    assert found["payload"] == {"kind": "reply", "text": "Đã lưu ✅", "choices": [1, 2]}
    assert found["created_at"] == AT - timedelta(days=1)
    assert isinstance(inserted, int)


def count_on_the_driver(connection: sa.Connection, key: str) -> int:
    """Outbox rows of `key`, counted on the driver's connection in its transaction (unseen by
    SQLAlchemy: what was read ahead stays)."""
    driver = connection.connection.driver_connection
    assert driver is not None
    cursor = driver.cursor()
    cursor.execute("SELECT count(*) FROM outbox WHERE key = %s", (key,))
    return int(cursor.fetchone()[0])


def test_a_statement_read_ahead_runs_once(engine: Engine) -> None:
    with engine.begin() as connection:
        begin_with(connection, [(INSERT, row("reply:i"))])
        if engine.dialect.name == "postgresql":  # run already, at the BEGIN
            assert count_on_the_driver(connection, "reply:i") == 1
        first = INSERT.scalar(connection, row("reply:i"))  # served, not inserted again
    with engine.connect() as connection:
        keys = connection.execute(sa.select(TABLE.c.id).where(TABLE.c.key == "reply:i")).all()
    assert [tuple(k) for k in keys] == [(first,)]


def test_what_was_read_ahead_is_not_served_once_anything_else_ran(engine: Engine) -> None:
    with engine.begin() as connection:
        row_id = INSERT.scalar(connection, row("reply:j"))
    with engine.begin() as connection:
        begin_with(connection, [(SELECT, {"key": "reply:j"})])
        connection.execute(TABLE.update().where(TABLE.c.id == row_id).values(attempts=3))
        assert (SELECT.mapping(connection, {"key": "reply:j"}) or {})["attempts"] == 3
    with engine.begin() as connection:
        begin_with(connection, [(SELECT, {"key": "reply:j"})])
        MARK_SENT.rows(connection, {"row_id": row_id, "sent_at": AT})
        assert (SELECT.mapping(connection, {"key": "reply:j"}) or {})["state"] is OutboxState.SENT
    with engine.connect() as connection:  # read ahead, never asked for, then rolled back
        with connection.begin():
            begin_with(connection, [(SELECT, {"key": "reply:j"})])
        with connection.begin():
            connection.execute(TABLE.update().where(TABLE.c.id == row_id).values(attempts=4))
        with connection.begin():
            assert (SELECT.mapping(connection, {"key": "reply:j"}) or {})["attempts"] == 4


def insert_begun_with(engine: Engine, values: dict[str, Any], *, then_fail: bool = False) -> None:
    """A transaction that begins with the insert of `values` (on PostgreSQL read ahead), runs
    it, and fails afterwards if told to."""
    with engine.begin() as connection:
        begin_with(connection, [(INSERT, values)])
        INSERT.rows(connection, values)
        if then_fail:
            raise RuntimeError("the handler failed")


def test_a_transaction_begun_with_statements_is_rolled_back_whole(engine: Engine) -> None:
    with pytest.raises(RuntimeError):
        insert_begun_with(engine, row("reply:k"), then_fail=True)
    with engine.connect() as connection:
        assert SELECT.mapping(connection, {"key": "reply:k"}) is None


def test_a_statement_read_ahead_that_fails_fails_as_sqlalchemys(engine: Engine) -> None:
    with engine.begin() as connection:
        INSERT.rows(connection, row("reply:l"))
    with pytest.raises(sa.exc.IntegrityError):
        insert_begun_with(engine, row("reply:l"))  # the same key
    with engine.begin() as connection:  # rolled back; the connection goes on working
        begin_with(connection, [(SELECT, {"key": "reply:l"})])
        assert SELECT.mapping(connection, {"key": "reply:l"}) is not None


def test_statements_deallocated_on_the_server_are_prepared_again(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("statements prepared on the server: PostgreSQL")
    with engine.begin() as connection:
        INSERT.rows(connection, row("reply:m"))
    with engine.connect() as connection:
        with connection.begin():
            begin_with(connection, [(SELECT, {"key": "reply:m"})])
            assert SELECT.mapping(connection, {"key": "reply:m"}) is not None
            assert prepared_on_the_server(connection)
        with connection.begin():
            # as psycopg does after every ROLLBACK when it has prepared statements itself
            connection.exec_driver_sql("DEALLOCATE ALL")
        with connection.begin():
            begin_with(connection, [(SELECT, {"key": "reply:m"})])
            assert SELECT.mapping(connection, {"key": "reply:m"}) is not None
            assert prepared_on_the_server(connection)


# ---- ... and that ends with its last statement and the COMMIT (`commit_with`) -----------------


def keys_seen_elsewhere(engine: Engine, *keys: str) -> set[str]:
    """Which of `keys` another connection sees (what is committed)."""
    with engine.connect() as connection:
        found = connection.execute(sa.select(TABLE.c.key).where(TABLE.c.key.in_(keys)))
        return set(found.scalars())


def test_a_transaction_begun_with_statements_commits_with_its_last(engine: Engine) -> None:
    on_postgresql = engine.dialect.name == "postgresql"
    with engine.begin() as connection:
        begin_with(connection, [(SELECT, {"key": "reply:n"})])
        assert SELECT.mapping(connection, {"key": "reply:n"}) is None
        INSERT.rows(connection, row("reply:o"))  # a change before the last
        answered = commit_with(connection, INSERT, row("reply:n"))
        if on_postgresql:  # committed already, in one round trip with the insert
            assert keys_seen_elsewhere(engine, "reply:n", "reply:o") == {"reply:n", "reply:o"}
    assert keys_seen_elsewhere(engine, "reply:n", "reply:o") == {"reply:n", "reply:o"}
    [(row_id, created_at)] = answered
    assert isinstance(row_id, int)
    assert created_at == AT - timedelta(days=1)
    assert created_at.tzinfo is not None


def test_a_last_statement_that_fails_rolls_back_the_whole_transaction(engine: Engine) -> None:
    with engine.begin() as connection:
        INSERT.rows(connection, row("reply:p"))
    with engine.begin() as connection:
        begin_with(connection, [(SELECT, {"key": "reply:p"})])
        INSERT.rows(connection, row("reply:q"))
        with pytest.raises(sa.exc.IntegrityError):
            commit_with(connection, INSERT, row("reply:p"))  # the same key as a row there
        connection.rollback()
    assert keys_seen_elsewhere(engine, "reply:q") == set()
    with engine.begin() as connection:  # the connection goes on working
        begin_with(connection, [(SELECT, {"key": "reply:p"})])
        assert SELECT.mapping(connection, {"key": "reply:p"}) is not None
        commit_with(connection, INSERT, row("reply:q"))
    assert keys_seen_elsewhere(engine, "reply:q") == {"reply:q"}


def test_what_runs_after_the_last_statement_is_committed_by_the_commit(engine: Engine) -> None:
    with engine.begin() as connection:
        begin_with(connection, [(SELECT, {"key": "reply:r"})])
        [(row_id, _)] = commit_with(connection, INSERT, row("reply:r"))
        assert SELECT.mapping(connection, {"key": "reply:r"}) is not None  # still readable
        MARK_SENT.rows(connection, {"row_id": row_id, "sent_at": AT})
    with engine.connect() as connection:
        assert (SELECT.mapping(connection, {"key": "reply:r"}) or {})["state"] is OutboxState.SENT


def test_a_transaction_not_begun_with_statements_commits_when_it_ends(engine: Engine) -> None:
    with engine.begin() as connection:
        INSERT.rows(connection, row("reply:s"))
        commit_with(connection, INSERT, row("reply:t"))
        if engine.dialect.name == "postgresql":
            # the statements prepared on the server are not known to be there: no COMMIT yet
            assert keys_seen_elsewhere(engine, "reply:s", "reply:t") == set()
    assert keys_seen_elsewhere(engine, "reply:s", "reply:t") == {"reply:s", "reply:t"}


# ---- a whole transaction in one round trip (`run_together`) ----------------------------------


def test_statements_run_together_are_one_committed_transaction(engine: Engine) -> None:
    with engine.begin() as connection:
        inserted, found = run_together(
            connection, [(INSERT, row("reply:u")), (SELECT, {"key": "reply:u"})]
        )
        if engine.dialect.name == "postgresql":  # committed already, in one round trip
            assert keys_seen_elsewhere(engine, "reply:u") == {"reply:u"}
    assert keys_seen_elsewhere(engine, "reply:u") == {"reply:u"}
    [(row_id, created_at)] = inserted
    assert created_at == AT - timedelta(days=1)
    assert [r[0] for r in found] == [row_id]  # the select saw the insert before it


def test_statements_run_together_that_fail_leave_nothing(engine: Engine) -> None:
    with engine.begin() as connection:
        INSERT.rows(connection, row("reply:v"))
    with engine.begin() as connection:
        with pytest.raises(sa.exc.IntegrityError):
            run_together(connection, [(INSERT, row("reply:w")), (INSERT, row("reply:v"))])
        connection.rollback()
    assert keys_seen_elsewhere(engine, "reply:w") == set()
    with engine.begin() as connection:  # the connection goes on working
        [[(row_id, _)], marked] = run_together(
            connection,
            [(INSERT, row("reply:w")), (MARK_SENT, {"row_id": 0, "sent_at": AT})],
        )
    assert marked == []  # no row 0
    assert keys_seen_elsewhere(engine, "reply:w") == {"reply:w"}


# ---- writes postponed to the next statement's round trip (`Prepared.later`) -----------------

RENAME = Prepared(sa.update(Outbox).where(col(Outbox.id) == sa.bindparam("row_id")))  # SET key


def state_on_the_driver(connection: sa.Connection, row_id: int) -> str:
    """The row's state as the driver's connection sees it in its transaction now (not through
    SQLAlchemy or `Prepared`: nothing postponed is sent first)."""
    driver = connection.connection.driver_connection
    assert driver is not None
    cursor = driver.cursor()
    mark = "%s" if engine_is_postgresql(connection) else "?"
    cursor.execute(f"SELECT state FROM outbox WHERE id = {mark}", (row_id,))
    return str(cursor.fetchone()[0])


def inserted(engine: Engine, *keys: str) -> list[int]:
    with engine.begin() as connection:
        return [INSERT.scalar(connection, row(key)) for key in keys]


def begun_with_a_postponed_mark(connection: sa.Connection, row_id: int) -> None:
    """A transaction begun as a chat update's is, with the row's mark as sent postponed."""
    begin_with(connection, [(SELECT, {"key": "none"})])
    MARK_SENT.later(connection, {"row_id": row_id, "sent_at": AT})
    postponed = engine_is_postgresql(connection)
    assert state_on_the_driver(connection, row_id) == ("pending" if postponed else "sent")


def engine_is_postgresql(connection: sa.Connection) -> bool:
    return connection.dialect.name == "postgresql"


def test_a_postponed_write_goes_with_the_commit(engine: Engine) -> None:
    [row_id] = inserted(engine, "reply:x")
    with engine.begin() as connection:
        begun_with_a_postponed_mark(connection, row_id)
        commit_with(connection, INSERT, row("reply:y"))
        if engine.dialect.name == "postgresql":  # committed, the mark with it
            assert keys_seen_elsewhere(engine, "reply:y") == {"reply:y"}
            assert state_seen_elsewhere(engine, "reply:x") is OutboxState.SENT
    assert state_seen_elsewhere(engine, "reply:x") is OutboxState.SENT


def state_seen_elsewhere(engine: Engine, key: str) -> OutboxState:
    with engine.connect() as connection:
        state = (SELECT.mapping(connection, {"key": key}) or {})["state"]
    assert isinstance(state, OutboxState)
    return state


def test_a_postponed_write_runs_before_any_other_statement(engine: Engine) -> None:
    first, second = inserted(engine, "reply:z1", "reply:z2")
    with engine.begin() as connection:
        begun_with_a_postponed_mark(connection, first)
        assert (SELECT.mapping(connection, {"key": "reply:z1"}) or {})["state"] is OutboxState.SENT
    with engine.begin() as connection:
        begun_with_a_postponed_mark(connection, second)
        found = connection.execute(sa.select(TABLE.c.state).where(TABLE.c.id == second))
        assert found.scalar() is OutboxState.SENT


def test_a_postponed_write_runs_at_a_commit_without_a_last_statement(engine: Engine) -> None:
    [row_id] = inserted(engine, "reply:z3")
    with engine.begin() as connection:
        begun_with_a_postponed_mark(connection, row_id)
    with engine.connect() as connection:
        assert (SELECT.mapping(connection, {"key": "reply:z3"}) or {})["state"] is OutboxState.SENT


def test_a_postponed_write_is_dropped_when_its_transaction_rolls_back(engine: Engine) -> None:
    [row_id] = inserted(engine, "reply:z4")

    def failing(connection: sa.Connection) -> None:
        with connection.begin():
            begun_with_a_postponed_mark(connection, row_id)
            raise RuntimeError("the handler failed")

    with engine.connect() as connection:
        with pytest.raises(RuntimeError):
            failing(connection)
        with connection.begin():  # the next transaction on the same connection
            begin_with(connection, [(SELECT, {"key": "reply:z4"})])
            commit_with(connection, INSERT, row("reply:z5"))
    with engine.connect() as connection:
        found = SELECT.mapping(connection, {"key": "reply:z4"}) or {}
        assert found["state"] is OutboxState.PENDING


def test_a_postponed_write_that_fails_fails_its_transaction(engine: Engine) -> None:
    taken, renamed = inserted(engine, "reply:z6", "reply:z7")

    def rename_then_insert(connection: sa.Connection) -> None:
        RENAME.later(connection, {"row_id": renamed, "key": "reply:z6"})  # a key taken
        commit_with(connection, INSERT, row("reply:z8"))  # on PostgreSQL: fails here

    with engine.connect() as connection:
        transaction = connection.begin()
        begin_with(connection, [(SELECT, {"key": "none"})])
        with pytest.raises(sa.exc.IntegrityError):
            rename_then_insert(connection)
        transaction.rollback()
    assert keys_seen_elsewhere(engine, "reply:z6", "reply:z7", "reply:z8") == {
        "reply:z6",
        "reply:z7",
    }
    assert taken != renamed


def test_a_savepoint_rolled_back_takes_the_writes_postponed_after_it(engine: Engine) -> None:
    kept, undone = inserted(engine, "reply:z9", "reply:z10")
    with engine.begin() as connection:
        begun_with_a_postponed_mark(connection, kept)
        savepoint = connection.begin_nested()
        MARK_SENT.later(connection, {"row_id": undone, "sent_at": AT})
        savepoint.rollback()
        commit_with(connection, INSERT, row("reply:z11"))
    with engine.connect() as connection:
        states = {
            key: (SELECT.mapping(connection, {"key": key}) or {})["state"]
            for key in ("reply:z9", "reply:z10", "reply:z11")
        }
    assert states == {
        "reply:z9": OutboxState.SENT,
        "reply:z10": OutboxState.PENDING,
        "reply:z11": OutboxState.PENDING,
    }


def test_a_postponed_write_that_fails_at_the_commit_fails_the_commit(engine: Engine) -> None:
    taken, renamed = inserted(engine, "reply:z12", "reply:z13")

    def postponed_then_committed() -> None:
        with engine.begin() as connection:
            begin_with(connection, [(SELECT, {"key": "none"})])
            INSERT.rows(connection, row("reply:z14"))
            RENAME.later(connection, {"row_id": renamed, "key": "reply:z12"})  # a key taken

    with pytest.raises(sa.exc.IntegrityError):  # on PostgreSQL at the commit
        postponed_then_committed()
    assert keys_seen_elsewhere(engine, "reply:z12", "reply:z13", "reply:z14") == {
        "reply:z12",
        "reply:z13",
    }
    assert taken != renamed
