"""What a reminder, a nudge or an escalation says, built when it is sent."""

from __future__ import annotations

from datetime import date, datetime

from sqlmodel import Session

from locales import Translator
from models.enums import Cycle, Status
from models.labels import STATUS_LABELS
from models.messages import Choice, Reply
from models.queue import AssignmentNotice, EscalationPayload
from models.tables import Assignment, ChannelAccount, Task, Unit
from reminders.calendar import WorkCalendar

# Buttons a reminder carries; handlers know them (handlers.choices) and check permissions.
REPORT_NOW = "rep:"
SNOOZE = "snooze:"


def render_notice(
    session: Session,
    notice: AssignmentNotice,
    *,
    row_id: int | None,
    now: datetime,
    calendar: WorkCalendar,
) -> Reply | None:
    """A reminder, nudge or escalation; None if the task no longer needs it."""
    account = session.get(ChannelAccount, notice.account_id)
    assignment = session.get(Assignment, notice.assignment_id)
    if account is None or assignment is None or assignment.status == Status.DONE:
        return None
    if account.officer_id is None:
        return None  # the account was unlinked since
    task = session.get(Task, assignment.task_id)
    unit = session.get(Unit, assignment.unit_id)
    assert task is not None
    assert unit is not None
    due = notice.due
    if task.cycle != Cycle.ONCE and assignment.last_reported_at is not None:
        reported = assignment.last_reported_at.astimezone(calendar.zone).date()
        if reported >= (notice.period_start or date.min):
            return None  # reported for this period after the reminder was planned
    _ = Translator(account.language, calendar.zone)
    today = now.astimezone(calendar.zone).date()
    status = _(STATUS_LABELS[assignment.status])
    title = f"{task.code} · {task.title}"
    if isinstance(notice, EscalationPayload):
        late = (today - due).days
        text = _(
            "⚠️ {unit} has not completed {title}: {days} days past the deadline ({date}). Now: {status}, {percent}%.",
            unit=unit.name,
            title=title,
            days=late,
            date=_.date(due),
            status=status,
            percent=assignment.percent,
        )
        return Reply(text=text, language=_.language)
    if today > due:
        text = _(
            "🔴 Overdue: {title}\nThe deadline was {date} ({days} days ago). Now: {status}, {percent}%. Please report.",
            title=title,
            date=_.date(due),
            days=(today - due).days,
            status=status,
            percent=assignment.percent,
        )
    elif today == due:
        text = _(
            "⏰ Due today: {title}\nNow: {status}, {percent}%. Please report today.",
            title=title,
            status=status,
            percent=assignment.percent,
        )
    else:
        text = _(
            "⏰ Reminder: {title}\nDeadline {date} (in {days} days). Now: {status}, {percent}%.",
            title=title,
            date=_.date(due),
            days=(due - today).days,
            status=status,
            percent=assignment.percent,
        )
    choices = (
        Choice(label=_("📝 Report now"), data=f"{REPORT_NOW}{assignment.id}"),
        Choice(label=_("⏰ Remind me next working day"), data=f"{SNOOZE}{row_id}"),
    )
    return Reply(text=text, choices=choices, language=_.language)
