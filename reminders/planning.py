"""Planning reminders, overdue nudges and escalations into the outbox.

The planner looks at what should have been sent by now (and what is due soon), and writes one
outbox row per (what, whom, which occurrence) under a unique key; writing the same row twice
does nothing, so planning may run as often as it likes, in as many processes as it likes. An
occurrence older than the grace period is not planned at all: nobody gets yesterday's reminder
at 3 a.m. after an outage (the skip is logged).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cached_property
from typing import Any, NamedTuple, cast
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import Session, col, select

from models.accounts import messengers_without_groups
from models.enums import Cycle, GroupPurpose, OutboxState, Role, Status
from models.queue import (
    AssignmentNotice,
    DigestPayload,
    EscalationPayload,
    OutboxKind,
    OverduePayload,
    QuotaPayload,
    ReminderPayload,
    SnoozePayload,
    enqueue,
    outbox_row,
)
from models.sql import insert_many_ignoring_conflict
from models.tables import (
    Assignment,
    ChannelAccount,
    GroupBinding,
    Officer,
    Outbox,
    Report,
    Task,
)
from models.types import as_utc
from reminders.calendar import WorkCalendar

log = logging.getLogger(__name__)


PLANNING_HORIZON = timedelta(hours=12)  # occurrences due this far ahead are written already


@dataclass(frozen=True)
class ReminderPolicy:
    """When officers are reminded and leads told (from the settings, see `bot.app`)."""

    days_before: tuple[int, ...]  # working days before the deadline; 0: its morning
    overdue_nudges: int  # daily, on the working days after the deadline
    grace: timedelta  # later than this, an occurrence is skipped


@dataclass(frozen=True)
class Contact:
    """A chat account reminders go to."""

    account_id: int
    channel: str
    chat_id: str


@dataclass  # not frozen: built tens of thousands of times a minute, a frozen init costs more
class Occurrence:
    """One message that should go out at `due_at`: a payload of `kind` made of `fields`."""

    kind: type[AssignmentNotice]
    fields: dict[str, Any]
    due_at: datetime
    contact: Contact

    @property
    def key(self) -> str:
        return self.kind.key_of(
            self.fields, channel=self.contact.channel, chat_id=self.contact.chat_id
        )

    @cached_property
    def payload(self) -> AssignmentNotice:
        """Built only for the occurrences not queued yet (most are, at any given minute)."""
        return self.kind(**self.fields)


@dataclass(frozen=True)
class OpenAssignment:
    assignment: Assignment
    task: Task
    reported_in_period: bool


def period_of(cycle: Cycle, day: date) -> tuple[date, date]:
    """The reporting period of a periodic task that contains `day` (first and last day)."""
    if cycle == Cycle.WEEKLY:
        start = day - timedelta(days=day.weekday())
        return start, start + timedelta(days=6)
    if cycle == Cycle.MONTHLY:
        start = day.replace(day=1)
    else:
        start = date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    months = 1 if cycle == Cycle.MONTHLY else 3
    year, month = divmod(start.month - 1 + months, 12)
    return start, date(start.year + year, month + 1, 1) - timedelta(days=1)


def due_date(item: OpenAssignment, calendar: WorkCalendar, today: date) -> date | None:
    """The date the unit must have reported by: the task's deadline, or for a periodic task the
    last working day of the current period; None when this period is already reported."""
    if item.task.cycle == Cycle.ONCE:
        return item.task.deadline
    if item.reported_in_period:
        return None
    _start, end = period_of(item.task.cycle, today)
    return min(calendar.working_day_on_or_before(end), item.task.deadline)


@dataclass(frozen=True)
class Offset:
    """One occurrence relative to a due date: a reminder `number` working days before it, the
    `number`-th nudge after it, or the escalation."""

    kind: OutboxKind
    number: int = 0


class DueAssignment(NamedTuple):
    """An open assignment, the date it must be reported by, and (periodic) its period."""

    assignment_id: int
    unit_id: int
    due: date
    period_start: date | None


class Planner:
    def __init__(self, *, calendar: WorkCalendar, policy: ReminderPolicy) -> None:
        self.calendar = calendar
        self.policy = policy
        # The moment of each (due date, offset) seen: a few new ones a day, asked for per row.
        self._moments: dict[tuple[date, Offset], datetime] = {}

    # ---- when ------------------------------------------------------------------------------

    def offsets(self) -> list[Offset]:
        return [
            *(Offset(OutboxKind.REMINDER, days) for days in self.policy.days_before),
            *(Offset(OutboxKind.OVERDUE, n) for n in range(1, self.policy.overdue_nudges + 1)),
            Offset(OutboxKind.ESCALATION),
        ]

    def moment(self, due: date, offset: Offset) -> datetime:
        """When the occurrence `offset` of a due date is sent."""
        calendar = self.calendar
        if offset.kind == OutboxKind.REMINDER:
            day = calendar.working_days_before(due, offset.number)
            return calendar.latest_working_moment(calendar.morning_of(day))
        if offset.kind == OutboxKind.OVERDUE:
            return calendar.morning_of(calendar.working_days_after(due, offset.number))
        return calendar.morning_of(
            calendar.working_days_after(due, self.policy.overdue_nudges + 1)
        )

    def due_dates_in_window(
        self, *, today: date, start: datetime, end: datetime
    ) -> dict[date, list[Offset]]:
        """Every due date that has an occurrence between `start` and `end`, with those
        occurrences: the few dates planning must look at now, out of a whole year's."""
        reach_back = 3 * (self.policy.overdue_nudges + 2) + 21  # calendar days, Tết included
        reach_ahead = 2 * max(self.policy.days_before, default=0) + 21
        found: dict[date, list[Offset]] = {}
        day = today - timedelta(days=reach_back)
        while day <= today + timedelta(days=reach_ahead):
            offsets = [o for o in self.offsets() if start <= self.moment(day, o) <= end]
            if offsets:
                found[day] = offsets
            day += timedelta(days=1)
        return found

    # ---- planning --------------------------------------------------------------------------

    def plan(self, session: Session, *, now: datetime) -> int:
        """Write the outbox rows due between `now - grace` and `now + horizon`; returns how many
        were new. Set-based: only the assignments due on the dates that have an occurrence in
        that window are read, occurrences already queued are left out before writing, and the
        rest go in as multi-row inserts. An occurrence older than the grace period (the bot was
        down) is not planned: nobody gets yesterday's reminder late."""
        today = now.astimezone(self.calendar.zone).date()
        start, end = now - self.policy.grace, now + PLANNING_HORIZON
        wanted = self.due_dates_in_window(today=today, start=start, end=end)
        if not wanted:
            return 0
        officers, leads = _contacts(session)
        queued = set(
            session.exec(
                select(Outbox.key).where(col(Outbox.due_at) >= start, col(Outbox.due_at) <= end)
            ).all()
        )
        rows = []
        for item in due_assignments(
            session, today=today, dates=set(wanted), calendar=self.calendar
        ):
            for occurrence in self._expand(item, wanted[item.due], officers, leads):
                key = occurrence.key
                if key in queued:
                    continue
                queued.add(key)
                rows.append(
                    {
                        "key": key,
                        "channel": occurrence.contact.channel,
                        "chat_id": occurrence.contact.chat_id,
                        "due_at": occurrence.due_at,
                        "payload": occurrence.payload.model_dump(mode="json"),
                        "state": OutboxState.PENDING,
                        "attempts": 0,
                        "created_at": now,
                    }
                )
        return insert_many_ignoring_conflict(session, Outbox, rows)

    def occurrences(self, session: Session, *, now: datetime, today: date) -> Iterator[Occurrence]:
        """Every reminder, nudge and escalation of the open assignments around today, whatever
        its moment (what `plan` writes is the part of this in its window)."""
        officers, leads = _contacts(session)
        for item in open_assignments(session, today=today, zone=self.calendar.zone):
            due = due_date(item, self.calendar, today)
            if due is None:
                continue
            assert item.assignment.id is not None
            yield from self._expand(
                DueAssignment(
                    assignment_id=item.assignment.id,
                    unit_id=item.assignment.unit_id,
                    due=due,
                    period_start=(
                        period_of(item.task.cycle, today)[0]
                        if item.task.cycle != Cycle.ONCE
                        else None
                    ),
                ),
                self.offsets(),
                officers,
                leads,
            )

    def _expand(
        self,
        item: DueAssignment,
        offsets: Iterable[Offset],
        officers: dict[int, list[Contact]],
        leads: dict[int, list[Contact]],
    ) -> Iterator[Occurrence]:
        """The occurrences `offsets` of one assignment, for each account they go to."""
        about = {
            "assignment_id": item.assignment_id,
            "due": item.due,
            "period_start": item.period_start,
        }
        for offset in offsets:
            moment = self._moments.get((item.due, offset))
            if moment is None:
                moment = self._moments[item.due, offset] = self.moment(item.due, offset)
            kind: type[AssignmentNotice]
            if offset.kind == OutboxKind.ESCALATION:
                kind, extra, contacts = EscalationPayload, {}, leads
            elif offset.kind == OutboxKind.REMINDER:
                kind, extra, contacts = ReminderPayload, {"days_before": offset.number}, officers
            else:
                kind, extra, contacts = OverduePayload, {"nudge": offset.number}, officers
            for contact in contacts.get(item.unit_id, []):
                fields = {"account_id": contact.account_id, **about, **extra}
                yield Occurrence(kind, fields, moment, contact)


