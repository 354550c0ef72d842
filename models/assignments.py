"""Assignments as officers see them, and reports: the permission rule and the one write path."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from models.enums import Status
from models.prepared import Prepared
from models.snapshots import AssignmentSnapshot, Identified, TaskSnapshot, columns_of, from_row
from models.sql import insert_row
from models.tables import Assignment, Evidence, Report, Task


@dataclass(frozen=True)
class AssignmentView:
    """An assignment with its task, as officers see it in lists (read-only copies: a report
    changes the row through `record_report`)."""

    assignment: AssignmentSnapshot
    task: TaskSnapshot

    @classmethod
    def of_row(cls, row: Mapping[Any, Any]) -> AssignmentView:
        assignment = from_row(AssignmentSnapshot, row, "a_")
        task = from_row(TaskSnapshot, row, "t_")
        assert assignment is not None
        assert task is not None
        return cls(assignment, task)

    def effective_status(self, today: date) -> Status:
        """The stored status, or OVERDUE when the deadline has passed and it is not done."""
        if self.assignment.status != Status.DONE and self.task.deadline < today:
            return Status.OVERDUE
        return self.assignment.status


def unit_assignments(session: Session, *, unit_id: int, today: date) -> list[AssignmentView]:
    """A unit's assignments: overdue first, then by deadline, then by code."""
    rows = session.connection().execute(_unit_assignments_in_order(unit_id, today)).mappings()
    return [AssignmentView.of_row(row) for row in rows]


def unit_assignment_page(
    session: Session, *, unit_id: int, today: date, offset: int, limit: int
) -> tuple[list[AssignmentView], int]:
    """One page of a unit's open assignments (all of them once every one is done), in the
    order of `unit_assignments`, and how many there are in all; only the page is loaded."""
    connection = session.connection()
    counted = _COUNTS.first(connection, {"unit_id": unit_id})
    assert counted is not None  # an aggregate: always one row
    total, still_open = counted
    page = _OPEN_PAGE if still_open else _PAGE
    params = {"unit_id": unit_id, "today": today, "offset": offset, "limit": limit}
    rows = page.mappings(connection, params)
    return [AssignmentView.of_row(row) for row in rows], int(still_open or total)


def _of_unit(unit_id: Any) -> sa.Select[Any]:
    """A unit's assignments with their tasks (`unit_id` a value or a bound parameter)."""
    return (
        sa.select(*columns_of(AssignmentSnapshot, "a_"), *columns_of(TaskSnapshot, "t_"))
        .select_from(Assignment)
        .join(Task, col(Task.id) == Assignment.task_id)
        .where(col(Assignment.unit_id) == unit_id)
    )


def _unit_assignments_in_order(unit_id: Any, today: Any) -> sa.Select[Any]:
    """A unit's assignments with their tasks, overdue first (an OVERDUE status is never
    stored: it is "not done, deadline passed"), then by deadline, then by code."""
    overdue_first = sa.case(
        (sa.and_(col(Assignment.status) != Status.DONE, col(Task.deadline) < today), 0), else_=1
    )
    return _of_unit(unit_id).order_by(overdue_first, col(Task.deadline), col(Task.code))


# The task menu (every guided report starts there): built once, its values bound per call.
_COUNTS = Prepared(
    sa.select(
        sa.func.count(),
        sa.func.coalesce(
            sa.func.sum(sa.case((col(Assignment.status) != Status.DONE, 1), else_=0)), 0
        ),
    ).where(col(Assignment.unit_id) == sa.bindparam("unit_id"))
)
_ALL_PAGE = (
    _unit_assignments_in_order(sa.bindparam("unit_id"), sa.bindparam("today", type_=sa.Date))
    .offset(sa.bindparam("offset", type_=sa.Integer))
    .limit(sa.bindparam("limit", type_=sa.Integer))
)
_PAGE = Prepared(_ALL_PAGE)
_OPEN_PAGE = Prepared(_ALL_PAGE.where(col(Assignment.status) != Status.DONE))


def _compact(code: Any) -> Any:
    """A task code without its separators, in SQL: "NV-05" and "nv05" compare equal."""
    for separator in CODE_SEPARATORS:
        code = sa.func.replace(code, separator, "")
    return sa.func.upper(code)


CODE_SEPARATORS = ("-", ".", "/", "_", " ")


# Read on most steps of a report, and by every quick report: built once, values bound per call.
_ASSIGNMENT_OF_UNIT = Prepared(
    _of_unit(sa.bindparam("unit_id")).where(col(Assignment.id) == sa.bindparam("assignment_id"))
)
_ASSIGNMENT_OF_UNIT_BY_CODE = Prepared(
    _of_unit(sa.bindparam("unit_id")).where(sa.func.upper(Task.code) == sa.bindparam("code"))
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
    connection = session.connection()
    if assignment_id is not None:
        params = {"unit_id": unit_id, "assignment_id": assignment_id}
        row = _ASSIGNMENT_OF_UNIT.mapping(connection, params)
        return AssignmentView.of_row(row) if row else None
    if not task_code:
        return None
    by_code: dict[str, object] = {"unit_id": unit_id, "code": task_code.upper()}
    exact = _ASSIGNMENT_OF_UNIT_BY_CODE.mapping(connection, by_code)
    if exact is not None:
        return AssignmentView.of_row(exact)
    compact = task_code.upper()
    for separator in CODE_SEPARATORS:
        compact = compact.replace(separator, "")
    query = _of_unit(unit_id).where(_compact(Task.code) == compact).limit(2)
    similar = connection.execute(query).mappings().all()
    return AssignmentView.of_row(similar[0]) if len(similar) == 1 else None


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
    assignment: Assignment | AssignmentSnapshot,
    officer: Identified,
    account: Identified | None,
    values: ReportValues,
    at: datetime,
    supersedes: Report | None = None,
    evidence_ids: Sequence[int] = (),
) -> int:
    """Store a report (or a correction superseding one) and bring its assignment up to date
    (with an UPDATE: an ORM object given as `assignment` is not refreshed); the report's id."""
    assert assignment.id is not None
    assert officer.id is not None
    report_id = insert_row(
        session,
        Report,
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
    if evidence_ids:
        session.connection().execute(
            sa.update(Evidence)
            .where(col(Evidence.id).in_(evidence_ids))
            .values(report_id=report_id, conversation_id=None)
        )
    changes: dict[str, object] = {
        "status": values.status,
        "percent": values.percent,
        "last_reported_at": at,
    }
    if values.status != Status.DONE:
        changes["done_at"] = None
    elif assignment.status != Status.DONE or assignment.done_at is None:
        changes["done_at"] = at
    if values.indicator_value is not None:
        changes["indicator_value"] = values.indicator_value
    # with the next statement (PostgreSQL: `Prepared.later`): nothing here reads it back
    _UPDATE_ASSIGNMENT.later(session.connection(), {"assignment_id": assignment.id, **changes})
    return report_id


_UPDATE_ASSIGNMENT = Prepared(
    sa.update(Assignment).where(col(Assignment.id) == sa.bindparam("assignment_id"))
)


def is_superseded(session: Session, *, report_id: int) -> bool:
    return (
        session.exec(select(Report.id).where(Report.supersedes_id == report_id)).first()
        is not None
    )
