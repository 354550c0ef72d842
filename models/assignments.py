"""Assignments as officers see them, and reports: the permission rule and the one write path."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import Select

from models.enums import Status
from models.snapshots import Identified
from models.tables import Assignment, Evidence, Report, Task


@dataclass(frozen=True)
class AssignmentView:
    """An assignment with its task, as officers see it in lists."""

    assignment: Assignment
    task: Task

    def effective_status(self, today: date) -> Status:
        """The stored status, or OVERDUE when the deadline has passed and it is not done."""
        if self.assignment.status != Status.DONE and self.task.deadline < today:
            return Status.OVERDUE
        return self.assignment.status


def unit_assignments(session: Session, *, unit_id: int, today: date) -> list[AssignmentView]:
    """A unit's assignments: overdue first, then by deadline, then by code."""
    rows = session.exec(_unit_assignments_in_order(unit_id, today)).all()
    return [AssignmentView(assignment=a, task=t) for a, t in rows]


def unit_assignment_page(
    session: Session, *, unit_id: int, today: date, offset: int, limit: int
) -> tuple[list[AssignmentView], int]:
    """One page of a unit's open assignments (all of them once every one is done), in the
    order of `unit_assignments`, and how many there are in all; only the page is loaded."""
    total, still_open = session.execute(_COUNTS, {"unit_id": unit_id}).one()
    page = _OPEN_PAGE if still_open else _PAGE
    params = {"unit_id": unit_id, "today": today, "offset": offset, "limit": limit}
    rows = session.exec(page, params=params).all()
    return [AssignmentView(assignment=a, task=t) for a, t in rows], int(still_open or total)


def _of_unit(unit_id: Any) -> Select[Assignment, Task]:
    """A unit's assignments with their tasks (`unit_id` a value or a bound parameter)."""
    return (
        select(Assignment, Task)
        .join(Task, col(Task.id) == Assignment.task_id)
        .where(col(Assignment.unit_id) == unit_id)
    )


def _unit_assignments_in_order(unit_id: Any, today: Any) -> Select[Assignment, Task]:
    """A unit's assignments with their tasks, overdue first (an OVERDUE status is never
    stored: it is "not done, deadline passed"), then by deadline, then by code."""
    overdue_first = sa.case(
        (sa.and_(col(Assignment.status) != Status.DONE, col(Task.deadline) < today), 0), else_=1
    )
    return _of_unit(unit_id).order_by(overdue_first, col(Task.deadline), col(Task.code))


# The task menu (every guided report starts there): built once, its values bound per call.
_COUNTS = sa.select(
    sa.func.count(),
    sa.func.coalesce(sa.func.sum(sa.case((col(Assignment.status) != Status.DONE, 1), else_=0)), 0),
).where(col(Assignment.unit_id) == sa.bindparam("unit_id"))
_PAGE = (
    _unit_assignments_in_order(sa.bindparam("unit_id"), sa.bindparam("today", type_=sa.Date))
    .offset(sa.bindparam("offset", type_=sa.Integer))
    .limit(sa.bindparam("limit", type_=sa.Integer))
)
_OPEN_PAGE = _PAGE.where(col(Assignment.status) != Status.DONE)


def has_assignments(session: Session, *, unit_id: int) -> bool:
    return (
        session.exec(select(Assignment.id).where(Assignment.unit_id == unit_id).limit(1)).first()
        is not None
    )


def _compact(code: Any) -> Any:
    """A task code without its separators, in SQL: "NV-05" and "nv05" compare equal."""
    for separator in CODE_SEPARATORS:
        code = sa.func.replace(code, separator, "")
    return sa.func.upper(code)


CODE_SEPARATORS = ("-", ".", "/", "_", " ")


# Read on most steps of a report, and by every quick report: built once, values bound per call.
_ASSIGNMENT_OF_UNIT = _of_unit(sa.bindparam("unit_id")).where(
    col(Assignment.id) == sa.bindparam("assignment_id")
)
_ASSIGNMENT_OF_UNIT_BY_CODE = _of_unit(sa.bindparam("unit_id")).where(
    sa.func.upper(Task.code) == sa.bindparam("code")
)


def assignment_of_unit(
    session: Session,
    *,
    unit_id: int,
    assignment_id: int | None = None,
    task_code: str | None = None,
) -> AssignmentView | None:
    """One assignment, only if it belongs to `unit_id`: the permission rule lives here. A code
    is found as typed, or else without its separators ("NV05" for "NV-05") if that is unique."""
    if assignment_id is not None:
        params = {"unit_id": unit_id, "assignment_id": assignment_id}
        row = session.exec(_ASSIGNMENT_OF_UNIT, params=params).first()
        return AssignmentView(assignment=row[0], task=row[1]) if row else None
    if not task_code:
        return None
    by_code: dict[str, object] = {"unit_id": unit_id, "code": task_code.upper()}
    exact = session.exec(_ASSIGNMENT_OF_UNIT_BY_CODE, params=by_code).first()
    if exact is not None:
        return AssignmentView(assignment=exact[0], task=exact[1])
    compact = task_code.upper()
    for separator in CODE_SEPARATORS:
        compact = compact.replace(separator, "")
    query = _of_unit(unit_id).where(_compact(Task.code) == compact).limit(2)
    similar = session.exec(query).all()
    if len(similar) != 1:
        return None
    return AssignmentView(assignment=similar[0][0], task=similar[0][1])


def latest_report(session: Session, *, assignment_id: int) -> Report | None:
    return session.exec(
        select(Report).where(Report.assignment_id == assignment_id).order_by(col(Report.id).desc())
    ).first()


@dataclass(frozen=True)
class ReportValues:
    status: Status
    percent: int
    indicator_value: float | None = None
    result: str | None = None
    blockers: str | None = None
    proposals: str | None = None


def record_report(
    session: Session,
    *,
    assignment: Assignment,
    officer: Identified,
    account: Identified | None,
    values: ReportValues,
    at: datetime,
    supersedes: Report | None = None,
    evidence_ids: Sequence[int] = (),
) -> Report:
    """Store a report (or a correction superseding one) and bring its assignment up to date."""
    assert assignment.id is not None
    assert officer.id is not None
    report = Report(
        assignment_id=assignment.id,
        officer_id=officer.id,
        account_id=account.id if account else None,
        status=values.status,
        percent=values.percent,
        indicator_value=values.indicator_value,
        result=values.result,
        blockers=values.blockers,
        proposals=values.proposals,
        version=supersedes.version + 1 if supersedes else 1,
        supersedes_id=supersedes.id if supersedes else None,
        created_at=at,
    )
    session.add(report)
    session.flush()
    if evidence_ids:
        session.execute(
            sa.update(Evidence)
            .where(col(Evidence.id).in_(evidence_ids))
            .values(report_id=report.id, conversation_id=None)
        )
    if values.status != Status.DONE:
        assignment.done_at = None
    elif assignment.status != Status.DONE or assignment.done_at is None:
        assignment.done_at = at
    assignment.status = values.status
    assignment.percent = values.percent
    if values.indicator_value is not None:
        assignment.indicator_value = values.indicator_value
    assignment.last_reported_at = at
    session.add(assignment)
    session.flush()
    return report


def is_superseded(session: Session, *, report_id: int) -> bool:
    return (
        session.exec(select(Report.id).where(Report.supersedes_id == report_id)).first()
        is not None
    )
