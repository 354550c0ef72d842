"""The figures back out, in the form the secretariat sends upward: a workbook with a title block
(province, data cut-off, who exported), one row per assignment, a sheet per unit ("đã báo cáo
x/54") and a summary per unit kind; or the assignment rows as CSV.

The workbook is written in streaming mode from one streamed query per sheet, so a whole
country's export keeps little in memory. Everything officers typed or offices imported is
written as text: a report that reads `=HYPERLINK(…)` stays those characters, never a formula.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import IO, Any, BinaryIO

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from sqlmodel import Session

from locales import N_, Translator
from locales.collation import sort_key
from models.enums import Cycle
from models.figures import (
    ExportRow,
    UnitProgress,
    completion_by_unit_kind,
    export_rows,
    progress_by_unit,
)
from models.labels import CYCLE_LABELS, STATUS_LABELS, UNIT_KIND_LABELS
from reminders.planning import period_of
from reminders.province import province_name

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
TITLE_ROWS = 4  # title, cut-off, exported by, a blank line; the header follows
HEADER_FILL = PatternFill("solid", fgColor="1F4E79")
HEADER_FONT = Font(bold=True, color="FFFFFF")
ROMAN_QUARTERS = ("I", "II", "III", "IV")


@dataclass(frozen=True)
class ExportContext:
    """What the export says about itself, and how it names things."""

    translator: Translator
    today: date
    cut_off: datetime  # the data are as of this moment
    exported_by: str
    # Where a unit's evidence can be seen (the web board), when there is one.
    evidence_link: Callable[[ExportRow], str | None] | None = None


@dataclass(frozen=True)
class Column:
    label: str  # message id
    width: int
    value: Callable[[ExportRow, int, ExportContext], Any]
    typed: bool = False  # text someone typed or imported: always written as text
    number_format: str | None = None


def _local(moment: datetime | None, context: ExportContext) -> datetime | None:
    if moment is None:
        return None
    return moment.astimezone(context.translator.zone).replace(tzinfo=None, microsecond=0)


def current_period(cycle: Cycle, today: date, _: Translator) -> str:
    """The reporting period a periodic task is in today: "Tháng 11/2026", "Quý IV/2026"."""
    if cycle == Cycle.ONCE:
        return ""
    start, end = period_of(cycle, today)
    if cycle == Cycle.WEEKLY:
        return _("Week {start}–{end}", start=start.strftime("%d/%m"), end=_.date(end))
    if cycle == Cycle.MONTHLY:
        return _("Month {month}/{year}", month=f"{start.month:02d}", year=start.year)
    return _("Quarter {quarter}/{year}", quarter=ROMAN_QUARTERS[start.month // 3], year=start.year)


PROGRESS_COLUMNS: tuple[Column, ...] = (
    Column(N_("No."), 6, lambda r, n, c: n),
    Column(N_("Unit code"), 10, lambda r, n, c: r.unit_code),
    Column(N_("Unit name"), 28, lambda r, n, c: r.unit_name),
    Column(N_("Unit kind"), 12, lambda r, n, c: c.translator(UNIT_KIND_LABELS[r.unit_kind])),
    Column(N_("Task code"), 12, lambda r, n, c: r.task_code, typed=True),
    Column(N_("Task title"), 50, lambda r, n, c: r.task_title, typed=True),
    Column(N_("Deadline"), 12, lambda r, n, c: r.deadline, number_format="dd/mm/yyyy"),
    Column(N_("Reporting cycle"), 12, lambda r, n, c: c.translator(CYCLE_LABELS[r.cycle])),
    Column(
        N_("Current period"), 18, lambda r, n, c: current_period(r.cycle, c.today, c.translator)
    ),
    Column(N_("Status"), 18, lambda r, n, c: c.translator(STATUS_LABELS[r.status])),
    Column(N_("Percent done"), 10, lambda r, n, c: r.percent),
    Column(N_("Indicator"), 30, lambda r, n, c: r.indicator, typed=True),
    Column(N_("Target"), 10, lambda r, n, c: r.target),
    Column(N_("Unit of measure"), 10, lambda r, n, c: r.uom, typed=True),
    Column(N_("Current value"), 12, lambda r, n, c: r.indicator_value),
    Column(N_("Days overdue"), 10, lambda r, n, c: r.days_overdue(c.today) or None),
    Column(
        N_("Last report"),
        17,
        lambda r, n, c: _local(r.reported_at, c),
        number_format="dd/mm/yyyy hh:mm",
    ),
    Column(N_("Reporter"), 22, lambda r, n, c: r.reporter, typed=True),
    Column(N_("Result"), 40, lambda r, n, c: r.result, typed=True),
    Column(N_("Difficulties"), 30, lambda r, n, c: r.blockers, typed=True),
    Column(N_("Proposals"), 30, lambda r, n, c: r.proposals, typed=True),
    Column(N_("Evidence files"), 10, lambda r, n, c: r.evidence or None),
    Column(
        N_("Where to see the evidence"),
        30,
        lambda r, n, c: c.evidence_link(r) if c.evidence_link and r.evidence else None,
    ),
)

UNIT_COLUMNS: tuple[tuple[str, int], ...] = (
    (N_("No."), 6),
    (N_("Unit code"), 10),
    (N_("Unit name"), 30),
    (N_("Unit kind"), 12),
    (N_("Assignments"), 12),
    (N_("Completed"), 12),
    (N_("In progress"), 12),
    (N_("Waiting for guidance"), 14),
    (N_("Not started"), 12),
    (N_("Overdue"), 10),
    (N_("Completed (%)"), 12),
    (N_("Last report"), 17),
    (N_("Reported this period"), 14),
)
SUMMARY_COLUMNS: tuple[tuple[str, int], ...] = (
    (N_("Unit kind"), 18),
    (N_("Units"), 10),
    (N_("Assignments"), 12),
    (N_("Completed"), 12),
    (N_("In progress"), 12),
    (N_("Waiting for guidance"), 14),
    (N_("Not started"), 12),
    (N_("Overdue"), 10),
    (N_("Completed (%)"), 12),
)


def as_text(value: str) -> str:
    """A value for CSV that a spreadsheet will not run as a formula."""
    return f"'{value}" if value.startswith(FORMULA_STARTS) else value


# ---- the workbook --------------------------------------------------------------------------


class SheetWriter:
    """Rows into a streaming sheet: a title block, a styled header, widths on every column."""

    def __init__(self, sheet: WriteOnlyWorksheet, widths: Iterable[int]) -> None:
        self.sheet = sheet
        self.rows = 0
        for index, width in enumerate(widths, start=1):
            sheet.column_dimensions[get_column_letter(index)].width = width

    def title(self, lines: Iterable[str]) -> None:
        for index, line in enumerate(lines):
            cell = WriteOnlyCell(self.sheet, value=line)
            cell.font = Font(bold=True, size=14) if index == 0 else Font(italic=True)
            self.append([cell])

    def header(self, labels: Iterable[str]) -> None:
        cells = []
        for label in labels:
            cell = WriteOnlyCell(self.sheet, value=label)
            cell.font, cell.fill = HEADER_FONT, HEADER_FILL
            cell.alignment = Alignment(wrap_text=True, vertical="center")
            cells.append(cell)
        self.append(cells)
        self.sheet.freeze_panes = f"A{self.rows + 1}"

    def append(self, cells: list[Any]) -> None:
        self.sheet.append(cells)
        self.rows += 1

    def cell(self, value: Any, *, typed: bool = False, number_format: str | None = None) -> Any:
        if typed and isinstance(value, str):
            if not value.startswith("="):  # only "=…" would be taken for a formula
                return value
            cell = WriteOnlyCell(self.sheet, value=value)
            cell.data_type = "s"  # as typed: "=1+1" stays text
            return cell
        if number_format and value is not None:
            cell = WriteOnlyCell(self.sheet, value=value)
            cell.number_format = number_format
            return cell
        return value


def write_export(
    session: Session,
    target: Path | BinaryIO,
    *,
    context: ExportContext,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Write the workbook (to a path or a file object); returns the number of assignment rows.
    `progress` hears of every thousand rows written."""
    _ = context.translator
    province = province_name(session, _)
    workbook = Workbook(write_only=True)
    count = _write_progress(workbook, session, context, province, progress)
    _write_units(workbook, session, context, province)
    _write_summary(workbook, session, context)
    if isinstance(target, Path):
        target.parent.mkdir(parents=True, exist_ok=True)
    workbook.save(target)
    return count


