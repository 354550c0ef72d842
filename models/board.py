"""The web board's figures: headline counts, units × tasks, a unit's and a task's history, the
difficulties and proposals, the weekly trend — aggregated by the database, one query each,
within what the viewer may see (`unit_id` None: the whole province)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import Session, col, select

from models.assignments import AssignmentView, unit_assignments
from models.enums import Status, UnitKind
from models.figures import KindSummary, UnitProgress
from models.tables import (
    Assignment,
    ChannelAccount,
    Evidence,
    Officer,
    Report,
    Task,
    Unit,
)
from models.types import as_utc


def _scope(unit_id: int | None) -> Any:
    return sa.true() if unit_id is None else col(Assignment.unit_id) == unit_id


def _late(today: date) -> Any:
    return sa.and_(col(Assignment.status) != Status.DONE, col(Task.deadline) < today)


@dataclass(frozen=True)
class Headline:
    tasks: int
    tasks_done: int  # done by every unit it was given to
    units: int
    units_reported: int  # since the start of the reporting period
    assignments: int
    overdue: int


def task_completion(session: Session, *, unit_id: int | None = None) -> tuple[int, int]:
    """(tasks, tasks done by every unit they were given to), in one query."""
    per_task = (
        sa.select(
            col(Assignment.task_id),
            sa.func.min(sa.case((col(Assignment.status) == Status.DONE, 1), else_=0)).label(
                "done"
            ),
        )
        .where(_scope(unit_id))
        .group_by(col(Assignment.task_id))
        .subquery()
    )
    tasks, done = session.execute(
        sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(per_task.c.done), 0))
    ).one()
    return int(tasks), int(done)


def summarize(units: list[UnitProgress], *, tasks: int, tasks_done: int) -> Headline:
    """The headline figures, from the per-unit counts already at hand."""
    return Headline(
        tasks=tasks,
        tasks_done=tasks_done,
        units=len(units),
        units_reported=sum(1 for u in units if u.reported_in_period),
        assignments=sum(u.assigned for u in units),
        overdue=sum(u.overdue for u in units),
    )


def by_unit_kind(units: list[UnitProgress]) -> list[KindSummary]:
    """Counts per unit kind, from the per-unit counts already at hand."""
    kinds: dict[UnitKind, list[UnitProgress]] = {}
    for unit in units:
        kinds.setdefault(unit.kind, []).append(unit)
    return [
        KindSummary(
            kind=kind,
            units=len(members),
            assignments=sum(u.assigned for u in members),
            done=sum(u.done for u in members),
            in_progress=sum(u.in_progress for u in members),
            waiting=sum(u.waiting for u in members),
            not_started=sum(u.not_started for u in members),
            overdue=sum(u.overdue for u in members),
        )
        for kind, members in sorted(kinds.items())
    ]


def status_count(unit: UnitProgress, status: Status) -> int:
    """How many of the unit's assignments (in view) are in `status`."""
    return {
        Status.DONE: unit.done,
        Status.IN_PROGRESS: unit.in_progress,
        Status.WAITING: unit.waiting,
        Status.NOT_STARTED: unit.not_started,
        Status.OVERDUE: unit.overdue,
    }[status]


@dataclass(frozen=True)
class BoardFilter:
    kind: UnitKind | None = None
    task_id: int | None = None
    status: Status | None = None
    not_reported: bool = False
    most_overdue_first: bool = False


def chosen_units(units: list[UnitProgress], chosen: BoardFilter) -> list[UnitProgress]:
    """The units a filter keeps (their counts are for the chosen task, when there is one)."""
    if chosen.kind is not None:
        units = [u for u in units if u.kind == chosen.kind]
    if chosen.status is not None:
        status = chosen.status
        units = [u for u in units if status_count(u, status)]
    if chosen.not_reported:
        units = [u for u in units if not u.reported_in_period]
    return units


@dataclass(frozen=True)
class Cell:
    assignment_id: int
    status: Status
    percent: int


def board_cells(
    session: Session, *, unit_ids: list[int], task_ids: list[int], today: date
) -> dict[tuple[int, int], Cell]:
    """The status and percent of each (unit, task) on the page, in one query."""
    if not unit_ids or not task_ids:
        return {}
    rows = session.execute(
        sa.select(
            col(Assignment.id),
            col(Assignment.unit_id),
            col(Assignment.task_id),
            col(Assignment.status),
            col(Assignment.percent),
            col(Task.deadline),
        )
        .join(Task, col(Task.id) == Assignment.task_id)
        .where(col(Assignment.unit_id).in_(unit_ids), col(Assignment.task_id).in_(task_ids))
    ).all()
    cells = {}
    for assignment_id, unit, task, status, percent, deadline in rows:
        shown = Status(status)
        if shown != Status.DONE and deadline < today:
            shown = Status.OVERDUE
        cells[(unit, task)] = Cell(assignment_id=assignment_id, status=shown, percent=percent)
    return cells


@dataclass(frozen=True)
class TrendPoint:
    week_end: date
    done: int
    assignments: int

    @property
    def share(self) -> float:
        return 100 * self.done / self.assignments if self.assignments else 0.0


def weekly_trend(
    session: Session, *, today: date, zone: ZoneInfo, weeks: int = 8, unit_id: int | None = None
) -> list[TrendPoint]:
    """How many assignments were done by the end of each of the last `weeks` weeks (from
    `Assignment.done_at`, kept by every report), in one query over the assignments."""
    last_sunday = today + timedelta(days=6 - today.weekday())
    ends = [last_sunday - timedelta(weeks=n) for n in reversed(range(weeks))]
    bounds = [datetime.combine(end + timedelta(days=1), time(), tzinfo=zone) for end in ends]
    done_at = col(Assignment.done_at)
    columns = [
        sa.func.coalesce(sa.func.sum(sa.case((done_at < bound, 1), else_=0)), 0)
        for bound in bounds
    ]
    counts = session.execute(
        sa.select(sa.func.count(col(Assignment.id)), *columns).where(_scope(unit_id))
    ).one()
    total = int(counts[0])
    return [
        TrendPoint(week_end=end, done=int(done), assignments=total)
        for end, done in zip(ends, counts[1:], strict=True)
    ]


