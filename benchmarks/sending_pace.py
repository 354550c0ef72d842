"""Sending pace against a Bot API that enforces Telegram's limits to the letter.

    python benchmarks/sending_pace.py                      # a temporary SQLite database
    python benchmarks/sending_pace.py --database-url postgresql+psycopg://…/pace

The fake Bot API (tests/fake_telegram.py in strict mode) counts a message when its request
arrives and answers 429 to one that would put more than 30 in any sliding second, two in one
chat within a second, or more than 20 in one group within any minute. For each limit the outbox
is filled with messages that only that limit holds back and the real `python -m bot tick` sends
them. Printed per limit: the 429 answers, the most messages the server saw in one window, and
the pace: the ideal schedule's length (every message as early as the limits allow, the
baseline) over the measured one, from the first arrival to the last.
"""

from __future__ import annotations

import argparse
import bisect
import os
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from models.db import make_engine, migrate, session_factory, transaction  # noqa: E402
from models.messages import Reply  # noqa: E402
from models.queue import ReplyPayload, enqueue  # noqa: E402
from models.tables import Outbox  # noqa: E402
from tests.fake_telegram import FakeTelegram, StrictLimits  # noqa: E402

TOKEN = "123456:pace-benchmark"
LIMITS = StrictLimits()


@dataclass(frozen=True)
class Scenario:
    name: str
    chats: list[str]  # one entry per message, in the order they are queued
    window: float  # the window of the limit it measures
    most: int  # messages allowed in that window


SCENARIOS = [
    Scenario(
        "30 a second overall (600 chats)",
        [str(100_000 + n) for n in range(600)],
        1.0,
        LIMITS.global_per_second,
    ),
    Scenario("1 a second in one chat (15 messages)", ["4242"] * 15, LIMITS.per_chat_interval, 1),
    Scenario(
        "20 a minute in one group (25 messages)",
        ["-1004242"] * 25,
        60.0,
        LIMITS.group_per_minute,
    ),
]


def ideal_times(chats: Sequence[str], limits: StrictLimits) -> list[float]:
    """Each message, in order, at the earliest moment every limit allows (zero latency)."""
    times: list[float] = []
    by_chat: dict[str, list[float]] = {}
    for chat in chats:
        earlier = by_chat.setdefault(chat, [])
        at = 0.0
        if len(times) >= limits.global_per_second:
            at = max(at, times[-limits.global_per_second] + 1.0)
        if earlier:
            at = max(at, earlier[-1] + limits.per_chat_interval)
        if chat.startswith("-") and len(earlier) >= limits.group_per_minute:
            at = max(at, earlier[-limits.group_per_minute] + 60.0)
        times.append(at)
        earlier.append(at)
    return times


def most_in_a_window(times: list[float], window: float) -> int:
    ordered = sorted(times)
    return max(
        (bisect.bisect_left(ordered, t + window) - i for i, t in enumerate(ordered)), default=0
    )


def queue(engine: sa.Engine, chats: Sequence[str]) -> None:
    now = datetime.now(UTC)
    with transaction(session_factory(engine)) as session:
        session.execute(sa.delete(Outbox))
        for index, chat in enumerate(chats):
            payload = ReplyPayload(
                delivery=f"pace-{index}", index=0, reply=Reply(text=f"Nhắc việc số {index + 1}")
            )
            enqueue(
                session,
                payload,
                channel="telegram",
                chat_id=chat,
                due_at=now - timedelta(seconds=1),
                now=now,
            )


def tick(engine: sa.Engine, fake: FakeTelegram) -> None:
    environment = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "BOT_DATABASE_URL": engine.url.render_as_string(hide_password=False),
        "BOT_TELEGRAM_TOKEN": TOKEN,
        "BOT_TELEGRAM_API_BASE": fake.base,
    }
    subprocess.run(
        [sys.executable, "-m", "bot", "tick"],
        env=environment,
        cwd=ROOT,
        check=True,
        stdout=subprocess.DEVNULL,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="default: a temporary SQLite database")
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = arguments.database_url or f"sqlite:///{folder}/pace.db"
        engine = make_engine(url)
        migrate(engine)
        fake = FakeTelegram(token=TOKEN, strict=LIMITS).start()
        try:
            print(f"{engine.dialect.name}: the real `python -m bot tick`, strict fake Bot API")
            print(
                f"{'limit':40} {'sent':>5} {'429':>4} {'most':>5} {'ideal s':>8} {'took s':>7}"
                f" {'pace':>6}"
            )
            for scenario in SCENARIOS:
                queue(engine, scenario.chats)
                fake.calls.clear()
                tick(engine, fake)
                accepted = [c.at for c in fake.calls if c.status == 200]
                refused = sum(1 for c in fake.calls if c.status == 429)
                ideal = ideal_times(scenario.chats, LIMITS)[-1]
                took = max(accepted) - min(accepted)
                most = most_in_a_window(accepted, scenario.window)
                print(
                    f"{scenario.name:40} {len(accepted):5} {refused:4} {most:>3}/{scenario.most:<2}"
                    f"{ideal:8.1f} {took:7.1f} {ideal / took:6.1%}"
                )
        finally:
            fake.stop()
            engine.dispose()


if __name__ == "__main__":
    main()