def due_assignments(
    session: Session, *, today: date, dates: set[date], calendar: WorkCalendar
) -> list[DueAssignment]:
    """The open assignments whose due date is one of `dates`, in one query per reporting cycle.

    A one-off task is due on its deadline; a periodic one, not reported yet in the current
    period, on the last working day of the period (or its deadline, if that comes first)."""
    base = (
        sa.select(_primary_key(Assignment.id), col(Assignment.unit_id), col(Task.deadline))
        .join(Task, col(Task.id) == Assignment.task_id)
        .where(col(Assignment.status) != Status.DONE)
    )
    found = [
        DueAssignment(assignment_id, unit_id, deadline, None)
        for assignment_id, unit_id, deadline in session.connection()
        .execute(base.where(col(Task.cycle) == Cycle.ONCE, col(Task.deadline).in_(dates)))
        .all()
    ]
    for cycle in (Cycle.WEEKLY, Cycle.MONTHLY, Cycle.QUARTERLY):
        first, last = period_of(cycle, today)
        period_end = calendar.working_day_on_or_before(last)
        due_now = [d for d in dates if d < period_end]
        conditions: list[sa.ColumnElement[bool]] = (
            [col(Task.deadline).in_(due_now)] if due_now else []
        )
        if period_end in dates:
            conditions.append(col(Task.deadline) >= period_end)
        if not conditions:
            continue
        since = datetime.combine(first, time(), tzinfo=calendar.zone)
        query = base.where(
            col(Task.cycle) == cycle,
            sa.or_(
                col(Assignment.last_reported_at).is_(None),
                col(Assignment.last_reported_at) < since,
            ),
            sa.or_(*conditions),
        )
        found += [
            DueAssignment(assignment_id, unit_id, min(deadline, period_end), first)
            for assignment_id, unit_id, deadline in session.connection().execute(query).all()
        ]
    return found


