"""`/tasks` (`/nhiemvu`): my unit's tasks with status, percent and deadline, overdue first."""

from __future__ import annotations

from handlers.choices import REPORT_ASSIGNMENT
from handlers.context import Context
from models.assignments import AssignmentView, unit_assignments
from models.enums import Cycle, Status
from models.labels import CYCLE_LABELS, STATUS_ICONS, STATUS_LABELS
from models.messages import Choice, Reply

REPORT_BUTTONS = 10


def describe(ctx: Context, view: AssignmentView) -> str:
    """Two lines for one assignment: code and title, then status, percent and deadline."""
    _ = ctx.t
    status = view.effective_status(ctx.today)
    days_left = (view.task.deadline - ctx.today).days
    if status == Status.DONE:
        when = _("deadline {date}", date=_.date(view.task.deadline))
    elif days_left < 0:
        when = _(
            "deadline {date}, {days} days late", date=_.date(view.task.deadline), days=-days_left
        )
    elif days_left == 0:
        when = _("deadline today {date}", date=_.date(view.task.deadline))
    else:
        when = _(
            "deadline {date}, {days} days left", date=_.date(view.task.deadline), days=days_left
        )
    cycle = "" if view.task.cycle == Cycle.ONCE else f" · {_(CYCLE_LABELS[view.task.cycle])}"
    return (
        f"{STATUS_ICONS[status]} {view.task.code} · {view.task.title}\n"
        f"    {_(STATUS_LABELS[status])} · {view.assignment.percent}% · {when}{cycle}"
    )


def list_tasks(ctx: Context, args: str = "") -> list[Reply]:
    """Show the unit's tasks, with a button to report on each of the first few."""
    _ = ctx.t
    views = unit_assignments(ctx.session, unit_id=ctx.unit_id, today=ctx.today)
    if not views:
        return [ctx.reply(_("{unit} has no tasks assigned yet.", unit=ctx.unit_name))]
    overdue = sum(1 for v in views if v.effective_status(ctx.today) == Status.OVERDUE)
    done = sum(1 for v in views if v.assignment.status == Status.DONE)
    header = _(
        "Tasks of {unit}: {total} in all, {done} completed, {overdue} overdue.",
        unit=ctx.unit_name,
        total=len(views),
        done=done,
        overdue=overdue,
    )
    body = "\n\n".join(describe(ctx, view) for view in views)
    choices = [
        Choice(
            label=_("📝 Report {code}", code=view.task.code),
            data=f"{REPORT_ASSIGNMENT}{view.assignment.id}",
        )
        for view in views
        if view.assignment.status != Status.DONE
    ][:REPORT_BUTTONS]
    return [ctx.reply(f"{header}\n\n{body}", choices)]


def not_a_unit_task(ctx: Context, code: str) -> list[Reply]:
    """The answer when a typed task code is not one of the officer's unit's tasks."""
    _ = ctx.t
    return [
        ctx.reply(
            _(
                "Task {code} is not among the tasks of {unit}. Send /nhiemvu to see them.",
                code=code[:32],
                unit=ctx.unit_name,
            )
        )
    ]
