"""`/sua` (`/fix`): correct the last report on a task. The correction is a new version;
the report it corrects stays in the history."""

from __future__ import annotations

from handlers import report, tasks
from handlers.choices import CORRECT_ASSIGNMENT
from handlers.context import Context
from handlers.report import TITLE_CHARS
from locales.text import shorten
from models.assignments import AssignmentView, assignment_of_unit, latest_report, unit_assignments
from models.enums import Role
from models.messages import Choice, Reply


def correct_command(ctx: Context, args: str = "") -> list[Reply]:
    """`/sua CODE` corrects that task's last report; `/sua` alone lists what can be corrected."""
    _ = ctx.t
    code = args.split(maxsplit=1)[0] if args.split() else ""
    if code:
        view = assignment_of_unit(ctx.session, unit_id=ctx.unit_id, task_code=code)
        if view is None:
            return tasks.not_a_unit_task(ctx, code)
        return correct_assignment(ctx, view)
    reported = [
        v
        for v in unit_assignments(ctx.session, unit_id=ctx.unit_id, today=ctx.today)
        if v.assignment.last_reported_at is not None
    ]
    if not reported:
        return [
            ctx.reply(_("Your unit has not reported on any task yet. Send /baocao to report."))
        ]
    choices = [
        Choice(
            label=f"{v.task.code} · {shorten(v.task.title, TITLE_CHARS)}",
            data=f"{CORRECT_ASSIGNMENT}{v.assignment.id}",
        )
        for v in reported[:10]
    ]
    return [ctx.reply(_("Which task's last report do you want to correct?"), choices)]


def correct_assignment(ctx: Context, view: AssignmentView) -> list[Reply]:
    """Open the last report on `view` for correction, if this officer may correct it."""
    _ = ctx.t
    assert view.assignment.id is not None
    officer = ctx.linked_officer
    last = latest_report(ctx.session, assignment_id=view.assignment.id)
    if last is None:
        return [
            ctx.reply(
                _(
                    "There is no report on {code} to correct yet. Send /baocao {code} to report.",
                    code=view.task.code,
                )
            )
        ]
    if last.officer_id != officer.id and officer.role != Role.LEAD:
        return [
            ctx.reply(
                _(
                    "The last report on {code} was made by a colleague; only they or your unit's lead can correct it.",
                    code=view.task.code,
                )
            )
        ]
    return report.begin(ctx, correcting=last, view=view)
