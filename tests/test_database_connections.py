"""Connections to the database: SQLite's one writer is queued for on a lock by the threads of
one process, rather than through SQLite's busy handler (which polls with sleeps of up to
100 ms); a PostgreSQL connection that rested in the pool is checked before use and replaced
if the server dropped it."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from models.db import PING_AFTER_REST_SECONDS, database_threads, make_engine
from tests.conftest import backend_of, drop_on_the_server

THREADS = 6
WRITES = 15


def test_writers_of_one_process_queue_for_the_lock_instead_of_polling_the_file(
    tmp_path: Path,
) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'writers.db'}")

    @sa.event.listens_for(engine, "connect")
    def _no_busy_wait(dbapi_connection: Any, _record: Any) -> None:
        # SQLite would now refuse a second writer at once: only the queue keeps them apart.
        dbapi_connection.execute("PRAGMA busy_timeout=0")

    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE written (thread INTEGER, n INTEGER)")
    errors: list[BaseException] = []

    def write(thread: int) -> None:
        try:
            for n in range(WRITES):
                with engine.begin() as connection:
                    connection.exec_driver_sql(f"INSERT INTO written VALUES ({thread}, {n})")
                    time.sleep(0.001)  # others arrive while this one holds the lock
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=write, args=(t,)) for t in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with engine.connect() as connection:
        written = connection.exec_driver_sql("SELECT COUNT(*) FROM written").scalar()
    engine.dispose()
    assert errors == []
    assert written == THREADS * WRITES


def test_a_failed_transaction_lets_the_next_writer_in(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'writers.db'}")
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE written (n INTEGER NOT NULL)")
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql("INSERT INTO written VALUES (NULL)")
    except sa.exc.IntegrityError:
        pass
    done = threading.Event()

    def next_writer() -> None:
        with engine.begin() as connection:
            connection.exec_driver_sql("INSERT INTO written VALUES (1)")
        done.set()

    threading.Thread(target=next_writer).start()
    assert done.wait(5), "the lock was released by the rollback"
    engine.dispose()


def test_a_connection_the_server_dropped_while_it_rested_is_replaced_unnoticed(engine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("a server that drops connections: PostgreSQL")
    with engine.begin() as connection:
        backend = backend_of(connection)
    drop_on_the_server(engine, backend)  # while the connection rests in the pool
    time.sleep(PING_AFTER_REST_SECONDS + 0.2)
    for _ in range(3):  # whichever connection the pool hands out, the work goes through
        with engine.begin() as connection:
            assert connection.exec_driver_sql("SELECT 1").scalar() == 1


def test_every_thread_that_works_on_the_database_keeps_its_connection(engine: sa.Engine) -> None:
    """The process's database threads, all in a transaction at once, round after round: the
    pool opens a connection for each once. (A pool smaller than the threads closes a
    connection handed back when it is full, and opens another for the next transaction: on
    PostgreSQL a server process started and ended for each.)"""
    threads = database_threads(engine.dialect.name)
    engine.dispose()  # nothing opened before
    opened: list[object] = []
    sa.event.listen(engine, "connect", lambda connection, _record: opened.append(connection))
    together = threading.Barrier(threads, timeout=30)
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(5):
                with engine.begin() as connection:
                    connection.exec_driver_sql("SELECT 1")
                    together.wait()  # every thread holds a connection now
                together.wait()  # and every one has handed it back
        except BaseException as error:
            errors.append(error)

    workers = [threading.Thread(target=work) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert errors == []
    assert len(opened) == threads
