"""How long the web board's pages take with the whole country loaded (3,321 units × 100 tasks,
4.2 million reports): each page is a handful of aggregate queries, so each should render in
under a second on PostgreSQL.

    python benchmarks/web_board_at_national_scale.py --database-url postgresql+psycopg://…/bench

The data set is generated on first use (benchmarks/national_data.py). Pages are fetched through
the real Starlette app (session cookie, permission checks, templates), five times each; the
median is printed.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from zoneinfo import ZoneInfo  # noqa: E402

from benchmarks.national_data import prepare  # noqa: E402
from bot.web import build_web_app  # noqa: E402
from bot.web.board import BoardSettings, BoardSite  # noqa: E402
from models.db import session_factory, transaction  # noqa: E402
from models.enums import Role  # noqa: E402
from models.tables import Officer  # noqa: E402
from models.web_access import create_login_link  # noqa: E402

RUNS = 5


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    arguments = parser.parse_args()
    engine = prepare(arguments.database_url)
    open_session = session_factory(engine)
    with transaction(open_session) as session:
        officer = session.get(Officer, 1)
        assert officer is not None
        officer.role = Role.SECRETARIAT
        session.add(officer)
        token = create_login_link(session, officer=officer, now=datetime.now(UTC))
        unit_id, task_id = session.execute(
            sa.text("SELECT unit_id, task_id FROM assignment ORDER BY id LIMIT 1")
        ).one()
        counts = session.execute(
            sa.text(
                "SELECT (SELECT COUNT(*) FROM unit), (SELECT COUNT(*) FROM assignment), "
                "(SELECT COUNT(*) FROM report)"
            )
        ).one()
    print(f"{counts[0]:,} units, {counts[1]:,} assignments, {counts[2]:,} reports")
    site = BoardSite(
        open_session=open_session,
        zone=ZoneInfo("Asia/Ho_Chi_Minh"),
        settings=BoardSettings(secret_key="bench", secure_cookie=False, base_url="http://b"),
    )
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Starlette's test client prefers httpx2 (not needed here)
        from starlette.testclient import TestClient
    client = TestClient(build_web_app(site.routes(), middleware=site.middleware()))
    assert client.get(f"/login/{token}").url.path == "/board"
    pages = {
        "board, first page": "/board",
        "board, most overdue first, page 20": "/board?sort=overdue&page=20",
        "board, communes not reported, one task": f"/board?kind=commune&not_reported=1&task={task_id}",
        "board, overdue only": "/board?status=overdue",
        "unit page (100 tasks, ~1,300 reports)": f"/units/{unit_id}",
        "task page (3,321 units)": f"/tasks/{task_id}",
        "difficulties and proposals": "/notes",
    }
    print(f"{'page':45} {'median':>9} {'slowest':>9}")
    for name, path in pages.items():
        times = []
        for _ in range(RUNS):
            started = time.perf_counter()
            answer = client.get(path)
            times.append(time.perf_counter() - started)
            assert answer.status_code == 200, (path, answer.status_code)
        print(f"{name:45} {statistics.median(times):8.3f}s {max(times):8.3f}s")


if __name__ == "__main__":
    main()
