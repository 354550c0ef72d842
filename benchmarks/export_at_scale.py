"""How long `export` takes, and how much memory it holds, beside the raw SQL that only reads
the same rows.

    python benchmarks/export_at_scale.py --database-url postgresql+psycopg://…/bench
    python benchmarks/export_at_scale.py --database-url sqlite:////tmp/hcm.db --province "Hồ Chí Minh"

The data set is generated on first use (benchmarks/national_data.py): the whole country
(332,100 assignments) or one province (Hồ Chí Minh: 168 units × 100 tasks = 16,800 rows). Each
measure runs in a fresh process so its peak memory (maximum resident set) is its own:
- the workbook (.xlsx: the rows, a sheet per unit, the summary), as `python -m bot export` writes it;
- the same rows as CSV;
- the baseline: the export's query in raw SQL through the driver's cursor, every row fetched
  in batches and dropped (what the database alone costs).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.national_data import prepare  # noqa: E402

TODAY = date(2026, 11, 23)


def measure(url: str, what: str) -> dict[str, float]:
    """One measure, in this process: seconds, rows, peak memory in MB."""
    from locales import Translator
    from models.db import make_engine, session_factory
    from models.figures import export_query
    from reminders.spreadsheets.export import ExportContext, write_csv, write_export

    engine = make_engine(url)
    open_session = session_factory(engine)
    context = ExportContext(
        translator=Translator("vi", ZoneInfo("Asia/Ho_Chi_Minh")),
        today=TODAY,
        cut_off=datetime.now(UTC),
        exported_by="benchmark",
    )
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        with open_session() as session:
            if what == "xlsx":
                rows = write_export(session, Path(folder) / "x.xlsx", context=context)
            elif what == "csv":
                with (Path(folder) / "x.csv").open("w", encoding="utf-8-sig", newline="") as f:
                    rows = write_csv(session, f, context=context)
            else:
                sql = str(export_query().compile(engine, compile_kwargs={"literal_binds": True}))
                cursor = session.connection().connection.cursor()
                cursor.execute(sql)
                rows = 0
                while batch := cursor.fetchmany(2000):
                    rows += len(batch)
        seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "rows": rows,
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--province", help="generate one province, not the country")
    parser.add_argument("--one", choices=("xlsx", "csv", "sql"), help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.one:
        print(json.dumps(measure(arguments.database_url, arguments.one)))
        return
    engine = prepare(arguments.database_url, province=arguments.province)
    print(f"{engine.dialect.name}, {engine.url.database}")
    results = {}
    for what in ("sql", "xlsx", "csv"):
        answer = subprocess.run(
            [sys.executable, __file__, "--database-url", arguments.database_url, "--one", what],
            capture_output=True,
            text=True,
            check=True,
        )
        results[what] = json.loads(answer.stdout.strip().splitlines()[-1])
    baseline = results["sql"]["seconds"]
    print(f"{'measure':44} {'rows':>8} {'seconds':>8} {'× raw SQL':>9} {'peak MB':>8}")
    names = {
        "sql": "baseline: the export's query, raw SQL",
        "xlsx": "export .xlsx (rows, units, summary)",
        "csv": "export .csv",
    }
    for what, figures in results.items():
        print(
            f"{names[what]:44} {figures['rows']:8,.0f} {figures['seconds']:8.2f}"
            f" {figures['seconds'] / baseline:9.1f} {figures['peak_mb']:8.0f}"
        )


if __name__ == "__main__":
    main()
