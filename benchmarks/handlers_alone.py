"""The handlers alone: CPU per update of `handlers.dispatch.handle_queued` (the transaction
that records an update's change, its replies and its inbox mark), with no messenger and no
event loop, step by step of the guided report and for a quick report, beside the same SQL
through the raw driver cursor.

    python benchmarks/handlers_alone.py --database-url sqlite:////tmp/hcm.db
    python benchmarks/handlers_alone.py --database-url postgresql+psycopg://…/bench_hcm

The same data set and officers as benchmarks/chat_path.py (Hồ Chí Minh); each officer walks
through the report one update after another, as the chat benchmark's bot does, and the thread's
CPU time is summed by kind of step (each update is stored in the inbox first, as the bot
stores it, outside the measure). The baseline replays every statement the handlers sent to
the driver in a second walk (as sent: SQL and parameters), update by update in a transaction
each, on a copy of the database as it was: what the same work costs with no ORM, no
SQLAlchemy and no handler code. All run on scratch copies (a file copy; on PostgreSQL `CREATE DATABASE … TEMPLATE`), so
the data set is left as it was.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import count
from pathlib import Path
from typing import Any

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.chat_path import GUIDED, Officer, officers  # noqa: E402
from benchmarks.national_data import prepare, scratch_copies  # noqa: E402
from bot.app import build_app  # noqa: E402
from bot.settings import Settings  # noqa: E402
from handlers.dispatch import handle_queued  # noqa: E402
from models.db import transaction  # noqa: E402
from models.messages import Inbound  # noqa: E402
from models.queue import OutboxMessage, store_inbox  # noqa: E402

ROUNDS = 3
QUICK_ROUNDS = 5
_delivery = count(10**12)  # above any update id the chat benchmark numbers

Statement = tuple[str, Any, bool]  # as the driver got it: SQL, parameters, executemany


@dataclass
class Update:
    kind: str
    seconds: float  # through the handlers
    statements: list[Statement]
    stored: list[Statement]  # storing it in the inbox, before (not measured)
    raw_seconds: float = 0.0  # the same statements through the raw cursor


@dataclass
class Walk:
    updates: list[Update] = field(default_factory=list)

    def kinds(self) -> list[str]:
        return list(dict.fromkeys(u.kind for u in self.updates))

    def of(self, kind: str) -> list[Update]:
        return [u for u in self.updates if u.kind == kind]


def inbound(officer: Officer, *, text: str = "", choice: str | None = None) -> Inbound:
    return Inbound(
        channel="telegram",
        chat_id=str(officer.user_id),
        sender_id=str(officer.user_id),
        sender_name="Cán bộ",
        text=text,
        choice=choice,
        answers_message="1" if choice is not None else None,
        delivery_id=str(next(_delivery)),
        received_at=datetime.now(UTC),
    )


def button(replies: list[OutboxMessage], label: str) -> str:
    for message in replies:
        for choice in message.reply.choices:
            if label.casefold() in choice.label.casefold():
                return choice.data
    raise AssertionError(f"no button {label!r} in {[m.reply.text[:40] for m in replies]}")


def walk(url: str, users: list[Officer], *, record: bool) -> Walk:
    """Every officer through the guided report ROUNDS times, then QUICK_ROUNDS quick reports;
    with `record`, every statement sent to the driver is kept (an engine event, which makes
    each statement dearer and sends the prepared ones through SQLAlchemy's execution, the
    same SQL: a walk that is timed records nothing)."""
    app = build_app(Settings(database_url=url))
    config = app.config.handlers
    result = Walk()
    sent: list[Statement] = []

    if record:

        @sa.event.listens_for(app.engine, "before_cursor_execute")
        def _record(
            _connection: object,
            _cursor: object,
            statement: str,
            parameters: Any,
            _context: object,
            executemany: bool,
        ) -> None:
            sent.append((statement, parameters, executemany))

    def step(kind: str, message: Inbound, expected: str) -> list[OutboxMessage]:
        sent.clear()
        with transaction(app.open_session) as session:  # stored first, as by the bot
            store_inbox(
                session,
                channel=message.channel,
                delivery_id=message.delivery_id,
                payload={},
                at=message.received_at,
            )
        stored = list(sent)
        sent.clear()
        started = time.thread_time()
        replies = handle_queued(message, open_session=app.open_session, config=config)
        result.updates.append(Update(kind, time.thread_time() - started, list(sent), stored))
        if not any(expected in m.reply.text for m in replies):
            raise AssertionError(f"{kind}: expected {expected!r}, got {replies}")
        return replies

    for _ in range(ROUNDS):
        for officer in users:
            replies: list[OutboxMessage] = []
            for action, value, expected in GUIDED:
                if action == "text":
                    message = inbound(officer, text=value)
                    kind = "task menu (/baocao)" if value == "/baocao" else "typed answer"
                elif action == "task":
                    message = inbound(officer, choice=f"rep:{officer.assignment_id}")
                    kind = "the task picked"
                else:
                    message = inbound(officer, choice=button(replies, value))
                    kind = "save" if value == "Lưu" else "button answer"
                replies = step(kind, message, expected)
    for round_ in range(QUICK_ROUNDS):
        for officer in users:
            text = f"/baocao {officer.code} {50 + round_}% Đã hoàn thành bước {round_ + 1}"
            step("quick report", inbound(officer, text=text), "Đã lưu")
    app.engine.dispose()
    return result


def replay(url: str, updates: list[Update]) -> list[float]:
    """The statements of each update through the raw driver cursor, one transaction each (on
    SQLite begun with BEGIN IMMEDIATE, as the bot's: it goes to the driver's connection, not
    through SQLAlchemy, so it is not among the statements recorded), on a database in the
    state the walk started from; the thread's CPU time of each."""
    engine = sa.create_engine(url)
    spent: list[float] = []
    with engine.connect() as connection:
        raw: Any = connection.connection.driver_connection
        sqlite = engine.dialect.name == "sqlite"
        if sqlite:
            raw.isolation_level = None  # BEGIN IMMEDIATE below, as in the bot

        def run(statements: list[Statement]) -> None:
            cursor = raw.cursor()
            if sqlite:
                cursor.execute("BEGIN IMMEDIATE")
            for statement, parameters, many in statements:
                if many:
                    cursor.executemany(statement, parameters)
                else:
                    cursor.execute(statement, parameters)
                if cursor.description is not None:
                    cursor.fetchall()
            raw.commit()

        for update in updates:
            run(update.stored)
            started = time.thread_time()
            run(update.statements)
            spent.append(time.thread_time() - started)
    engine.dispose()
    return spent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--province", default="Hồ Chí Minh")
    arguments = parser.parse_args()
    engine = prepare(arguments.database_url, province=arguments.province)
    url = engine.url.render_as_string(hide_password=False)
    engine.dispose()
    users = officers(url)
    with scratch_copies(url, ("handlers", "recorded", "replay")) as copies:
        timed_copy, recorded_copy, replay_copy = copies
        result = walk(timed_copy, users, record=False)
        recorded = walk(recorded_copy, users, record=True)
        raw = replay(replay_copy, recorded.updates)
    for update, twin, seconds in zip(result.updates, recorded.updates, raw, strict=True):
        assert update.kind == twin.kind
        update.statements, update.raw_seconds = twin.statements, seconds
    print(f"{sa.make_url(url).get_backend_name()}: {len(users)} officers, CPU per update")
    print(f"  {'':24} {'handlers':>9} {'raw SQL':>8} {'ratio':>6} {'statements':>11}")
    rows = [(kind, result.of(kind)) for kind in result.kinds()]
    rows.append(("all of them", result.updates))
    for kind, updates in rows:
        ms = 1000 * sum(u.seconds for u in updates) / len(updates)
        raw_ms = 1000 * sum(u.raw_seconds for u in updates) / len(updates)
        statements = sum(len(u.statements) for u in updates) / len(updates)
        print(f"  {kind:24} {ms:6.2f} ms {raw_ms:5.2f} ms {ms / raw_ms:6.1f} {statements:11.1f}")


if __name__ == "__main__":
    main()
