"""`import-tasks` of a national task list, beside the raw SQL that writes the same rows.

    python benchmarks/import_at_national_scale.py                     # a temporary SQLite file
    python benchmarks/import_at_national_scale.py --database-url postgresql+psycopg://…/empty

The database must be empty (it gets the schema and the country's 3,321 communes, wards and
special zones). The list is a workbook of 100 tasks, each for "Tất cả các xã, phường, đặc khu":
332,100 assignments. The project's figure is the real `python -m bot import-tasks FILE` in its
own process: wall time and peak memory (what the secretariat waits for). The baseline writes
the same 100 tasks and 332,100 assignments through the driver's cursor, in its own process too.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from models.db import make_engine, migrate, session_factory, transaction  # noqa: E402
from models.provinces import all_provinces, load_units  # noqa: E402

TASKS = 100
EVERY_LOCAL_UNIT = "Tất cả các xã, phường, đặc khu"


def write_task_list(path: Path) -> None:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["DANH MỤC NHIỆM VỤ TRỌNG TÂM NĂM 2027"])
    sheet.append([])
    sheet.append(["Mã nhiệm vụ", "Tên nhiệm vụ", "Đơn vị thực hiện", "Hạn hoàn thành"])
    for n in range(1, TASKS + 1):
        sheet.append(
            [
                f"QG-{n:03d}",
                f"Nhiệm vụ trọng tâm số {n} về chuyển đổi số và cải cách hành chính",
                EVERY_LOCAL_UNIT,
                date(2027, 1, 1) + timedelta(days=3 * n),
            ]
        )
    workbook.save(path)


def run_measured(command: list[str], environment: dict[str, str]) -> tuple[float, float]:
    """(seconds, peak MB) of a child process."""
    started = time.perf_counter()
    process = subprocess.Popen(command, env=environment, cwd=ROOT, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{command[-2:]} failed")
    return seconds, usage.ru_maxrss / 1024


BASELINE = """
import sys, time
from datetime import UTC, datetime
import sqlalchemy as sa
engine = sa.create_engine(sys.argv[1])
now = datetime.now(UTC)
with engine.begin() as connection:
    cursor = connection.connection.cursor()
    marker = "%s" if engine.dialect.name == "postgresql" else "?"
    units = [row[0] for row in connection.execute(sa.text(
        "SELECT id FROM unit WHERE kind IN ('commune', 'ward', 'special_zone') ORDER BY id"))]
    for n in range(1, {tasks} + 1):
        cursor.execute(
            "INSERT INTO task (code, title, deadline, cycle, created_at, updated_at) VALUES "
            f"({{marker}}, {{marker}}, {{marker}}, 'weekly', {{marker}}, {{marker}})",
            (f"QG-{{n:03d}}", f"Nhiệm vụ số {{n}}", "2027-01-01", now, now),
        )
    tasks = [row[0] for row in connection.execute(sa.text("SELECT id FROM task ORDER BY id"))]
    rows = [(t, u, "not_started", 0, now) for t in tasks for u in units]
    values = "(" + ", ".join([marker] * 5) + ")"
    for start in range(0, len(rows), 1000):
        chunk = rows[start : start + 1000]
        cursor.execute(
            "INSERT INTO assignment (task_id, unit_id, status, percent, created_at) VALUES "
            + ", ".join([values] * len(chunk)),
            [value for row in chunk for value in row],
        )
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="an empty database (default: a temporary SQLite)")
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = arguments.database_url or f"sqlite:///{folder}/import.db"
        engine = make_engine(url)
        migrate(engine)
        with engine.connect() as connection:
            if connection.execute(sa.text("SELECT COUNT(*) FROM unit")).scalar():
                raise SystemExit("the database is not empty")
        with transaction(session_factory(engine)) as session:
            load_units(session, all_provinces())
        task_list = Path(folder) / "danh_muc_nhiem_vu_quoc_gia.xlsx"
        write_task_list(task_list)
        rendered = engine.url.render_as_string(hide_password=False)
        environment = {**os.environ, "PYTHONPATH": str(ROOT), "BOT_DATABASE_URL": rendered}

        baseline = run_measured(
            [sys.executable, "-c", BASELINE.format(tasks=TASKS), rendered], environment
        )
        with engine.begin() as connection:
            assignments = connection.execute(sa.text("SELECT COUNT(*) FROM assignment")).scalar()
            connection.execute(sa.text("DELETE FROM assignment"))
            connection.execute(sa.text("DELETE FROM task"))
        project = run_measured(
            [sys.executable, "-m", "bot", "import-tasks", str(task_list)], environment
        )
        with engine.connect() as connection:
            imported = connection.execute(sa.text("SELECT COUNT(*) FROM assignment")).scalar()
        engine.dispose()
    if imported != assignments:
        raise SystemExit(f"imported {imported} assignments, the baseline wrote {assignments}")
    print(f"{engine.dialect.name}: {TASKS} tasks, {imported:,} assignments")
    print(f"{'':38} {'seconds':>8} {'peak MB':>8}")
    print(f"{'python -m bot import-tasks':38} {project[0]:8.1f} {project[1]:8.0f}")
    print(f"{'baseline: the same rows, raw cursor':38} {baseline[0]:8.1f} {baseline[1]:8.0f}")
    print(f"ratio: {project[0] / baseline[0]:.2f} (time), {project[1] / baseline[1]:.2f} (memory)")


if __name__ == "__main__":
    main()
