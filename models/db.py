"""The database engine, sessions and migrations; SQLite tuned for one writer, PostgreSQL as is."""

from __future__ import annotations

import os
import re
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import sqlalchemy as sa
from sqlalchemy import Engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, create_engine

from models.prepared import keep_transactions_whole

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"

SessionFactory = Callable[[], Session]


DEFAULT_SQLITE_FOLDER = Path("data")  # made on first run; any other folder must exist
CONNECT_TIMEOUT_SECONDS = 10

ProblemKind = Literal[
    "unsupported", "folder", "sqlite_file", "auth", "unreachable", "no_database", "other"
]


class DatabaseProblem(Exception):
    """The database cannot be used; `kind` says why (the caller words it for people)."""

    def __init__(self, kind: ProblemKind, detail: str = "") -> None:
        super().__init__(f"{kind}: {detail}")
        self.kind = kind
        self.detail = detail


def normalise_url(url: str) -> str:
    """`postgres://…` and `postgresql://…` (as hosting panels write them) mean PostgreSQL
    through psycopg 3, the driver we ship."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url.removeprefix(prefix)
    return url


def database_threads(backend: str) -> int:
    """How many threads of a process do its database work at once (the threads of
    `asyncio.to_thread`), and so how many connections its pool keeps open.

    One on SQLite: every transaction there writes (`BEGIN IMMEDIATE`), so a second thread
    only waits for the first one's lock, and each hand-over between them, and of the GIL,
    is a pair of context switches (with six, the chat path made about fourteen a handled
    update and spent a sixth of its CPU time in the kernel). PostgreSQL runs transactions
    side by side and its threads overlap their round trips, but the process runs Python on
    one core at a time (the GIL): a thread back from a round trip waits for it, and every
    hand-over is a pair of context switches. One thread a core and one more: with Python's
    default for `asyncio.to_thread` (six on two cores) the chat benchmark made 84,000 to
    110,000 context switches a run and spent 2.4 to 2.75 ms of CPU an update; with three,
    38,000 and 2.0 to 2.1 ms, and more updates a second (`perf stat` on the bot process)."""
    if backend == "sqlite":
        return 1
    return (os.cpu_count() or 1) + 1


def make_engine(url: str, *, echo: bool = False) -> Engine:
    """An engine for `url`; a SQLite file gets WAL, a busy timeout and `BEGIN IMMEDIATE`."""
    parsed = make_url(normalise_url(url))
    backend = parsed.get_backend_name()
    if backend == "postgresql":
        if parsed.get_driver_name() != "psycopg":
            raise DatabaseProblem("unsupported", parsed.drivername)
        engine = create_engine(
            parsed,
            echo=echo,
            # A connection for each thread: with fewer, the pool closes the connection a
            # thread hands back when the pool is full and opens another for the next one
            # (a server process forked each time: 22 in one run of the chat benchmark).
            pool_size=database_threads(backend),
            connect_args={"connect_timeout": CONNECT_TIMEOUT_SECONDS},
        )
        _ping_rested_connections(engine)
        keep_transactions_whole(engine)
        return engine
    if backend != "sqlite":
        raise DatabaseProblem("unsupported", parsed.drivername)
    if parsed.database and parsed.database != ":memory:":
        folder = Path(parsed.database).parent
        if folder == DEFAULT_SQLITE_FOLDER:
            folder.mkdir(parents=True, exist_ok=True)
        elif not folder.is_dir():
            raise DatabaseProblem("folder", str(folder))
    engine = create_engine(
        parsed,
        echo=echo,
        connect_args={"check_same_thread": False, "factory": _one_writer_connection()},
    )
    _tune_sqlite(engine)
    return engine


WRITER_WAIT_SECONDS = 10.0  # as long as SQLite's busy timeout: then SQLite decides, as before


class _QueuedWriter(sqlite3.Connection):
    """A SQLite connection whose transactions (all of them write: BEGIN IMMEDIATE) queue on a
    lock shared by the engine's connections, and are woken the moment the writer before them
    commits. Left to SQLite's busy handler, the threads of one process would poll the file
    lock with sleeps of up to 100 ms: the chat path's updates waited more than they worked.
    Other processes still meet SQLite's busy timeout."""

    writer: threading.Lock
    _holding = False

    def begin_writing(self) -> None:
        self._holding = self.writer.acquire(timeout=WRITER_WAIT_SECONDS)

    def done_writing(self) -> None:
        if self._holding:
            self._holding = False
            self.writer.release()

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            self.done_writing()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self.done_writing()

    def close(self) -> None:
        try:
            super().close()
        finally:
            self.done_writing()


def _one_writer_connection() -> type[_QueuedWriter]:
    """The connection class of one engine: its own lock (one database file)."""
    return type("QueuedWriter", (_QueuedWriter,), {"writer": threading.Lock()})


