"""Queries and writes shared by conversations, the CLI and exports; aggregates stay in SQL."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, TypeVar, cast

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, SQLModel, col, select
from sqlmodel.sql.expression import SelectOfScalar

from models.enums import OutboxState, Status, UnitKind
from models.tables import (
    Assignment,
    ChannelAccount,
    ChatMenu,
    Conversation,
    Evidence,
    InboxUpdate,
    Officer,
    Outbox,
    Report,
    SeenDelivery,
    Task,
    Unit,
)


def insert_ignoring_conflict(session: Session, table: type[SQLModel], **values: Any) -> bool:
    """Insert a row unless one with the same key exists; True if this call inserted it."""
    target = cast(sa.Table, table.__table__)  # type: ignore[attr-defined]
    statement: sa.Executable
    if session.get_bind().dialect.name == "postgresql":
        statement = (
            postgresql.insert(target)
            .values(**values)
            .on_conflict_do_nothing()
            .returning(sa.literal_column("1"))
        )
    else:
        statement = (
            sqlite.insert(target)
            .values(**values)
            .on_conflict_do_nothing()
            .returning(sa.literal_column("1"))
        )
    # RETURNING says whether a row went in; a row count is not reported by every driver here.
    return session.connection().execute(statement).first() is not None


def record_delivery(session: Session, *, channel: str, delivery_id: str, at: datetime) -> bool:
    """Remember an inbound delivery; False if it was handled before."""
    return insert_ignoring_conflict(
        session, SeenDelivery, channel=channel, delivery_id=delivery_id, received_at=at
    )


def account_for(
    session: Session,
    *,
    channel: str,
    external_id: str,
    display_name: str,
    at: datetime,
    language: str,
) -> ChannelAccount:
    """The chat account for a messenger identity, created on first contact."""
    account = session.exec(
        select(ChannelAccount).where(
            ChannelAccount.channel == channel, ChannelAccount.external_id == external_id
        )
    ).first()
    if account is None:
        account = ChannelAccount(
            channel=channel,
            external_id=external_id,
            display_name=display_name,
            language=language,
            created_at=at,
        )
    elif display_name:
        account.display_name = display_name
    account.last_seen_at = at
    account.unreachable_since = None  # they wrote to us, so they have not blocked the bot
    session.add(account)
    session.flush()
    return account


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


def conversation_for(
    session: Session, *, channel: str, chat_id: str, account_id: int, lock: bool = False
) -> Conversation | None:
    """The account's conversation in this chat; with `lock`, held until the transaction ends
    (PostgreSQL), so two workers never move the same conversation at once."""
    query = select(Conversation).where(
        Conversation.channel == channel,
        Conversation.chat_id == chat_id,
        Conversation.account_id == account_id,
    )
    if lock and session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    return session.exec(query).first()


def end_conversation(session: Session, conversation: Conversation) -> None:
    """Forget a conversation and any evidence it staged but never saved."""
    session.execute(
        sa.delete(Evidence).where(
            col(Evidence.conversation_id) == conversation.id, col(Evidence.report_id).is_(None)
        )
    )
    session.delete(conversation)
    session.flush()


def remember_menu(
    session: Session, *, channel: str, chat_id: str, choices: list[str], at: datetime
) -> None:
    """Keep the numbered menu just shown in a chat, replacing the one before."""
    menu = session.get(ChatMenu, (channel, chat_id)) or ChatMenu(channel=channel, chat_id=chat_id)
    menu.choices = choices
    menu.updated_at = at
    session.add(menu)


def menu_choice(session: Session, *, channel: str, chat_id: str, number: int) -> str | None:
    """The data of option `number` (1-based) in the chat's last numbered menu."""
    menu = session.get(ChatMenu, (channel, chat_id))
    if menu is None or not 1 <= number <= len(menu.choices):
        return None
    return menu.choices[number - 1]


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
    for unit, task, assignment, report, officer in session.execute(query).tuples().all():
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


