"""The province's figures, aggregated by the database: the export's rows and counts per unit kind."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from models.assignments import AssignmentView
from models.enums import Status, UnitKind
from models.tables import Assignment, Officer, Report, Task, Unit


@dataclass(frozen=True)
class ExportRow:
    unit_code: str
    unit_name: str
    unit_kind: UnitKind
    task_code: str
    task_title: str
    status: Status
    percent: int
    indicator_value: float | None
    reported_at: datetime | None
    reporter: str | None
    result: str | None
    blockers: str | None
    proposals: str | None


def export_rows(session: Session, *, today: date) -> list[ExportRow]:
    """One row per assignment with its latest report, in one query."""
    latest = (
        select(Report.assignment_id, sa.func.max(Report.id).label("report_id"))
        .group_by(col(Report.assignment_id))
        .subquery()
    )
    query = (
        sa.select(Unit, Task, Assignment, Report, Officer)
        .join(Assignment, col(Assignment.unit_id) == Unit.id)
        .join(Task, col(Task.id) == Assignment.task_id)
        .outerjoin(latest, latest.c.assignment_id == Assignment.id)
        .outerjoin(Report, col(Report.id) == latest.c.report_id)
        .outerjoin(Officer, col(Officer.id) == Report.officer_id)
        .order_by(col(Unit.kind), col(Unit.name), col(Task.code))
    )
    rows = []
    for unit, task, assignment, report, officer in session.execute(query).all():
        view = AssignmentView(assignment=assignment, task=task)
        rows.append(
            ExportRow(
                unit_code=unit.code,
                unit_name=unit.name,
                unit_kind=unit.kind,
                task_code=task.code,
                task_title=task.title,
                status=view.effective_status(today),
                percent=assignment.percent,
                indicator_value=assignment.indicator_value,
                reported_at=report.created_at if report else None,
                reporter=officer.full_name if officer else None,
                result=report.result if report else None,
                blockers=report.blockers if report else None,
                proposals=report.proposals if report else None,
            )
        )
    return rows


@dataclass(frozen=True)
class KindSummary:
    kind: UnitKind
    units: int
    assignments: int
    done: int
    in_progress: int
    waiting: int
    not_started: int
    overdue: int


def completion_by_unit_kind(
    session: Session, *, today: date, unit_id: int | None = None
) -> list[KindSummary]:
    """Counts per unit kind (of one unit, if given), computed by the database in one GROUP BY."""
    not_done = col(Assignment.status) != Status.DONE
    late = sa.and_(not_done, col(Task.deadline) < today)

    def count_where(condition: Any) -> Any:
        return sa.func.sum(sa.case((condition, 1), else_=0))

    query = (
        sa.select(
            col(Unit.kind),
            sa.func.count(sa.distinct(col(Unit.id))),
            sa.func.count(col(Assignment.id)),
            count_where(col(Assignment.status) == Status.DONE),
            count_where(sa.and_(col(Assignment.status) == Status.IN_PROGRESS, sa.not_(late))),
            count_where(sa.and_(col(Assignment.status) == Status.WAITING, sa.not_(late))),
            count_where(sa.and_(col(Assignment.status) == Status.NOT_STARTED, sa.not_(late))),
            count_where(late),
        )
        .join(Assignment, col(Assignment.unit_id) == Unit.id)
        .join(Task, col(Task.id) == Assignment.task_id)
        .where(sa.true() if unit_id is None else col(Unit.id) == unit_id)
        .group_by(col(Unit.kind))
        .order_by(col(Unit.kind))
    )
    return [
        KindSummary(
            kind=UnitKind(kind),
            units=units,
            assignments=total,
            done=int(done or 0),
            in_progress=int(progress or 0),
            waiting=int(waiting or 0),
            not_started=int(waiting_start or 0),
            overdue=int(overdue or 0),
        )
        for kind, units, total, done, progress, waiting, waiting_start, overdue in session.execute(
            query
        ).all()
    ]