# ---- a unit's page -------------------------------------------------------------------------


@dataclass(frozen=True)
class EvidenceEntry:
    id: int
    kind: str
    file_name: str
    content_type: str
    size: int

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")


@dataclass
class ReportEntry:
    report: Report
    officer_name: str
    channel: str | None  # the messenger it came by
    evidence: list[EvidenceEntry] = field(default_factory=list)


@dataclass
class AssignmentHistory:
    view: AssignmentView
    reports: list[ReportEntry] = field(default_factory=list)


def unit_history(session: Session, *, unit_id: int, today: date) -> list[AssignmentHistory]:
    """A unit's assignments with every report (newest first) and its evidence: three queries."""
    histories = {
        v.assignment.id: AssignmentHistory(view=v)
        for v in unit_assignments(session, unit_id=unit_id, today=today)
    }
    rows = session.execute(
        sa.select(Report, col(Officer.full_name), col(ChannelAccount.channel))
        .join(Officer, col(Officer.id) == Report.officer_id)
        .outerjoin(ChannelAccount, col(ChannelAccount.id) == Report.account_id)
        .where(col(Report.assignment_id).in_(list(histories)))
        .order_by(col(Report.created_at).desc(), col(Report.id).desc())
    ).all()
    entries: dict[int, ReportEntry] = {}
    for report, officer_name, channel in rows:
        entry = ReportEntry(report=report, officer_name=officer_name, channel=channel)
        histories[report.assignment_id].reports.append(entry)
        assert report.id is not None
        entries[report.id] = entry
    for evidence_id, report_id, kind, name, content_type, size in session.execute(
        sa.select(
            col(Evidence.id),
            col(Evidence.report_id),
            col(Evidence.kind),
            col(Evidence.file_name),
            col(Evidence.content_type),
            col(Evidence.size),
        )
        .where(col(Evidence.report_id).in_(list(entries)))
        .order_by(col(Evidence.id))
    ).all():
        entries[report_id].evidence.append(
            EvidenceEntry(evidence_id, kind, name, content_type, size)
        )
    return list(histories.values())


def evidence_in_view(
    session: Session, *, evidence_id: int, unit_id: int | None
) -> Evidence | None:
    """A file attached to a saved report, only if its unit is in view."""
    return session.exec(
        select(Evidence)
        .join(Report, col(Report.id) == Evidence.report_id)
        .join(Assignment, col(Assignment.id) == Report.assignment_id)
        .where(col(Evidence.id) == evidence_id, _scope(unit_id))
    ).first()


# ---- a task's page -------------------------------------------------------------------------


@dataclass(frozen=True)
class TaskUnitRow:
    unit: Unit
    cell: Cell
    last_reported_at: datetime | None
    indicator_value: float | None


def task_units(
    session: Session, *, task_id: int, today: date, unit_id: int | None = None
) -> list[TaskUnitRow]:
    rows = session.execute(
        sa.select(Unit, Assignment, col(Task.deadline))
        .join(Assignment, col(Assignment.unit_id) == Unit.id)
        .join(Task, col(Task.id) == Assignment.task_id)
        .where(col(Assignment.task_id) == task_id, _scope(unit_id))
    ).all()
    result = []
    for unit, assignment, deadline in rows:
        status = Status(assignment.status)
        if status != Status.DONE and deadline < today:
            status = Status.OVERDUE
        assert assignment.id is not None
        result.append(
            TaskUnitRow(
                unit=unit,
                cell=Cell(assignment.id, status, assignment.percent),
                last_reported_at=assignment.last_reported_at,
                indicator_value=assignment.indicator_value,
            )
        )
    return result


# ---- difficulties and proposals ------------------------------------------------------------


@dataclass(frozen=True)
class Note:
    at: datetime
    unit_id: int
    unit_name: str
    task_id: int
    task_code: str
    task_title: str
    officer: str
    blockers: str | None
    proposals: str | None


def notes(
    session: Session,
    *,
    unit_id: int | None = None,
    task_id: int | None = None,
    offset: int = 0,
    limit: int = 50,
) -> list[Note]:
    """Reports that name difficulties or proposals, newest first."""
    query = (
        sa.select(
            col(Report.created_at),
            col(Unit.id),
            col(Unit.name),
            col(Task.id),
            col(Task.code),
            col(Task.title),
            col(Officer.full_name),
            col(Report.blockers),
            col(Report.proposals),
        )
        .join(Assignment, col(Assignment.id) == Report.assignment_id)
        .join(Unit, col(Unit.id) == Assignment.unit_id)
        .join(Task, col(Task.id) == Assignment.task_id)
        .join(Officer, col(Officer.id) == Report.officer_id)
        .where(
            _scope(unit_id),
            sa.or_(col(Report.blockers).is_not(None), col(Report.proposals).is_not(None)),
        )
        .order_by(col(Report.created_at).desc(), col(Report.id).desc())
        .offset(offset)
        .limit(limit)
    )
    if task_id is not None:
        query = query.where(col(Assignment.task_id) == task_id)
    return [
        Note(as_utc(at), uid, uname, tid, code, title, officer, blockers, proposals)
        for at, uid, uname, tid, code, title, officer, blockers, proposals in session.execute(
            query
        ).all()
    ]