def store_inbox(
    session: Session, *, channel: str, delivery_id: str, payload: dict[str, Any], at: datetime
) -> bool:
    """Keep a raw update until it is handled; False if it was stored before (a resend)."""
    return insert_ignoring_conflict(
        session,
        InboxUpdate,
        channel=channel,
        delivery_id=delivery_id,
        payload=payload,
        received_at=at,
    )


def claim_inbox(
    session: Session, *, channel: str, now: datetime, lease: timedelta, limit: int
) -> list[InboxUpdate]:
    """Unhandled updates nobody holds, oldest first, now held by this worker for `lease`."""
    query = (
        select(InboxUpdate)
        .where(InboxUpdate.channel == channel, col(InboxUpdate.handled_at).is_(None))
        .order_by(col(InboxUpdate.received_at), col(InboxUpdate.delivery_id))
        .limit(limit)
    )
    return _take_with_lease(session, InboxUpdate, query, now=now, lease=lease)


def mark_inbox_handled(session: Session, *, channel: str, delivery_id: str, at: datetime) -> None:
    session.execute(
        sa.update(InboxUpdate)
        .where(col(InboxUpdate.channel) == channel, col(InboxUpdate.delivery_id) == delivery_id)
        .values(handled_at=at)
    )


def mark_unreachable(session: Session, *, channel: str, external_id: str, at: datetime) -> None:
    """The person blocked the bot: stop writing to them until they write again."""
    session.execute(
        sa.update(ChannelAccount)
        .where(
            col(ChannelAccount.channel) == channel, col(ChannelAccount.external_id) == external_id
        )
        .values(unreachable_since=at)
    )


def claim_due_outbox(
    session: Session, *, now: datetime, lease: timedelta, limit: int
) -> list[Outbox]:
    """Take up to `limit` due rows for this sender for `lease`; other senders skip them."""
    query = (
        select(Outbox)
        .where(Outbox.state == OutboxState.PENDING, col(Outbox.due_at) <= now)
        .order_by(col(Outbox.due_at), col(Outbox.id))
        .limit(limit)
    )
    return _take_with_lease(session, Outbox, query, now=now, lease=lease)


_Leased = TypeVar("_Leased", InboxUpdate, Outbox)


def _take_with_lease(
    session: Session,
    table: type[_Leased],
    query: SelectOfScalar[_Leased],
    *,
    now: datetime,
    lease: timedelta,
) -> list[_Leased]:
    """The rows of `query` that nobody holds, now held by this worker until `now + lease`.

    On PostgreSQL the rows are locked with SKIP LOCKED, so two workers never take the same row
    at the same moment; SQLite's single writer (BEGIN IMMEDIATE) gives the same guarantee.
    """
    claimed_until = col(table.claimed_until)
    query = query.where(sa.or_(claimed_until.is_(None), claimed_until < now))
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    rows = list(session.exec(query).all())
    for row in rows:
        row.claimed_until = now + lease
        session.add(row)
    session.flush()
    return rows


def drop_stale_outbox(session: Session, *, due_before: datetime) -> list[str]:
    """Give up on rows that waited past the grace period; returns their keys."""
    keys = list(
        session.exec(
            select(Outbox.key).where(
                Outbox.state == OutboxState.PENDING, col(Outbox.due_at) < due_before
            )
        ).all()
    )
    if keys:
        session.execute(
            sa.update(Outbox)
            .where(col(Outbox.key).in_(keys))
            .values(state=OutboxState.DROPPED, last_error="past the grace period")
        )
    return keys


def recover_interrupted_outbox(session: Session, *, now: datetime) -> int:
    """Rows left 'sending' by a sender that died: their outcome is unknown, so they are not
    sent again (a Bot API send has no idempotency key)."""
    result = session.execute(
        sa.update(Outbox)
        .where(
            col(Outbox.state) == OutboxState.SENDING,
            sa.or_(col(Outbox.claimed_until).is_(None), col(Outbox.claimed_until) < now),
        )
        .values(state=OutboxState.UNKNOWN, last_error="the sender stopped while sending")
    )
    return int(getattr(result, "rowcount", 0) or 0)
