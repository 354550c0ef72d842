"""One reminder planning pass with the whole country loaded (3,321 units × 100 tasks, an officer
and a lead per unit on Telegram), on the Friday morning that ends a week: every weekly task not
reported this week is due that day, besides the one-off deadlines around it.

    python benchmarks/planning_at_national_scale.py --database-url postgresql+psycopg://…/bench
    python benchmarks/planning_at_national_scale.py --database-url sqlite:////tmp/bench.db

Printed side by side:
- the first pass (writes every reminder, nudge and escalation due in the window);
- a second pass straight after (nothing new: the goal is well under a second);
- the baseline: the plain enumeration of every open assignment's occurrences that planning
  used to do each minute (`Planner.occurrences`), which only reads and computes.

The outbox rows the first pass writes are deleted afterwards, so runs can be repeated.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.national_data import prepare  # noqa: E402
from bot.app import configure  # noqa: E402
from bot.settings import Settings  # noqa: E402
from models.db import session_factory, transaction  # noqa: E402
from reminders.planning import Planner  # noqa: E402

FRIDAY_MORNING = datetime(2026, 11, 27, 1, 5, tzinfo=UTC)  # 08:05 in Hà Nội


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--at", default=FRIDAY_MORNING.isoformat(), help="the planning moment")
    arguments = parser.parse_args()
    now = datetime.fromisoformat(arguments.at)
    engine = prepare(arguments.database_url)
    open_session = session_factory(engine)
    config = configure(Settings(_env_file=None, database_url=arguments.database_url))  # type: ignore[call-arg]
    planner = Planner(calendar=config.calendar, policy=config.reminders)
    with engine.begin() as connection:
        before = connection.execute(sa.text("SELECT COALESCE(MAX(id), 0) FROM outbox")).scalar()
        open_count = connection.execute(
            sa.text("SELECT COUNT(*) FROM assignment WHERE status != 'done'")
        ).scalar()
    print(f"{engine.dialect.name}: {open_count:,} open assignments, planning at {now}")
    try:
        timings = []
        for _pass in range(2):
            started = time.perf_counter()
            with transaction(open_session) as session:
                written = planner.plan(session, now=now)
            timings.append((time.perf_counter() - started, written))
        started = time.perf_counter()
        today = now.astimezone(config.calendar.zone).date()
        with open_session() as session:
            window = [
                o
                for o in planner.occurrences(session, now=now, today=today)
                if now - config.reminders.grace <= o.due_at <= now + timedelta(hours=12)
            ]
        baseline = time.perf_counter() - started
    finally:
        with engine.begin() as connection:
            connection.execute(sa.text("DELETE FROM outbox WHERE id > :id"), {"id": before})
    (first, written), (second, again) = timings
    print(f"{'measure':52} {'seconds':>8} {'rows':>8}")
    print(f"{'first planning pass (writes the window)':52} {first:8.2f} {written:8,}")
    print(f"{'second pass, nothing new':52} {second:8.2f} {again:8,}")
    print(
        f"{'baseline: enumerate every occurrence (no writes)':52} {baseline:8.2f} {len(window):8,}"
    )
    print(f"first pass / baseline: {first / baseline:.2f}")


if __name__ == "__main__":
    main()
