"""The digest's figures with the whole country loaded, beside the raw SQL of the same work.

    python benchmarks/digest_at_national_scale.py --database-url postgresql+psycopg://…/bench
    python benchmarks/digest_at_national_scale.py --database-url sqlite:////tmp/bench.db

The data set is generated on first use (benchmarks/national_data.py). `digest_figures` runs
five times (the median is printed) while every statement it sends is recorded; the baseline
sends those same statements, with the same parameters, straight through the driver's cursor
and fetches every row: what the database alone costs. Their ratio is what the project adds
(ORM, row objects, sorting names, the sums in Python).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.national_data import prepare  # noqa: E402
from models.db import session_factory  # noqa: E402
from reminders.digest import digest_figures  # noqa: E402

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
TODAY = date(2026, 11, 23)
NOW = datetime(2026, 11, 23, 1, 30, tzinfo=UTC)
RUNS = 5


def median_seconds(work: Callable[[], Any]) -> float:
    timings = []
    for _ in range(RUNS):
        started = time.perf_counter()
        work()
        timings.append(time.perf_counter() - started)
    return statistics.median(timings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--province", help="generate one province, not the country")
    arguments = parser.parse_args()
    engine = prepare(arguments.database_url, province=arguments.province)
    open_session = session_factory(engine)
    statements: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        statements.append((statement, parameters))

    with open_session() as session:
        sa.event.listen(engine, "before_cursor_execute", record)
        figures = digest_figures(session, today=TODAY, zone=ZONE, since=NOW - timedelta(days=7))
        sa.event.remove(engine, "before_cursor_execute", record)
        project = median_seconds(
            lambda: digest_figures(session, today=TODAY, zone=ZONE, since=NOW - timedelta(days=7))
        )

    def raw() -> None:
        with engine.connect() as connection:
            cursor = connection.connection.cursor()
            for statement, parameters in statements:
                cursor.execute(statement, parameters)
                cursor.fetchall()

    baseline = median_seconds(raw)
    print(
        f"{engine.dialect.name}: {figures.units:,} units, {figures.assignments:,} assignments, "
        f"{len(statements)} statements"
    )
    print(f"{'measure':40} {'median s':>9}")
    print(f"{'digest figures (the project)':40} {project:9.3f}")
    print(f"{'baseline: the same SQL, raw cursor':40} {baseline:9.3f}")
    print(f"ratio: {project / baseline:.2f}")


if __name__ == "__main__":
    main()
