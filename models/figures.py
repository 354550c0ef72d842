"""The province's figures, aggregated by the database: the export's rows and counts per unit kind."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from models.enums import Cycle, Status, UnitKind
from models.tables import Assignment, Evidence, Officer, Report, Task, Unit
from models.types import as_utc


@dataclass(frozen=True)
class ExportRow:
    """One assignment with its task, its unit and its latest report, as exported."""

    unit_id: int
    unit_code: str
    unit_name: str
    unit_kind: UnitKind
    task_code: str
    task_title: str
    deadline: date
    cycle: Cycle
    status: Status
    percent: int
    indicator: str | None
    target: float | None
    uom: str | None
    indicator_value: float | None
    reported_at: datetime | None
    reporter: str | None
    result: str | None
    blockers: str | None
    proposals: str | None
    evidence: int

    def days_overdue(self, today: date) -> int:
        return (today - self.deadline).days if self.status == Status.OVERDUE else 0


def export_rows(session: Session, *, today: date, batch: int = 2000) -> Iterator[ExportRow]:
    """One row per assignment with its latest report and evidence count, in one query whose
    rows are streamed (a whole country's export never sits in memory at once)."""
    query = export_query().execution_options(yield_per=batch)
    for row in session.execute(query):
        (
            unit_id,
            unit_code,
            unit_name,
            kind,
            code,
            title,
            deadline,
            cycle,
            indicator,
            target,
            uom,
            status,
            percent,
            value,
            reported_at,
            reporter,
            result,
            blockers,
            proposals,
            files,
        ) = row
        if status != Status.DONE and deadline < today:
            status = Status.OVERDUE
        yield ExportRow(
            unit_id=unit_id,
            unit_code=unit_code,
            unit_name=unit_name,
            unit_kind=UnitKind(kind),
            task_code=code,
            task_title=title,
            deadline=deadline,
            cycle=Cycle(cycle),
            status=Status(status),
            percent=percent,
            indicator=indicator,
            target=target,
            uom=uom,
            indicator_value=value,
            reported_at=as_utc(reported_at),
            reporter=reporter,
            result=result,
            blockers=blockers,
            proposals=proposals,
            evidence=int(files),
        )


def export_query() -> sa.Select[*tuple[Any, ...]]:
    """The export's rows: every assignment with its unit, its task, its latest report and how
    many files that assignment's reports carry; by unit kind, unit name and task code."""
    latest = (
        select(Report.assignment_id, sa.func.max(Report.id).label("report_id"))
        .group_by(col(Report.assignment_id))
        .cte("latest")
    )
    evidence = (
        sa.select(col(Report.assignment_id), sa.func.count(col(Evidence.id)).label("files"))
        .join(Evidence, col(Evidence.report_id) == Report.id)
        .group_by(col(Report.assignment_id))
        .cte("evidence_files")
    )
    return (
        sa.select(
            col(Unit.id),
            col(Unit.code),
            col(Unit.name),
            col(Unit.kind),
            col(Task.code),
            col(Task.title),
            col(Task.deadline),
            col(Task.cycle),
            col(Task.indicator),
            col(Task.target),
            col(Task.uom),
            col(Assignment.status),
            col(Assignment.percent),
            col(Assignment.indicator_value),
            col(Report.created_at),
            col(Officer.full_name),
            col(Report.result),
            col(Report.blockers),
            col(Report.proposals),
            sa.func.coalesce(evidence.c.files, 0),
        )
        .join(Assignment, col(Assignment.unit_id) == Unit.id)
        .join(Task, col(Task.id) == Assignment.task_id)
        .outerjoin(latest, latest.c.assignment_id == Assignment.id)
        .outerjoin(Report, col(Report.id) == latest.c.report_id)
        .outerjoin(Officer, col(Officer.id) == Report.officer_id)
        .outerjoin(evidence, evidence.c.assignment_id == Assignment.id)
        .order_by(col(Unit.kind), col(Unit.name), col(Task.code))
    )


@dataclass(frozen=True)
class UnitProgress:
    """One unit's assignments by status, and whether it reported in the current period."""

    unit_id: int
    code: str
    name: str
    kind: UnitKind
    assigned: int
    done: int
    in_progress: int
    waiting: int
    not_started: int
    overdue: int
    last_report: datetime | None
    reported_in_period: bool


def progress_by_unit(
    session: Session,
    *,
    today: date,
    period_start: datetime,
    kind: UnitKind | None = None,
    task_id: int | None = None,
    unit_id: int | None = None,
) -> list[UnitProgress]:
    """Every unit with assignments (of a kind, for a task, one unit), counted by the database
    in one GROUP BY; the last report is the newest `last_reported_at` of its assignments."""
    late = sa.and_(col(Assignment.status) != Status.DONE, col(Task.deadline) < today)

    def count_where(condition: Any) -> Any:
        return sa.func.sum(sa.case((condition, 1), else_=0))

    query = (
        sa.select(
            col(Unit.id),
            col(Unit.code),
            col(Unit.name),
            col(Unit.kind),
            sa.func.count(col(Assignment.id)),
            count_where(col(Assignment.status) == Status.DONE),
            count_where(sa.and_(col(Assignment.status) == Status.IN_PROGRESS, sa.not_(late))),
            count_where(sa.and_(col(Assignment.status) == Status.WAITING, sa.not_(late))),
            count_where(sa.and_(col(Assignment.status) == Status.NOT_STARTED, sa.not_(late))),
            count_where(late),
            sa.func.max(Assignment.last_reported_at),
        )
        .join(Assignment, col(Assignment.unit_id) == Unit.id)
        .join(Task, col(Task.id) == Assignment.task_id)
        .group_by(col(Unit.id), col(Unit.code), col(Unit.name), col(Unit.kind))
    )
    if kind is not None:
        query = query.where(col(Unit.kind) == kind)
    if task_id is not None:
        query = query.where(col(Assignment.task_id) == task_id)
    if unit_id is not None:
        query = query.where(col(Unit.id) == unit_id)
    result = []
    for row in session.execute(query).all():
        last_at = as_utc(row[10])
        result.append(
            UnitProgress(
                unit_id=row[0],
                code=row[1],
                name=row[2],
                kind=UnitKind(row[3]),
                assigned=int(row[4]),
                done=int(row[5] or 0),
                in_progress=int(row[6] or 0),
                waiting=int(row[7] or 0),
                not_started=int(row[8] or 0),
                overdue=int(row[9] or 0),
                last_report=last_at,
                reported_in_period=last_at is not None and last_at >= period_start,
            )
        )
    return result


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