def _title_lines(context: ExportContext, heading: str) -> list[str]:
    _ = context.translator
    return [
        heading,
        _("Figures as of {time}", time=_.datetime(context.cut_off)),
        _("Exported by {name}", name=context.exported_by),
        "",
    ]


def _write_progress(
    workbook: Workbook,
    session: Session,
    context: ExportContext,
    province: str,
    progress: Callable[[int], None] | None,
) -> int:
    _ = context.translator
    writer = SheetWriter(
        workbook.create_sheet(_("Progress")[:31]), (c.width for c in PROGRESS_COLUMNS)
    )
    heading = _("PROGRESS OF THE STEERING COMMITTEE'S TASKS — {province}", province=province)
    writer.title(_title_lines(context, heading))
    writer.header(_(c.label) for c in PROGRESS_COLUMNS)
    first = writer.rows + 1
    count = 0
    for count, row in enumerate(export_rows(session, today=context.today), start=1):
        writer.append(
            [
                writer.cell(
                    column.value(row, count, context),
                    typed=column.typed,
                    number_format=column.number_format,
                )
                for column in PROGRESS_COLUMNS
            ]
        )
        if progress is not None and count % 1000 == 0:
            progress(count)
    last_column = get_column_letter(len(PROGRESS_COLUMNS))
    writer.sheet.auto_filter.ref = f"A{first - 1}:{last_column}{max(first, writer.rows)}"
    if progress is not None:
        progress(count)
    return count