def _primary_key(column: int | None) -> sa.ColumnElement[int]:
    """A primary key read from the database: never None, though the model allows None before
    the row is saved."""
    return cast("sa.ColumnElement[int]", col(column))


def open_assignments(session: Session, *, today: date, zone: ZoneInfo) -> list[OpenAssignment]:
    """Assignments not done, with whether a periodic one has a report in its current period."""
    rows = session.exec(
        select(Assignment, Task)
        .join(Task, col(Task.id) == Assignment.task_id)
        .where(col(Assignment.status) != Status.DONE)
    ).all()
    periodic_starts = {
        cycle: period_of(cycle, today)[0]
        for cycle in (Cycle.WEEKLY, Cycle.MONTHLY, Cycle.QUARTERLY)
    }
    earliest = min(periodic_starts.values())
    # One query for the latest report time of every assignment reported since the earliest start.
    recent = dict(
        session.exec(
            select(Report.assignment_id, sa.func.max(Report.created_at))
            .where(col(Report.created_at) >= datetime.combine(earliest, time(), tzinfo=zone))
            .group_by(col(Report.assignment_id))
        ).all()
    )
    result = []
    for assignment, task in rows:
        reported = False
        if task.cycle != Cycle.ONCE and assignment.id in recent:
            reported = (
                as_utc(recent[assignment.id]).astimezone(zone).date()
                >= periodic_starts[task.cycle]
            )
        result.append(
            OpenAssignment(assignment=assignment, task=task, reported_in_period=reported)
        )
    return result


