"""Loading the secretariat's task list from the spreadsheet it already has, all or nothing.

The header row may sit anywhere in the first 20 rows (under a letterhead or a merged title), name
its columns with any of the usual Vietnamese or English headings, in any order, with an "STT"
column or not. Section headings inside the table ("I. NHIỆM VỤ CHUNG") are skipped, and so is
the template's example row. Every problem, of the header or of any row, is reported in one
round with its row, column and reason; if there is one, nothing is imported. Re-importing a code
updates that task instead of duplicating it; re-importing the same file changes nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from sqlmodel import Session, col, select

from locales import N_, Translator
from locales.text import clean_text, read_number
from models.enums import Cycle, Status
from models.provinces import UnitDirectory, fold
from models.sql import insert_many_ignoring_conflict
from models.tables import Assignment, Report, Task, Unit
from reminders.spreadsheets.reading import Sheet, Unreadable, read_sheets

HEADER_SEARCH_ROWS = 20


@dataclass(frozen=True)
class Column:
    """A field of a task and every heading an office uses for it."""

    heading: str  # in the template
    label: str  # message id, in messages
    spellings: tuple[str, ...]  # as written in offices' files
    required: bool = False


COLUMNS: dict[str, Column] = {
    "code": Column(
        "Mã nhiệm vụ",
        N_("Task code"),
        (
            "Mã nhiệm vụ",
            "Mã NV",
            "Mã",
            "Mã số",
            "Số hiệu",
            "Số hiệu nhiệm vụ",
            "Ký hiệu",
            "Mã công việc",
            "Code",
            "Task code",
            "ID",
        ),
        required=True,
    ),
    "title": Column(
        "Tên nhiệm vụ",
        N_("Task title"),
        (
            "Tên nhiệm vụ",
            "Nhiệm vụ",
            "Nội dung",
            "Nội dung nhiệm vụ",
            "Nội dung công việc",
            "Tên công việc",
            "Công việc",
            "Nhiệm vụ, giải pháp",
            "Nội dung nhiệm vụ, giải pháp",
            "Title",
            "Task",
        ),
        required=True,
    ),
    "units": Column(
        "Đơn vị thực hiện",
        N_("Units"),
        (
            "Đơn vị thực hiện",
            "Đơn vị chủ trì",
            "Đơn vị chủ trì thực hiện",
            "Cơ quan chủ trì",
            "Cơ quan thực hiện",
            "Cơ quan chủ trì thực hiện",
            "Cơ quan, đơn vị chủ trì",
            "Cơ quan, đơn vị thực hiện",
            "Cơ quan, đơn vị chủ trì thực hiện",
            "Đơn vị được giao",
            "Đơn vị",
            "Units",
            "Unit",
            "Assigned to",
        ),
        required=True,
    ),
    "deadline": Column(
        "Hạn hoàn thành",
        N_("Deadline"),
        (
            "Hạn hoàn thành",
            "Thời hạn",
            "Thời hạn hoàn thành",
            "Thời gian hoàn thành",
            "Thời hạn thực hiện",
            "Hạn xử lý",
            "Hạn chót",
            "Hạn",
            "Deadline",
            "Due date",
            "Due",
        ),
        required=True,
    ),
    "cycle": Column(
        "Kỳ báo cáo",
        N_("Reporting cycle"),
        (
            "Kỳ báo cáo",
            "Chu kỳ báo cáo",
            "Định kỳ báo cáo",
            "Tần suất báo cáo",
            "Cycle",
            "Reporting cycle",
        ),
    ),
    "indicator": Column("Chỉ tiêu", N_("Indicator"), ("Chỉ tiêu", "Tên chỉ tiêu", "Indicator")),
    "target": Column(
        "Giá trị mục tiêu",
        N_("Target"),
        ("Giá trị mục tiêu", "Mục tiêu", "Giá trị chỉ tiêu", "Chỉ tiêu cần đạt", "Target"),
    ),
    "uom": Column(
        "Đơn vị tính", N_("Unit of measure"), ("Đơn vị tính", "ĐVT", "Unit of measure", "UoM")
    ),
    "description": Column(
        "Mô tả",
        N_("Description"),
        ("Mô tả", "Ghi chú", "Yêu cầu", "Sản phẩm", "Kết quả, sản phẩm", "Description", "Notes"),
    ),
    "number": Column("STT", N_("No."), ("STT", "TT", "Số TT", "Số thứ tự", "No", "No.", "#")),
}
CYCLES: dict[str, Cycle] = {
    "": Cycle.ONCE,
    "mot lan": Cycle.ONCE,
    "1 lan": Cycle.ONCE,
    "khong": Cycle.ONCE,
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
# What the template's example row holds; a row like it is not a task.
EXAMPLE_MARK = "Ví dụ"
EXAMPLE_CODE = "VD-01"
_EXAMPLE_MARKS = {"vi du", "vd", "example", "e.g."}
_DATE_FORMATS = ("%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%Y-%m-%d", "%d/%m/%y", "%Y/%m/%d")
_EXCEL_EPOCH = date(1899, 12, 30)
_ROMAN = {"i": 1, "ii": 2, "iii": 3, "iv": 4}
_QUARTER = re.compile(r"^quy (i{1,3}|iv|[1-4])(?: nam| ?/ ?| )(\d{4})$")
_MONTH = re.compile(r"^(?:thang )?(\d{1,2})(?: nam| ?/ ?| )(\d{4})$")
_YEAR = re.compile(r"^(?:nam )?(\d{4})$")
_SPELLED_DATE = re.compile(r"^(?:ngay )?(\d{1,2}) thang (\d{1,2}) nam (\d{4})$")


def heading_key(text: str) -> str:
    """How a heading is compared: folded, without notes in brackets or a trailing `*`/`:`."""
    text = re.sub(r"\([^)]*\)", " ", fold(text))
    return " ".join(re.sub(r"[^\w/#.]+", " ", text).strip(" *:.").split())


_HEADINGS = {heading_key(s): key for key, c in COLUMNS.items() for s in c.spellings}


@dataclass(frozen=True)
class Problem:
    """What is wrong (or worth a word), where: `message` is a message id, translated when shown.

    `column` is the heading as the file writes it (or the template's, when it is missing)."""

    row: int
    column: str | None
    message: str
    params: dict[str, str | int | float] = field(default_factory=dict)

    def describe(self, _: Translator) -> str:
        shown = {k: _.number(v) if isinstance(v, float) else v for k, v in self.params.items()}
        reason = _(self.message, **shown)
        if self.row == 0:
            return reason
        if self.column is None:
            return _("Row {row}: {reason}", row=self.row, reason=reason)
        return _(
            "Row {row}, column “{column}”: {reason}",
            row=self.row,
            column=self.column,
            reason=reason,
        )


class ImportRejected(Exception):
    """The file has problems; nothing was imported."""

    def __init__(self, problems: Sequence[Problem], warnings: Sequence[Problem] = ()) -> None:
        super().__init__(f"{len(problems)} problem(s)")
        self.problems = list(problems)
        self.warnings = list(warnings)


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

    def differs_from(self, task: Task) -> bool:
        return (
            task.title,
            task.deadline,
            task.cycle,
            task.indicator,
            task.target,
            task.uom,
            task.description,
        ) != (
            self.title,
            self.deadline,
            self.cycle,
            self.indicator,
            self.target,
            self.uom,
            self.description,
        )


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    assignments_added: int = 0
    assignments_removed: int = 0
    kept_with_reports: list[str] = field(default_factory=list)  # "NV-01 / Phường Hạ Long"
    warnings: list[Problem] = field(default_factory=list)

    @property
    def changed_nothing(self) -> bool:
        return not (
            self.created or self.updated or self.assignments_added or self.assignments_removed
        )

    def describe(self, _: Translator) -> list[str]:
        """What the import did, in lines (the command line and the web upload show them)."""
        lines = [_("Note: {text}", text=warning.describe(_)) for warning in self.warnings]
        if self.changed_nothing:
            lines.append(
                _(
                    "Nothing changed: the {count} tasks are already as in the file.",
                    count=self.unchanged,
                )
            )
        else:
            lines.append(
                _(
                    "Imported: {created} new tasks, {updated} updated, {unchanged} unchanged; {added} assignments added, {removed} removed.",
                    created=self.created,
                    updated=self.updated,
                    unchanged=self.unchanged,
                    added=self.assignments_added,
                    removed=self.assignments_removed,
                )
            )
        lines += [
            _("Kept (it already has reports): {assignment}", assignment=kept)
            for kept in self.kept_with_reports
        ]
        return lines


@dataclass
class TaskTable:
    """The rows of the sheet that holds the task list, and which column is which field."""

    sheet: Sheet
    header_row: int  # 0-based
    positions: dict[str, int]
    headings: dict[str, str]  # field → the heading as the file writes it
    unused: list[str]  # headings read as no field


# ---- finding the table ---------------------------------------------------------------------


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return clean_text(str(value))


def _table_of(sheet: Sheet) -> TaskTable | None:
    """The sheet's header row (the one that names the most fields), or None if it has none."""
    best: tuple[int, int, int] | None = None
    for index, row in enumerate(sheet.rows[:HEADER_SEARCH_ROWS]):
        keys = {_HEADINGS.get(heading_key(_cell_text(c))) for c in row} - {None}
        required = sum(1 for key in keys if key and COLUMNS[key].required)
        if len(keys) >= 2 and (best is None or (required, len(keys)) > best[:2]):
            best = (required, len(keys), index)
    if best is None:
        return None
    index = best[2]
    positions: dict[str, int] = {}
    headings: dict[str, str] = {}
    unused: list[str] = []
    for position, cell in enumerate(sheet.rows[index]):
        text = _cell_text(cell)
        key = _HEADINGS.get(heading_key(text))
        if key is not None and key not in positions:
            positions[key], headings[key] = position, " ".join(text.split())
        elif text:
            unused.append(" ".join(text.split()))
    return TaskTable(sheet, index, positions, headings, unused)


def find_table(path: Path) -> TaskTable:
    """The task table of a file: the first sheet with a header row, or `ImportRejected`."""
    try:
        tables = [t for t in (_table_of(sheet) for sheet in read_sheets(path)) if t]
    except Unreadable as unreadable:
        raise ImportRejected(
            [Problem(0, None, unreadable.message, dict(unreadable.params))]
        ) from None
    if not tables:
        accepted = ", ".join(c.heading for c in COLUMNS.values() if c.required)
        raise ImportRejected(
            [
                Problem(
                    0,
                    None,
                    N_(
                        "no header row found in the first {count} rows: the row above the tasks should name the columns, e.g. {names}"
                    ),
                    {"count": HEADER_SEARCH_ROWS, "names": accepted},
                )
            ]
        )
    return max(tables, key=lambda t: sum(1 for k in t.positions if COLUMNS[k].required))


# ---- values --------------------------------------------------------------------------------


def _last_day_of_month(year: int, month: int) -> date:
    following = date(year + month // 12, month % 12 + 1, 1)
    return following - timedelta(days=1)


def parse_deadline(value: object) -> date | None:
    """A date as offices write it: a date cell, an Excel day number, 31/12/2026, 2026-12-31,
    "ngày 31 tháng 12 năm 2026", "Trước 31/12/2026"; or the end of a period: "Quý IV/2026",
    "Tháng 12/2026", "Năm 2026"."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        if 20000 <= value <= 80000:  # an Excel serial day
            return _EXCEL_EPOCH + timedelta(days=int(value))
        return None
    words = " ".join(re.sub(r"[,]", " ", fold(_cell_text(value))).split())
    words = re.sub(r"^(truoc|han|cham nhat|before|by)\s+(ngay\s+)?", "", words)
    for pattern in _DATE_FORMATS:
        try:
            return datetime.strptime(words, pattern).date()  # noqa: DTZ007 (a calendar date)
        except ValueError:
            continue
    if match := _SPELLED_DATE.match(words):
        try:
            return date(int(match.group(3)), int(match.group(2)), int(match.group(1)))
        except ValueError:
            return None
    if match := _QUARTER.match(words):
        quarter = _ROMAN.get(match.group(1)) or int(match.group(1))
        return _last_day_of_month(int(match.group(2)), 3 * quarter)
    if (match := _MONTH.match(words)) and 1 <= int(match.group(1)) <= 12:
        return _last_day_of_month(int(match.group(2)), int(match.group(1)))
    if match := _YEAR.match(words):
        return date(int(match.group(1)), 12, 31)
    return None


def _code_from_number(number: str) -> str | None:
    """ "NV-01" for STT 1, "NV-2.3" for 2.3: a code for a file without a code column."""
    if re.fullmatch(r"\d+", number):
        return f"NV-{int(number):02d}"
    if re.fullmatch(r"\d+(\.\d+)+", number):
        return f"NV-{number}"
    return None


class RowReader:
    """Reads the table's data rows into tasks, collecting every problem and warning."""

    def __init__(self, table: TaskTable, units: UnitDirectory, *, today: date) -> None:
        self.table = table
        self.units = units
        self.today = today
        self.problems: list[Problem] = []
        self.warnings: list[Problem] = []

    def _cell(self, cells: Sequence[object], key: str) -> object:
        index = self.table.positions.get(key)
        return cells[index] if index is not None and index < len(cells) else None

    def _text(self, cells: Sequence[object], key: str) -> str:
        return _cell_text(self._cell(cells, key))

    def _heading(self, key: str) -> str:
        return self.table.headings.get(key, COLUMNS[key].heading)

    def problem(self, at: int, key: str | None, message: str, **params: str | int | float) -> None:
        column = self._heading(key) if key else None
        self.problems.append(Problem(at, column, message, params))

    def warn(self, at: int, key: str | None, message: str, **params: str | int | float) -> None:
        column = self._heading(key) if key else None
        self.warnings.append(Problem(at, column, message, params))

    def header_problems(self) -> None:
        row = self.table.header_row + 1
        for key, column in COLUMNS.items():
            if not column.required or key in self.table.positions:
                continue
            if key == "code" and "number" in self.table.positions:
                self.warn(
                    row,
                    None,
                    N_(
                        "there is no “Mã nhiệm vụ” column: codes were made from “{column}” (NV-01, NV-02, …)"
                    ),
                    column=self._heading("number"),
                )
                continue
            self.problems.append(
                Problem(
                    row,
                    column.heading,
                    N_("the header row has no such column; name it one of: {names}"),
                    {"names": ", ".join(column.spellings)},
                )
            )
        if self.table.unused:
            self.warn(
                row,
                None,
                N_("these columns are not read: {names}"),
                names=", ".join(f"“{name}”" for name in self.table.unused),
            )

    def read(self) -> list[TaskRow]:
        """Every task of the table (problems collected on the way)."""
        self.header_problems()
        rows: list[TaskRow] = []
        first_row_of: dict[str, int] = {}
        start = self.table.header_row + 1
        for number, cells in enumerate(self.table.sheet.rows[start:], start=start + 1):
            if not any(_cell_text(c) for c in cells) or self._skipped(number, cells):
                continue
            row = self.read_row(number, cells)
            if row is None:
                continue
            if row.code in first_row_of:
                self.problem(
                    number,
                    "code",
                    N_("the code {code} is already used in row {row}"),
                    code=row.code,
                    row=first_row_of[row.code],
                )
                continue
            first_row_of[row.code] = number
            rows.append(row)
        if not rows and not self.problems:
            self.problem(start + 1, None, N_("there are no tasks under the header row"))
        return rows

    def _skipped(self, number: int, cells: Sequence[object]) -> bool:
        """The template's example, and section headings ("I. NHIỆM VỤ CHUNG"), are no tasks."""
        mark = fold(self._text(cells, "number")).rstrip(":")
        code = self._text(cells, "code").upper()
        if mark in _EXAMPLE_MARKS or code == EXAMPLE_CODE:
            self.warn(number, None, N_("the template's example row was skipped"))
            return True
        if not self._text(cells, "units") and not self._text(cells, "deadline") and not code:
            # A heading that groups the tasks below it ("I. NHIỆM VỤ CHUNG").
            heading = " ".join([self._text(cells, "number"), self._text(cells, "title")]).strip()
            self.warn(
                number,
                None,
                N_("“{text}” was read as a heading, not a task (it has no unit and no deadline)"),
                text=heading[:80],
            )
            return True
        return False

    def read_row(self, number: int, cells: Sequence[object]) -> TaskRow | None:
        """One data row, or None (its problems recorded)."""
        before = len(self.problems)
        code = self._code(number, cells)
        title = self._text(cells, "title")
        if not title and "title" in self.table.positions:
            self.problem(number, "title", N_("the task title is empty"))
        elif len(title) > 500:
            self.problem(number, "title", N_("the title is longer than 500 characters"))
        # A missing column is one problem of the header, not one of every row.
        unit_ids = (
            self._unit_ids(number, self._text(cells, "units"))
            if "units" in self.table.positions
            else []
        )
        deadline = (
            self._deadline(number, self._cell(cells, "deadline"))
            if "deadline" in self.table.positions
            else None
        )
        cycle = CYCLES.get(
            " ".join(re.sub(r"[^\w]", " ", fold(self._text(cells, "cycle"))).split())
        )
        if cycle is None:
            self.problem(
                number,
                "cycle",
                N_("use one of: một lần, tuần, tháng, quý (or once, weekly, monthly, quarterly)"),
            )
        target = self._target(number, self._cell(cells, "target"))
        if len(self.problems) > before or code is None or deadline is None or cycle is None:
            return None
        return TaskRow(
            row=number,
            code=code,
            title=title,
            unit_ids=unit_ids,
            deadline=deadline,
            cycle=cycle,
            indicator=self._text(cells, "indicator")[:255] or None,
            target=target,
            uom=self._text(cells, "uom")[:50] or None,
            description=self._text(cells, "description") or None,
        )

    def _code(self, number: int, cells: Sequence[object]) -> str | None:
        if "code" not in self.table.positions:
            code = _code_from_number(self._text(cells, "number"))
            if code is None and "number" in self.table.positions:
                self.problem(
                    number,
                    "number",
                    N_("without a code column, each task needs a number here (1, 2, 3 or 1.1)"),
                )
            return code
        code = self._text(cells, "code").upper()
        if not code:
            self.problem(number, "code", N_("the task code is empty"))
            return None
        if len(code) > 32 or not re.fullmatch(r"[\w.\-/]+", code):
            self.problem(
                number,
                "code",
                N_("a task code is up to 32 letters, digits, '-', '.' or '/', without spaces"),
            )
            return None
        return code

    def _deadline(self, number: int, value: object) -> date | None:
        deadline = parse_deadline(value)
        if deadline is None:
            self.problem(
                number,
                "deadline",
                N_("not a date; write it as dd/mm/yyyy, e.g. 31/12/2026 (or Quý IV/2026)"),
            )
        elif deadline < self.today:
            self.warn(
                number,
                "deadline",
                N_("the deadline {date} has already passed; the task is imported as overdue"),
                date=deadline.strftime("%d/%m/%Y"),
            )
        return deadline

    def _target(self, number: int, value: object) -> float | None:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        text = _cell_text(value)
        if not text:
            return None
        read = read_number(text)
        if read is None:
            self.problem(number, "target", N_("not a number"))
            return None
        if read.ambiguous:
            self.warn(
                number,
                "target",
                N_("“{text}” was read the Vietnamese way, as {value}"),
                text=text,
                value=read.value,
            )
        return read.value

    def _unit_ids(self, number: int, text: str) -> list[int]:
        """The units named in one cell; each name that names none or several is a problem."""
        if not text:
            self.problem(number, "units", N_("no unit is named"))
            return []
        found = self.units.read_list(text)
        for name, suggestions in found.unknown:
            if suggestions:
                self.problem(
                    number,
                    "units",
                    N_("no unit is called “{name}”; did you mean: {names}?"),
                    name=name,
                    names=", ".join(suggestions),
                )
            else:
                self.problem(
                    number,
                    "units",
                    N_("no unit is called “{name}” (use the official name or code)"),
                    name=name,
                )
        for name, candidates in found.ambiguous:
            self.problem(
                number,
                "units",
                N_("“{name}” could mean several units; use the code: {names}"),
                name=name,
                names="; ".join(f"{u.name} ({u.code})" for u in candidates[:5]),
            )
        if not found.units and not found.unknown and not found.ambiguous:
            self.problem(number, "units", N_("no unit is named"))
        return [u.id for u in found.units if u.id is not None]


def read_task_rows(
    path: Path, units: UnitDirectory, *, today: date
) -> tuple[list[TaskRow], list[Problem]]:
    """Every task of the file and the warnings, or `ImportRejected` with every problem."""
    reader = RowReader(find_table(path), units, today=today)
    rows = reader.read()
    if reader.problems:
        raise ImportRejected(reader.problems, reader.warnings)
    return rows, reader.warnings


# ---- storing -------------------------------------------------------------------------------


Progress = Callable[[int, int], None]  # (assignments written, of how many)


def import_tasks(
    session: Session,
    path: Path,
    *,
    now: datetime,
    today: date,
    progress: Progress | None = None,
) -> ImportResult:
    """Import the file into the session (the caller commits), or raise `ImportRejected`."""
    units = UnitDirectory(session.exec(select(Unit)).all())
    rows, warnings = read_task_rows(path, units, today=today)
    store = TaskStore(session, codes=[row.code for row in rows], now=now)
    store.result.warnings = warnings
    store.unit_names = {u.id: u.name for u in units.units if u.id is not None}
    for row in rows:
        store.put(row)
    store.finish(progress)
    return store.result


class TaskStore:
    """Writes the rows of a task list over what is stored: a few queries, and the assignments
    (332,100 for the whole country) as multi-row inserts and deletes by id."""

    CHUNK = 1000

    def __init__(self, session: Session, *, codes: list[str], now: datetime) -> None:
        self.session = session
        self.now = now
        self.result = ImportResult()
        self.unit_names: dict[int, str] = {}
        self.existing = {
            t.code.upper(): t
            for t in session.exec(select(Task).where(col(Task.code).in_(codes))).all()
        }
        task_ids = [t.id for t in self.existing.values()]
        self.assigned: dict[int, dict[int, int]] = {}  # task → unit → assignment id
        for assignment_id, task_id, unit_id in session.execute(
            sa.select(col(Assignment.id), col(Assignment.task_id), col(Assignment.unit_id)).where(
                col(Assignment.task_id).in_(task_ids)
            )
        ).all():
            self.assigned.setdefault(task_id, {})[unit_id] = assignment_id
        self.reported = set(
            session.exec(
                select(Report.assignment_id)
                .join(Assignment, col(Assignment.id) == Report.assignment_id)
                .where(col(Assignment.task_id).in_(task_ids))
                .distinct()
            ).all()
        )
        self.new_tasks: list[tuple[TaskRow, Task]] = []
        self.to_add: list[dict[str, object]] = []
        self.to_remove: list[int] = []

    def put(self, row: TaskRow) -> None:
        task = self.existing.get(row.code)
        if task is None:
            task = Task(code=row.code, title=row.title, deadline=row.deadline, created_at=self.now)
            self.new_tasks.append((row, task))
            self.result.created += 1
        elif row.differs_from(task):
            self.result.updated += 1
        else:
            self.result.unchanged += 1
            self._reassign(task, row)
            return
        task.title, task.deadline, task.cycle = row.title, row.deadline, row.cycle
        task.indicator, task.target, task.uom = row.indicator, row.target, row.uom
        task.description, task.updated_at = row.description, self.now
        self.session.add(task)
        if task.id is not None:
            self._reassign(task, row)

    def finish(self, progress: Progress | None = None) -> None:
        self.session.flush()  # the new tasks get their ids, in one round
        for row, task in self.new_tasks:
            self._reassign(task, row)
        for first in range(0, len(self.to_remove), self.CHUNK):
            chunk = self.to_remove[first : first + self.CHUNK]
            self.session.execute(sa.delete(Assignment).where(col(Assignment.id).in_(chunk)))
        total = len(self.to_add)
        for first in range(0, total, self.CHUNK):
            insert_many_ignoring_conflict(
                self.session, Assignment, self.to_add[first : first + self.CHUNK]
            )
            if progress is not None:
                progress(min(first + self.CHUNK, total), total)
        self.session.flush()

    def _reassign(self, task: Task, row: TaskRow) -> None:
        """Make the task's units the row's: add the new, remove the dropped (unless reported)."""
        assert task.id is not None
        current = self.assigned.get(task.id, {})
        wanted = set(row.unit_ids)
        for unit_id in row.unit_ids:
            if unit_id not in current:
                self.to_add.append(
                    {
                        "task_id": task.id,
                        "unit_id": unit_id,
                        "status": Status.NOT_STARTED,
                        "percent": 0,
                        "created_at": self.now,
                    }
                )
                self.result.assignments_added += 1
        for unit_id, assignment_id in current.items():
            if unit_id in wanted:
                continue
            if assignment_id in self.reported:
                name = self.unit_names.get(unit_id, str(unit_id))
                self.result.kept_with_reports.append(f"{task.code} / {name}")
            else:
                self.to_remove.append(assignment_id)
                self.result.assignments_removed += 1
