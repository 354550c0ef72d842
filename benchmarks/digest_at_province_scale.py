"""How long the digest's figures and the export rows take at a province's full size.

Quảng Ninh: 54 communes and wards plus departments, 75 key tasks each given to every commune
(about 4,000 assignments) and a year of weekly reports (about 200,000 rows). Every figure is one
aggregate query, so the time should stay well under a second on SQLite.

    python benchmarks/digest_at_province_scale.py [--database-url URL]
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import Session, select

from models.db import make_engine, migrate
from models.enums import Role, Status, UnitKind
from models.figures import export_rows
from models.provinces import find_province, load_province_units
from models.tables import Assignment, Officer, Report, Task, Unit
from reminders.digest import digest_figures

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
TODAY = date(2026, 11, 23)
NOW = datetime(2026, 11, 23, 1, 30, tzinfo=UTC)


def seed(session: Session, *, tasks: int, weeks: int) -> int:
    rng = random.Random(57)
    province = find_province("Quảng Ninh")
    assert province is not None
    load_province_units(session, province)
    units = list(session.exec(select(Unit)).all())
    officers = []
    for unit in units:
        officer = Officer(full_name=f"Cán bộ {unit.name}", unit_id=unit.id or 0, role=Role.OFFICER)
        session.add(officer)
        officers.append(officer)
    session.flush()
    officer_of = {o.unit_id: o.id for o in officers}
    task_rows = [
        {
            "code": f"NV-{n:03d}",
            "title": f"Nhiệm vụ trọng tâm {n}",
            "deadline": TODAY + timedelta(days=rng.randint(-60, 200)),
            "cycle": "weekly",
            "created_at": NOW,
            "updated_at": NOW,
        }
        for n in range(tasks)
    ]
    session.execute(sa.insert(Task), task_rows)
    task_ids = list(session.exec(select(Task.id)).all())
    statuses = [
        s.value for s in (Status.NOT_STARTED, Status.IN_PROGRESS, Status.WAITING, Status.DONE)
    ]
    session.execute(
        sa.insert(Assignment),
        [
            {
                "task_id": t,
                "unit_id": u.id,
                "status": rng.choice(statuses),
                "percent": rng.randint(0, 100),
                "created_at": NOW,
            }
            for t in task_ids
            for u in units
            if u.kind != UnitKind.DEPARTMENT
        ],
    )
    assignments = list(session.exec(select(Assignment.id, Assignment.unit_id)).all())
    reports = [
        {
            "assignment_id": a,
            "officer_id": officer_of[u],
            "status": rng.choice(statuses),
            "percent": rng.randint(0, 100),
            "version": 1,
            "result": "Đã triển khai",
            "blockers": "Chờ hướng dẫn" if rng.random() < 0.1 else None,
            "created_at": NOW - timedelta(days=7 * w, hours=rng.randint(0, 100)),
        }
        for a, u in assignments
        for w in range(weeks)
    ]
    for start in range(0, len(reports), 20_000):
        session.execute(sa.insert(Report), reports[start : start + 20_000])
    return len(reports)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url")
    parser.add_argument("--tasks", type=int, default=75)
    parser.add_argument("--weeks", type=int, default=52)
    args = parser.parse_args()
    url = args.database_url or f"sqlite:///{Path(tempfile.mkdtemp()) / 'bench.db'}"
    engine = make_engine(url)
    migrate(engine)
    with Session(engine) as session:
        reports = seed(session, tasks=args.tasks, weeks=args.weeks)
        session.commit()
    with Session(engine) as session:
        assignments = session.exec(select(sa.func.count()).select_from(Assignment)).one()
        for label, work in (
            (
                "digest figures",
                lambda: digest_figures(
                    session, today=TODAY, zone=ZONE, since=NOW - timedelta(days=7)
                ),
            ),
            ("export rows", lambda: export_rows(session, today=TODAY)),
        ):
            timings = []
            for _ in range(5):
                started = time.perf_counter()
                work()
                timings.append(time.perf_counter() - started)
            print(
                f"{label}: best {min(timings) * 1000:.0f} ms of 5 ({assignments} assignments, {reports} reports)"
            )


if __name__ == "__main__":
    main()
