"""The whole country as a data set for the benchmarks: 3,321 units × 100 tasks (332,100
assignments), an officer and a lead per unit on Telegram, and about 12.6 reports per assignment (4.2 million), written
with set-based SQL (INSERT … SELECT) so it takes a minute or two, not an hour.

    python benchmarks/national_data.py --database-url postgresql+psycopg://bot:bot@127.0.0.1/bench
    python benchmarks/national_data.py --database-url sqlite:////tmp/bench.db --reports 4
    python benchmarks/national_data.py --database-url sqlite:////tmp/hcm.db --province "Hồ Chí Minh"

Reports are spread over the last 13 weeks; statuses, percents and values follow a fixed
pattern of the ids, so two runs give the same data. Assignments carry their latest report's
figures, as the bot keeps them.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import Engine

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from models.db import make_engine, migrate, session_factory, transaction  # noqa: E402
from models.provinces import all_provinces, find_province, load_units  # noqa: E402

TODAY = date(2026, 11, 23)
NOW = datetime(2026, 11, 23, 1, 30, tzinfo=UTC)
TASKS = 100
CYCLES = ("once", "weekly", "monthly", "quarterly")
STATUSES = ("in_progress", "in_progress", "waiting", "done", "not_started")


def _step(title: str, started: float) -> float:
    print(f"  {title}: {time.perf_counter() - started:.1f}s", flush=True)
    return time.perf_counter()


def _numbers(engine: Engine, count: int) -> str:
    """A SELECT of the numbers 1..count, on either database."""
    if engine.dialect.name == "postgresql":
        return f"SELECT generate_series(1, {count}) AS n"
    return (
        f"WITH RECURSIVE numbers(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM numbers "
        f"WHERE n < {count}) SELECT n FROM numbers"
    )


def generate(engine: Engine, *, reports_per_assignment: int, province: str | None = None) -> None:
    """Fill an empty database with the country (or with one province)."""
    migrate(engine)
    open_session = session_factory(engine)
    started = time.perf_counter()
    if province is None:
        provinces = all_provinces()
    elif (found := find_province(province)) is not None:
        provinces = [found]
    else:
        raise SystemExit(f"no province called {province!r}")
    with transaction(open_session) as session:
        added, _updated = load_units(session, provinces)
    started = _step(f"{added:,} units", started)
    with engine.begin() as connection:
        for n in range(1, TASKS + 1):
            deadline = TODAY + timedelta(days=(n * 37) % 300 - 60)
            connection.execute(
                sa.text(
                    "INSERT INTO task (code, title, deadline, cycle, indicator, target, uom, "
                    "created_at, updated_at) VALUES (:code, :title, :deadline, :cycle, "
                    ":indicator, :target, :uom, :at, :at)"
                ),
                {
                    "code": f"NV-{n:03d}",
                    "title": f"Nhiệm vụ trọng tâm số {n} về chuyển đổi số",
                    "deadline": deadline,
                    "cycle": CYCLES[n % 4],
                    "indicator": "Tỷ lệ hoàn thành" if n % 5 == 0 else None,
                    "target": 100.0 if n % 5 == 0 else None,
                    "uom": "%" if n % 5 == 0 else None,
                    "at": NOW - timedelta(days=120),
                },
            )
        started = _step("100 tasks", started)
        connection.execute(
            sa.text(
                "INSERT INTO officer (full_name, unit_id, role, active, created_at) "
                "SELECT 'Cán bộ ' || unit.code, unit.id, 'officer', :yes, :at FROM unit"
            ),
            {"at": NOW - timedelta(days=120), "yes": True},
        )
        connection.execute(
            sa.text(
                "INSERT INTO assignment (task_id, unit_id, status, percent, created_at) "
                "SELECT task.id, unit.id, 'not_started', 0, :at FROM task CROSS JOIN unit"
            ),
            {"at": NOW - timedelta(days=120)},
        )
        started = _step("assignments: every task to every unit", started)
        seconds = 13 * 7 * 24 * 3600
        status = " ".join(f"WHEN {i} THEN '{s}'" for i, s in enumerate(STATUSES))
        connection.execute(
            sa.text(
                "INSERT INTO report (assignment_id, officer_id, status, percent, indicator_value,"
                " result, version, created_at) "
                f"SELECT assignment.id, officer.id, CASE (assignment.id + numbers.n) % 5 {status} END,"
                " ((assignment.id * 7 + numbers.n * 13) % 10) * 10, NULL,"
                " 'Đã triển khai theo kế hoạch', 1, "
                + (
                    "CAST(:start AS TIMESTAMPTZ) + ((CAST(assignment.id AS BIGINT) * 7919 + numbers.n * 104729) % :seconds) * INTERVAL '1 second'"
                    if engine.dialect.name == "postgresql"
                    else "datetime(:start, '+' || ((CAST(assignment.id AS BIGINT) * 7919 + numbers.n * 104729) % :seconds) || ' seconds')"
                )
                + f" FROM assignment JOIN officer ON officer.unit_id = assignment.unit_id"
                f" CROSS JOIN ({_numbers(engine, reports_per_assignment)}) AS numbers"
            ),
            {
                "start": (NOW - timedelta(seconds=seconds)).isoformat()
                if engine.dialect.name == "postgresql"
                else (NOW - timedelta(seconds=seconds)).strftime("%Y-%m-%d %H:%M:%S.000000"),
                "seconds": seconds,
            },
        )
        started = _step(f"{reports_per_assignment} reports per assignment", started)
        bring_assignments_up_to_date(connection)
        _step("assignments brought up to date", started)
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            connection.execution_options(isolation_level="AUTOCOMMIT").execute(
                sa.text("VACUUM ANALYZE")
            )


def connect_officers(engine: Engine) -> None:
    """A lead beside each unit's officer, and a Telegram account for both (the planner writes
    reminders only for people it can reach); done once, on data sets made before this step."""
    with engine.begin() as connection:
        if connection.execute(sa.text("SELECT COUNT(*) FROM channelaccount")).scalar():
            return
        connection.execute(
            sa.text(
                "INSERT INTO officer (full_name, unit_id, role, active, created_at) "
                "SELECT 'Lãnh đạo ' || unit.code, unit.id, 'lead', :yes, :at FROM unit"
            ),
            {"at": NOW - timedelta(days=120), "yes": True},
        )
        connection.execute(
            sa.text(
                "INSERT INTO channelaccount (channel, external_id, display_name, officer_id, "
                "language, created_at, last_seen_at) SELECT 'telegram', "
                "CAST(700000000 + officer.id AS VARCHAR(64)), officer.full_name, officer.id, "
                "'vi', :at, :at FROM officer"
            ),
            {"at": NOW - timedelta(days=100)},
        )
    print("  a lead per unit, a Telegram account per officer", flush=True)


def bring_assignments_up_to_date(connection: sa.Connection) -> None:
    """Each assignment carries its latest report's status, percent and time, as the bot keeps
    them (the latest by time: the generated times do not follow the ids)."""
    latest = (
        "SELECT assignment_id, status, percent, created_at FROM (SELECT assignment_id, status, "
        "percent, created_at, ROW_NUMBER() OVER (PARTITION BY assignment_id ORDER BY "
        "created_at DESC, id DESC) AS newest FROM report) ranked WHERE newest = 1"
    )
    if connection.dialect.name == "postgresql":
        connection.execute(
            sa.text(
                f"UPDATE assignment SET status = l.status, percent = l.percent, "
                f"last_reported_at = l.created_at, done_at = CASE WHEN l.status = 'done' "
                f"THEN l.created_at END FROM ({latest}) l WHERE l.assignment_id = assignment.id"
            )
        )
        return
    connection.execute(sa.text("DROP TABLE IF EXISTS temp.latest"))
    connection.execute(sa.text(f"CREATE TEMP TABLE latest AS {latest}"))
    connection.execute(sa.text("CREATE INDEX latest_a ON latest (assignment_id)"))
    connection.execute(
        sa.text(
            "UPDATE assignment SET (status, percent, last_reported_at) = (SELECT "
            "status, percent, created_at FROM latest WHERE latest.assignment_id = "
            "assignment.id) WHERE id IN (SELECT assignment_id FROM latest)"
        )
    )
    connection.execute(
        sa.text(
            "UPDATE assignment SET done_at = CASE WHEN status = 'done' THEN last_reported_at END"
        )
    )


def prepare(url: str, *, reports_per_assignment: int = 13, province: str | None = None) -> Engine:
    """An engine on `url`, filled with the country (or `province`) unless it already is."""
    engine = make_engine(url)
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            has = connection.execute(
                sa.text("SELECT to_regclass('public.assignment') IS NOT NULL")
            ).scalar()
            filled = has and connection.execute(sa.text("SELECT COUNT(*) FROM unit")).scalar()
    else:
        filled = False
        database = engine.url.database
        if database and Path(database).exists():
            with engine.connect() as connection:
                filled = bool(
                    connection.execute(
                        sa.text("SELECT COUNT(*) FROM sqlite_master WHERE name = 'unit'")
                    ).scalar()
                ) and bool(connection.execute(sa.text("SELECT COUNT(*) FROM unit")).scalar())
    if not filled:
        print(f"generating the national data set in {engine.url.render_as_string()}", flush=True)
        generate(engine, reports_per_assignment=reports_per_assignment, province=province)
    migrate(engine)  # a data set made by an older version gets the newer indexes
    connect_officers(engine)
    return engine


@contextmanager
def scratch_copies(url: str, names: tuple[str, ...]) -> Iterator[list[str]]:
    """Copies of the database at `url` to work on, removed afterwards."""
    parsed = sa.make_url(url)
    if parsed.get_backend_name() == "sqlite":
        assert parsed.database
        with tempfile.TemporaryDirectory() as folder:
            copies = []
            for name in names:
                copy = Path(folder) / f"{name}.db"
                shutil.copy(parsed.database, copy)
                copies.append(f"sqlite:///{copy}")
            yield copies
        return
    admin = sa.create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    copies = [f"{parsed.database}_{name}" for name in names]
    with admin.connect() as connection:
        for copy in copies:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{copy}"')
            connection.exec_driver_sql(f'CREATE DATABASE "{copy}" TEMPLATE "{parsed.database}"')
    try:
        yield [parsed.set(database=copy).render_as_string(hide_password=False) for copy in copies]
    finally:
        with admin.connect() as connection:
            for copy in copies:
                connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{copy}"')
        admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--reports", type=int, default=13, help="reports per assignment")
    parser.add_argument("--province", help="one province only (e.g. 'Hồ Chí Minh': 168 units)")
    arguments = parser.parse_args()
    prepare(
        arguments.database_url,
        reports_per_assignment=arguments.reports,
        province=arguments.province,
    )


if __name__ == "__main__":
    main()