def _contacts(session: Session) -> tuple[dict[int, list[Contact]], dict[int, list[Contact]]]:
    """Per unit, each officer's reachable chat account on their preferred messenger, else the one
    used last: (officers, leads)."""
    rows = (
        session.connection()
        .execute(
            sa.select(
                _primary_key(Officer.id),
                col(Officer.unit_id),
                col(Officer.role),
                col(Officer.preferred_channel),
                _primary_key(ChannelAccount.id),
                col(ChannelAccount.channel),
                col(ChannelAccount.external_id),
            )
            .join(ChannelAccount, col(ChannelAccount.officer_id) == Officer.id)
            .where(col(Officer.active), col(ChannelAccount.unreachable_since).is_(None))
            .order_by(col(ChannelAccount.last_seen_at).desc())
        )
        .all()
    )
    chosen: dict[int, tuple[int, Role, Contact]] = {}
    for officer_id, unit_id, role, preferred, account_id, channel, chat_id in rows:
        # newest first: the first seen is the one used last, unless a later one is preferred
        if officer_id not in chosen or (
            preferred == channel and chosen[officer_id][2].channel != channel
        ):
            chosen[officer_id] = (unit_id, role, Contact(account_id, channel, chat_id))
    officers: dict[int, list[Contact]] = {}
    leads: dict[int, list[Contact]] = {}
    for unit_id, role, contact in chosen.values():
        target = leads if role == Role.LEAD else officers if role == Role.OFFICER else None
        if target is not None:
            target.setdefault(unit_id, []).append(contact)
    return officers, leads


def snooze_reminder(
    session: Session,
    *,
    row: Outbox,
    reminder: AssignmentNotice,
    now: datetime,
    calendar: WorkCalendar,
) -> Outbox:
    """The same reminder again on the next working morning (once per reminder and day)."""
    due_at = calendar.next_working_morning(now)
    snoozed = row.key.removeprefix(f"{OutboxKind.SNOOZE}:").split("@")[0]
    again = SnoozePayload(
        account_id=reminder.account_id,
        assignment_id=reminder.assignment_id,
        due=reminder.due,
        period_start=reminder.period_start,
        snoozed=snoozed,
        day=due_at.astimezone(calendar.zone).date(),
    )
    enqueue(session, again, channel=row.channel, chat_id=row.chat_id, due_at=due_at, now=now)
    return outbox_row(session, payload=again, channel=row.channel, chat_id=row.chat_id)


def queue_digests(session: Session, *, now: datetime) -> int:
    """One digest row for every bound group at this digest time (once, however often called).

    A messenger on which the bot cannot be in groups (a Zalo bot, often) gets no group digest;
    then every unit without a group elsewhere has its digest sent to its leads in private.
    """
    at = now.replace(second=0, microsecond=0)
    no_groups = messengers_without_groups(session)
    groups = [g for g in session.exec(select(GroupBinding)).all() if g.channel not in no_groups]
    written = 0
    for group in groups:
        unit_id = group.unit_id if group.purpose == GroupPurpose.UNIT else None
        written += enqueue(
            session,
            DigestPayload(at=at, unit_id=unit_id),
            channel=group.channel,
            chat_id=group.chat_id,
            due_at=now,
            now=now,
        )
    if no_groups:
        with_group = {g.unit_id for g in groups if g.purpose == GroupPurpose.UNIT}
        assigned = set(session.exec(select(Assignment.unit_id).distinct()).all())
        _officers, leads = _contacts(session)
        for unit_id, contacts in leads.items():
            if unit_id in with_group or unit_id not in assigned:
                continue
            for contact in contacts:
                written += enqueue(
                    session,
                    DigestPayload(at=at, unit_id=unit_id),
                    channel=contact.channel,
                    chat_id=contact.chat_id,
                    due_at=now,
                    now=now,
                )
    return written


def queue_quota_notices(
    session: Session, *, exhausted: str, description: str, now: datetime
) -> int:
    """Tell the secretariat's groups on the other messengers, once a day, that `exhausted` has
    spent its sending quota (its own group would not get the message either)."""
    groups = session.exec(
        select(GroupBinding).where(
            GroupBinding.purpose == GroupPurpose.SECRETARIAT, GroupBinding.channel != exhausted
        )
    ).all()
    notice = QuotaPayload(exhausted=exhausted, description=description[:200], day=now.date())
    return sum(
        enqueue(session, notice, channel=g.channel, chat_id=g.chat_id, due_at=now, now=now)
        for g in groups
    )