def check_connection(engine: Engine) -> None:
    """Connect once, so a wrong address or password is one clear `DatabaseProblem` at start."""
    try:
        with engine.connect():
            pass
    except OperationalError as error:
        raise _classified(engine, error) from None


def _classified(engine: Engine, error: OperationalError) -> DatabaseProblem:
    text = str(error.orig or error).strip().splitlines()[0] if str(error).strip() else ""
    if engine.dialect.name == "sqlite":
        return DatabaseProblem("sqlite_file", str(engine.url.database or ""))
    code = getattr(error.orig, "sqlstate", None)
    lowered = text.lower()
    if code in ("28P01", "28000") or "password" in lowered or "authentication" in lowered:
        return DatabaseProblem("auth", str(engine.url.username or ""))
    if code == "3D000" or "does not exist" in lowered:
        return DatabaseProblem("no_database", str(engine.url.database or ""))
    if any(
        word in lowered
        for word in ("connection refused", "timeout", "timed out", "translate host", "resolve")
    ):
        return DatabaseProblem("unreachable", f"{engine.url.host}:{engine.url.port or 5432}")
    return DatabaseProblem("other", text[:200])


PING_AFTER_REST_SECONDS = 1.0


def _ping_rested_connections(engine: Engine) -> None:
    """A pooled connection that rested is checked before use (the server may have restarted
    or dropped it meanwhile); a dead one is replaced, so the work that asked for it does not
    fail. One that was in use a moment ago is not: a ping on every checkout (SQLAlchemy's
    pool_pre_ping) was a round trip per transaction, 0.3 ms of a 2.6 ms chat step."""

    @event.listens_for(engine, "checkin")
    def _resting(_dbapi_connection: Any, record: Any) -> None:
        record.info["rests_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping_if_rested(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        rests_since = record.info.get("rests_since")
        if rests_since is None or time.monotonic() - rests_since < PING_AFTER_REST_SECONDS:
            return  # new, or in use a moment ago
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception:
            # The pool drops this connection and tries another, up to three times.
            raise sa.exc.DisconnectionError from None


def _tune_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy emit BEGIN itself (below) instead of pysqlite's deferred BEGIN.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # Take the write lock up front: a second writer waits (in this process on the
        # connections' lock, from others busy_timeout) instead of failing halfway through
        # with "database is locked".
        writer = connection.connection.driver_connection
        writer.begin_writing()
        try:
            # On the driver's connection: through `exec_driver_sql` the statement cost as
            # much of SQLAlchemy's execution machinery as any other (~20 µs, most of the
            # work of an empty transaction).
            writer.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as error:
            writer.done_writing()
            # As SQLAlchemy raises it ("database is locked": its OperationalError), which
            # the callers know how to wait out.
            raise sa.exc.DBAPIError.instance(
                "BEGIN IMMEDIATE", (), error, sqlite3.Error, dialect=engine.dialect
            ) from error
        except BaseException:
            writer.done_writing()
            raise


def session_factory(engine: Engine) -> SessionFactory:
    """A callable that opens a new session on `engine`."""

    def open_session() -> Session:
        return Session(engine, expire_on_commit=False)

    return open_session


@contextmanager
def transaction(open_session: SessionFactory) -> Iterator[Session]:
    """A session whose work is committed on success and rolled back on any error."""
    with open_session() as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def alembic_config(engine: Engine) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


_REVISION = re.compile(r"^revision: str = '([^']+)'", re.MULTILINE)
_DOWN_REVISION = re.compile(r"^down_revision: str \| None = '([^']+)'", re.MULTILINE)


def head_revision() -> str | None:
    """The newest migration's id, read from the migration files; None if they do not say it
    plainly (then alembic decides)."""
    revisions: set[str] = set()
    replaced: set[str] = set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        text = path.read_text(encoding="utf-8")
        if (revision := _REVISION.search(text)) is None:
            return None
        revisions.add(revision.group(1))
        replaced.update(_DOWN_REVISION.findall(text))
    heads = revisions - replaced
    return heads.pop() if len(heads) == 1 else None


def schema_revision(engine: Engine) -> str | None:
    """The migration the database is at; None for an empty database."""
    with engine.connect() as connection:
        if not sa.inspect(connection).has_table("alembic_version"):
            return None
        return connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()


def migrate(engine: Engine) -> None:
    """Create or upgrade the schema to the newest migration. Alembic is loaded only when
    there is something to do: every start of the bot would otherwise carry it (~8 MB)."""
    head = head_revision()
    if head is not None and schema_revision(engine) == head:
        return
    from alembic import command

    command.upgrade(alembic_config(engine), "head")
