"""Loading the secretariat's task list from a spreadsheet (.xlsx or .csv), all or nothing.

Headers may be Vietnamese or English, in any order, with any case and accents. Every bad row is
reported with its row number, column and reason; if there is one, nothing is imported.
Re-importing a code updates that task instead of duplicating it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Protocol

from sqlmodel import Session, select

from locales import N_, Translator
from locales.parsing import clean_text, parse_number
from models.enums import Cycle
from models.provinces import UnitDirectory, fold
from models.tables import Assignment, Report, Task, Unit
from reminders.spreadsheets.reading import read_table

# Column key → (header in the template, every spelling accepted, folded).
COLUMNS: dict[str, tuple[str, tuple[str, ...]]] = {
    "code": ("Mã nhiệm vụ", ("ma nhiem vu", "ma nv", "ma", "code", "task code")),
    "title": ("Tên nhiệm vụ", ("ten nhiem vu", "nhiem vu", "noi dung nhiem vu", "title", "task")),
    "units": (
        "Đơn vị thực hiện",
        ("don vi thuc hien", "don vi chu tri", "don vi", "units", "unit"),
    ),
    "deadline": ("Hạn hoàn thành", ("han hoan thanh", "thoi han", "han", "deadline", "due date")),
    "cycle": ("Kỳ báo cáo", ("ky bao cao", "chu ky bao cao", "cycle", "reporting cycle")),
    "indicator": ("Chỉ tiêu", ("chi tieu", "indicator")),
    "target": ("Giá trị mục tiêu", ("gia tri muc tieu", "muc tieu", "target")),
    "uom": ("Đơn vị tính", ("don vi tinh", "dvt", "uom", "unit of measure")),
    "description": ("Mô tả", ("mo ta", "ghi chu", "description", "notes")),
}
REQUIRED = ("code", "title", "units", "deadline")
COLUMN_LABELS = {
    "code": N_("Task code"),
    "title": N_("Task title"),
    "units": N_("Units"),
    "deadline": N_("Deadline"),
    "cycle": N_("Reporting cycle"),
    "indicator": N_("Indicator"),
    "target": N_("Target"),
    "uom": N_("Unit of measure"),
    "description": N_("Description"),
}
CYCLES: dict[str, Cycle] = {
    "": Cycle.ONCE,
    "mot lan": Cycle.ONCE,
    "1 lan": Cycle.ONCE,
    "once": Cycle.ONCE,
    "tuan": Cycle.WEEKLY,
    "hang tuan": Cycle.WEEKLY,
    "weekly": Cycle.WEEKLY,
    "thang": Cycle.MONTHLY,
    "hang thang": Cycle.MONTHLY,
    "monthly": Cycle.MONTHLY,
    "quy": Cycle.QUARTERLY,
    "hang quy": Cycle.QUARTERLY,
    "quarterly": Cycle.QUARTERLY,
}
ALL_LOCAL_UNITS = ("tat ca xa phuong", "tat ca xa, phuong", "tat ca", "all communes", "all")
_DATE_FORMATS = ("%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%Y-%m-%d", "%d/%m/%y")
_EXCEL_EPOCH = date(1899, 12, 30)


@dataclass(frozen=True)
class RowProblem:
    """What is wrong, where: `message` is a message id, translated when shown."""

    row: int
    column: str | None  # a key of COLUMNS
    message: str
    params: dict[str, str | int] = field(default_factory=dict)

    def describe(self, _: Translator) -> str:
        reason = _(self.message, **self.params)
        if self.column is None:
            return _("Row {row}: {reason}", row=self.row, reason=reason)
        return _(
            "Row {row}, column “{column}”: {reason}",
            row=self.row,
            column=_(COLUMN_LABELS[self.column]),
            reason=reason,
        )


class ImportRejected(Exception):
    """The file has problems; nothing was imported."""

    def __init__(self, problems: Sequence[RowProblem]) -> None:
        super().__init__(f"{len(problems)} problem(s)")
        self.problems = list(problems)


@dataclass
class TaskRow:
    row: int
    code: str
    title: str
    unit_ids: list[int]
    deadline: date
    cycle: Cycle
    indicator: str | None
    target: float | None
    uom: str | None
    description: str | None


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    assignments_added: int = 0
    assignments_removed: int = 0
    kept_with_reports: list[str] = field(default_factory=list)  # "NV-01 / Phường Hạ Long"


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return clean_text(str(value))


def match_headers(header: Sequence[object]) -> tuple[dict[str, int], list[RowProblem]]:
    """Which column holds which field; problems for missing required ones."""
    positions: dict[str, int] = {}
    problems: list[RowProblem] = []
    for index, cell in enumerate(header):
        name = fold(_cell_text(cell)).rstrip(" *:")
        name = re.sub(r"\s*\(.*\)$", "", name)  # "Hạn hoàn thành (dd/mm/yyyy)"
        for key, (_label, spellings) in COLUMNS.items():
            if name in spellings and key not in positions:
                positions[key] = index
                break
    for key in REQUIRED:
        if key not in positions:
            problems.append(RowProblem(1, key, N_("this column is missing from the header row")))
    return positions, problems


# ---- values --------------------------------------------------------------------------------


def parse_deadline(value: object) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, int | float) and 20000 <= value <= 80000:  # an Excel serial day
        return _EXCEL_EPOCH + timedelta(days=int(value))
    text = _cell_text(value)
    for pattern in _DATE_FORMATS:
        try:
            return datetime.strptime(text, pattern).date()  # noqa: DTZ007 (a calendar date)
        except ValueError:
            continue
    return None


def parse_row(
    number: int, cells: Sequence[object], positions: dict[str, int], units: UnitDirectory
) -> tuple[TaskRow | None, list[RowProblem]]:
    """One data row, or the problems that keep it out."""

    def cell(key: str) -> object:
        index = positions.get(key)
        return cells[index] if index is not None and index < len(cells) else None

    problems: list[RowProblem] = []

    def problem(key: str, message: str, **params: str | int) -> None:
        problems.append(RowProblem(number, key, message, params))

    code = _cell_text(cell("code")).upper()
    if not code:
        problem("code", N_("the task code is empty"))
    elif len(code) > 32 or not re.fullmatch(r"[\w.\-/]+", code):
        problem(
            "code", N_("a task code is up to 32 letters, digits, '-', '.' or '/', without spaces")
        )
    title = _cell_text(cell("title"))
    if not title:
        problem("title", N_("the task title is empty"))
    elif len(title) > 500:
        problem("title", N_("the title is longer than 500 characters"))
    unit_ids = _unit_ids(_cell_text(cell("units")), units, problem)
    deadline = parse_deadline(cell("deadline"))
    if deadline is None:
        problem("deadline", N_("not a date; write it as dd/mm/yyyy, e.g. 31/12/2026"))
    cycle = CYCLES.get(fold(_cell_text(cell("cycle"))))
    if cycle is None:
        problem(
            "cycle",
            N_("use one of: một lần, tuần, tháng, quý (or once, weekly, monthly, quarterly)"),
        )
    raw_target = cell("target")
    target = float(raw_target) if isinstance(raw_target, int | float) else None
    if target is None and _cell_text(raw_target):
        target = parse_number(_cell_text(raw_target))
        if target is None:
            problem("target", N_("not a number"))
    indicator = _cell_text(cell("indicator"))[:255] or None
    uom = _cell_text(cell("uom"))[:50] or None
    description = _cell_text(cell("description")) or None
    if problems:
        return None, problems
    assert deadline is not None
    assert cycle is not None
    return (
        TaskRow(
            row=number,
            code=code,
            title=title,
            unit_ids=unit_ids,
            deadline=deadline,
            cycle=cycle,
            indicator=indicator,
            target=target,
            uom=uom,
            description=description,
        ),
        [],
    )


class _Problem(Protocol):
    def __call__(self, key: str, message: str, **params: str | int) -> None: ...


def _unit_ids(text: str, units: UnitDirectory, problem: _Problem) -> list[int]:
    """The units named in one cell (`;`-separated names or codes, or "Tất cả xã, phường")."""
    unit_ids: list[int] = []
    names = [n.strip() for n in re.split(r"[;\n]", text) if n.strip()]
    if not names:
        problem("units", N_("no unit is named"))
    for name in names:
        if fold(name) in ALL_LOCAL_UNITS:
            unit_ids += [u.id for u in units.local_units() if u.id is not None]
            continue
        found = units.find(name)
        if len(found) == 1 and found[0].id is not None:
            unit_ids.append(found[0].id)
        elif not found:
            problem(
                "units",
                N_("no unit is called “{name}” (use the official name or code)"),
                name=name,
            )
        else:
            problem(
                "units", N_("“{name}” could mean several units; use the official code"), name=name
            )
    return list(dict.fromkeys(unit_ids))


def read_task_rows(table: list[list[object]], units: UnitDirectory) -> list[TaskRow]:
    """Every task row of the table, or `ImportRejected` with every problem found."""
    header_index = next(
        (i for i, row in enumerate(table) if any(_cell_text(c) for c in row)), None
    )
    if header_index is None:
        raise ImportRejected([RowProblem(1, None, N_("the file is empty"))])
    positions, problems = match_headers(table[header_index])
    if problems:
        raise ImportRejected([RowProblem(header_index + 1, p.column, p.message) for p in problems])
    rows: list[TaskRow] = []
    first_row_of: dict[str, int] = {}
    for offset, cells in enumerate(table[header_index + 1 :], start=header_index + 2):
        if not any(_cell_text(c) for c in cells):
            continue
        row, row_problems = parse_row(offset, cells, positions, units)
        problems += row_problems
        if row is None:
            continue
        if row.code in first_row_of:
            problems.append(
                RowProblem(
                    offset,
                    "code",
                    N_("the code {code} is already used in row {row}"),
                    {"code": row.code, "row": first_row_of[row.code]},
                )
            )
            continue
        first_row_of[row.code] = offset
        rows.append(row)
    if problems:
        raise ImportRejected(problems)
    if not rows:
        raise ImportRejected(
            [RowProblem(header_index + 2, None, N_("there are no tasks under the header row"))]
        )
    return rows


# ---- storing -------------------------------------------------------------------------------


def import_tasks(session: Session, path: Path, *, now: datetime) -> ImportResult:
    """Import the file into the session (the caller commits), or raise `ImportRejected`."""
    moment = now
    units = UnitDirectory(session.exec(select(Unit)).all())
    rows = read_task_rows(read_table(path), units)
    existing = {t.code.upper(): t for t in session.exec(select(Task)).all()}
    assigned: dict[int, dict[int, Assignment]] = {}
    for assignment in session.exec(select(Assignment)).all():
        assigned.setdefault(assignment.task_id, {})[assignment.unit_id] = assignment
    reported = set(session.exec(select(Report.assignment_id).distinct()).all())
    unit_names = {u.id: u.name for u in units.units}
    result = ImportResult()
    for row in rows:
        task = existing.get(row.code)
        if task is None:
            task = Task(code=row.code, title=row.title, deadline=row.deadline, created_at=moment)
            result.created += 1
        else:
            result.updated += 1
        task.title, task.deadline, task.cycle = row.title, row.deadline, row.cycle
        task.indicator, task.target, task.uom = row.indicator, row.target, row.uom
        task.description, task.updated_at = row.description, moment
        session.add(task)
        session.flush()
        assert task.id is not None
        current = assigned.get(task.id, {})
        for unit_id in row.unit_ids:
            if unit_id not in current:
                session.add(Assignment(task_id=task.id, unit_id=unit_id, created_at=moment))
                result.assignments_added += 1
        for unit_id, assignment in current.items():
            if unit_id in row.unit_ids:
                continue
            if assignment.id in reported:
                result.kept_with_reports.append(
                    f"{task.code} / {unit_names.get(unit_id, unit_id)}"
                )
            else:
                session.delete(assignment)
                result.assignments_removed += 1
    session.flush()
    return result
