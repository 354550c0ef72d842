"""A report in one message for people who know the code: `/baocao NV-03 60% Đã trình dự thảo`."""

from __future__ import annotations

from handlers import report, tasks
from handlers.choices import main_menu
from handlers.context import Context
from handlers.text import MAX_ANSWER_CHARS
from locales.parsing import clean_text, parse_percent
from models.assignments import ReportValues, assignment_of_unit, record_report
from models.enums import Status
from models.labels import STATUS_LABELS
from models.messages import Reply


def report_command(ctx: Context, args: str = "") -> list[Reply]:
    """`/baocao` alone starts the guided report; `/baocao CODE` starts it at that task;
    `/baocao CODE PERCENT RESULT` saves a quick report straight away."""
    _ = ctx.t
    parts = clean_text(args).split(maxsplit=2)
    if not parts:
        return report.begin(ctx)
    code = parts[0]
    view = assignment_of_unit(ctx.session, unit_id=ctx.unit_id, task_code=code)
    if view is None:
        return tasks.not_a_unit_task(ctx, code)
    if len(parts) == 1:
        return report.begin(ctx, view=view)
    percent = parse_percent(parts[1])
    if percent is None:
        return [
            ctx.reply(
                _(
                    "“{text}” is not a percentage from 0 to 100. Example: /baocao {code} 60% Submitted the draft plan",
                    text=parts[1][:30],
                    code=view.task.code,
                )
            )
        ]
    result = parts[2] if len(parts) > 2 else None
    if result is not None and len(result) > MAX_ANSWER_CHARS:
        return [
            ctx.reply(
                _(
                    "That answer is too long ({length} characters). Please keep it under {limit} characters.",
                    length=_.number(len(result)),
                    limit=_.number(MAX_ANSWER_CHARS),
                )
            )
        ]
    status = Status.DONE if percent == 100 else Status.IN_PROGRESS
    record_report(
        ctx.session,
        assignment=view.assignment,
        officer=ctx.linked_officer,
        account=ctx.account,
        values=ReportValues(status=status, percent=percent, result=result),
        at=ctx.now,
    )
    lines = [
        _("Saved ✅ Thank you!"),
        f"{view.task.code} · {view.task.title}",
        _("Status: {status}", status=_(STATUS_LABELS[status])),
        _("Percent done: {percent}%", percent=percent),
    ]
    if result:
        lines.append(_("Result: {text}", text=result))
    lines += ["", _("To correct it, send /sua {code}.", code=view.task.code)]
    return [ctx.reply("\n".join(lines), main_menu(ctx))]