def reporting_week_start(today: date, context: ExportContext) -> datetime:
    """The current reporting period of the secretariat: the week, from Monday 00:00."""
    monday = today - timedelta(days=today.weekday())
    return datetime.combine(monday, time(), tzinfo=context.translator.zone)


def _write_units(
    workbook: Workbook, session: Session, context: ExportContext, province: str
) -> None:
    _ = context.translator
    since = reporting_week_start(context.today, context)
    units = sorted(
        progress_by_unit(session, today=context.today, period_start=since),
        key=lambda u: sort_key(u.name),
    )
    writer = SheetWriter(workbook.create_sheet(_("By unit")[:31]), (w for _l, w in UNIT_COLUMNS))
    reported = sum(1 for u in units if u.reported_in_period)
    writer.title(
        [
            _("REPORTING BY UNIT — {province}", province=province),
            _(
                "Units that reported this period (since {date}): {reported}/{total}",
                date=_.date(since.date()),
                reported=reported,
                total=len(units),
            ),
            _("Figures as of {time}", time=_.datetime(context.cut_off)),
            "",
        ]
    )
    writer.header(_(label) for label, _w in UNIT_COLUMNS)
    for number, unit in enumerate(units, start=1):
        writer.append(_unit_cells(writer, number, unit, context))


def _unit_cells(
    writer: SheetWriter, number: int, unit: UnitProgress, context: ExportContext
) -> list[Any]:
    _ = context.translator
    return [
        number,
        unit.code,
        unit.name,
        _(UNIT_KIND_LABELS[unit.kind]),
        unit.assigned,
        unit.done,
        unit.in_progress,
        unit.waiting,
        unit.not_started,
        unit.overdue,
        _share(unit.done, unit.assigned),
        writer.cell(_local(unit.last_report, context), number_format="dd/mm/yyyy hh:mm"),
        _("Yes") if unit.reported_in_period else _("Not yet"),
    ]


def _write_summary(workbook: Workbook, session: Session, context: ExportContext) -> None:
    _ = context.translator
    writer = SheetWriter(
        workbook.create_sheet(_("Summary")[:31]), (w for _l, w in SUMMARY_COLUMNS)
    )
    writer.header(_(label) for label, _w in SUMMARY_COLUMNS)
    totals = [0] * 7
    for kind in completion_by_unit_kind(session, today=context.today):
        figures = [
            kind.units,
            kind.assignments,
            kind.done,
            kind.in_progress,
            kind.waiting,
            kind.not_started,
            kind.overdue,
        ]
        totals = [a + b for a, b in zip(totals, figures, strict=True)]
        writer.append(
            [_(UNIT_KIND_LABELS[kind.kind]), *figures, _share(kind.done, kind.assignments)]
        )
    total = WriteOnlyCell(writer.sheet, value=_("Total"))
    total.font = Font(bold=True)
    writer.append([total, *totals, _share(totals[2], totals[1])])


def _share(part: int, whole: int) -> float:
    return round(100 * part / whole, 1) if whole else 0.0


# ---- CSV -----------------------------------------------------------------------------------


def write_csv(
    session: Session,
    target: IO[str],
    *,
    context: ExportContext,
    progress: Callable[[int], None] | None = None,
) -> int:
    """The assignment rows as CSV (UTF-8; the caller adds the BOM Excel wants)."""
    _ = context.translator
    writer = csv.writer(target)
    writer.writerow([_(c.label) for c in PROGRESS_COLUMNS])
    count = 0
    for count, row in enumerate(export_rows(session, today=context.today), start=1):
        writer.writerow([_csv_value(c.value(row, count, context)) for c in PROGRESS_COLUMNS])
        if progress is not None and count % 1000 == 0:
            progress(count)
    if progress is not None:
        progress(count)
    return count


def _csv_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%d/%m/%Y %H:%M")
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, float):
        return f"{value:g}"
    return as_text(str(value))
