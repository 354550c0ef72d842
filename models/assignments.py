"""Assignments as officers see them, and reports: the permission rule and the one write path."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Session, col, select

from models.enums import Status
from models.tables import Assignment, ChannelAccount, Evidence, Officer, Report, Task


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
    rows = session.exec(
        select(Assignment, Task)
        .join(Task, col(Task.id) == Assignment.task_id)
        .where(Assignment.unit_id == unit_id)
        .order_by(col(Task.deadline), col(Task.code))
    ).all()
    views = [AssignmentView(assignment=a, task=t) for a, t in rows]
    return sorted(views, key=lambda v: v.effective_status(today) != Status.OVERDUE)


def assignment_of_unit(
    session: Session,
    *,
    unit_id: int,
    assignment_id: int | None = None,
    task_code: str | None = None,
) -> AssignmentView | None:
    """One assignment, only if it belongs to `unit_id`: the permission rule lives here."""
    query = (
        select(Assignment, Task)
        .join(Task, col(Task.id) == Assignment.task_id)
        .where(Assignment.unit_id == unit_id)
    )
    if assignment_id is not None:
        query = query.where(Assignment.id == assignment_id)
    elif task_code is not None:
        query = query.where(sa.func.upper(Task.code) == task_code.upper())
    else:
        return None
    row = session.exec(query).first()
    return AssignmentView(assignment=row[0], task=row[1]) if row else None


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
    officer: Officer,
    account: ChannelAccount | None,
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
