"""The figures back out to Excel: one row per assignment, then a summary per unit kind."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import BinaryIO

from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from sqlmodel import Session

from locales import N_, Translator
from models.figures import completion_by_unit_kind, export_rows
from models.labels import STATUS_LABELS, UNIT_KIND_LABELS

PROGRESS_HEADER = (
    N_("Unit code"),
    N_("Unit name"),
    N_("Task code"),
    N_("Task title"),
    N_("Status"),
    N_("Percent done"),
    N_("Indicator value"),
    N_("Last report"),
    N_("Reporter"),
    N_("Result"),
    N_("Difficulties"),
    N_("Proposals"),
)
SUMMARY_HEADER = (
    N_("Unit kind"),
    N_("Units"),
    N_("Assignments"),
    N_("Completed"),
    N_("In progress"),
    N_("Waiting for guidance"),
    N_("Not started"),
    N_("Overdue"),
    N_("Completed (%)"),
)
_WIDTHS = (10, 28, 12, 50, 18, 10, 12, 17, 22, 40, 30, 30)


def _style_header(row: tuple[object, ...]) -> None:
    for cell in row:
        cell.font = Font(bold=True, color="FFFFFF")  # type: ignore[attr-defined]
        cell.fill = PatternFill("solid", fgColor="1F4E79")  # type: ignore[attr-defined]


def write_export(
    session: Session, target: Path | BinaryIO, *, today: date, translator: Translator
) -> int:
    """Write the workbook to a path or a file object; returns the number of assignment rows."""
    _ = translator
    rows = export_rows(session, today=today)
    workbook = Workbook()
    progress = workbook.active
    assert progress is not None
    progress.title = _("Progress")[:31]
    progress.append([_(h) for h in PROGRESS_HEADER])
    _style_header(progress[1])
    for row in rows:
        reported = (
            row.reported_at.astimezone(translator.zone).replace(tzinfo=None, microsecond=0)
            if row.reported_at
            else None
        )
        progress.append(
            [
                row.unit_code,
                row.unit_name,
                row.task_code,
                row.task_title,
                _(STATUS_LABELS[row.status]),
                row.percent,
                row.indicator_value,
                reported,
                row.reporter,
                row.result,
                row.blockers,
                row.proposals,
            ]
        )
        if reported is not None:
            progress.cell(row=progress.max_row, column=8).number_format = "dd/mm/yyyy hh:mm"
    for index, width in enumerate(_WIDTHS, start=1):
        progress.column_dimensions[chr(64 + index)].width = width
    progress.freeze_panes = "A2"
    progress.auto_filter.ref = progress.dimensions

    summary = workbook.create_sheet(_("Summary")[:31])
    summary.append([_(h) for h in SUMMARY_HEADER])
    _style_header(summary[1])
    totals = [0] * 7
    for kind in completion_by_unit_kind(session, today=today):
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
        summary.append(
            [_(UNIT_KIND_LABELS[kind.kind]), *figures, _share(kind.done, kind.assignments)]
        )
    summary.append([_("Total"), *totals, _share(totals[2], totals[1])])
    for cell in summary[summary.max_row]:
        cell.font = Font(bold=True)
    summary.column_dimensions["A"].width = 18
    if isinstance(target, Path):
        target.parent.mkdir(parents=True, exist_ok=True)
    workbook.save(target)
    return len(rows)


def _share(part: int, whole: int) -> float:
    return round(100 * part / whole, 1) if whole else 0.0
