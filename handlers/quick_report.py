"""A report in one message for people who know the code:

    /baocao NV-03 60% Đã trình dự thảo kế hoạch
    /baocao NV-05 60% 620; đã giải quyết đúng hạn 620 hồ sơ    (with the indicator's value)

The value of a task's indicator comes first, before a `;` (or alone: `/baocao NV-05 60% 620`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from handlers import report, tasks
from handlers.choices import main_menu
from handlers.context import Context
from handlers.text import MAX_ANSWER_CHARS
from locales.text import clean_text, parse_percent, read_number
from models.assignments import AssignmentView, ReportValues, assignment_of_unit, record_report
from models.enums import Status
from models.labels import STATUS_LABELS
from models.messages import Reply

_QUICK = re.compile(
    r"^(?P<code>\S+)(?:\s+(?P<percent>[-+]?\d+(?:[.,]\d+)?\s*%?|\S+))?(?:\s+(?P<rest>.*))?$",
    re.DOTALL,
)
VALUE_WORDS = 3  # "620 hồ sơ": a value and its unit, not yet a sentence


@dataclass(frozen=True)
class QuickReport:
    percent: int
    indicator_value: float | None
    result: str | None


def _value_and_result(view: AssignmentView, rest: str) -> tuple[float | None, str | None]:
    """The indicator's value (for a task that has one) and the result, from what follows the
    percentage."""
    if not rest or not view.task.indicator:
        return None, rest or None
    head, separator, tail = rest.partition(";")
    read = read_number(head, trailing=True)
    if read is None or (not separator and len(read.rest.split()) > VALUE_WORDS):
        return None, rest
    return read.value, tail.strip() or None


def report_command(ctx: Context, args: str = "") -> list[Reply]:
    """`/baocao` alone starts the guided report; `/baocao CODE` starts it at that task;
    `/baocao CODE PERCENT [VALUE;] RESULT` saves a quick report straight away."""
    _ = ctx.t
    match = _QUICK.match(clean_text(args))
    if match is None:
        return report.begin(ctx)
    code = match.group("code")
    view = assignment_of_unit(ctx.session, unit_id=ctx.unit_id, task_code=code)
    if view is None:
        return tasks.not_a_unit_task(ctx, code)
    if match.group("percent") is None:
        return report.begin(ctx, view=view)
    percent = parse_percent(match.group("percent"))
    if percent is None:
        return [
            ctx.reply(
                _(
                    "“{text}” is not a percentage from 0 to 100. Example: /baocao {code} 60% Submitted the draft plan",
                    text=match.group("percent")[:30],
                    code=view.task.code,
                )
            )
        ]
    value, result = _value_and_result(view, (match.group("rest") or "").strip())
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
    return _save(ctx, view, QuickReport(percent=percent, indicator_value=value, result=result))


def _save(ctx: Context, view: AssignmentView, quick: QuickReport) -> list[Reply]:
    _ = ctx.t
    status = Status.DONE if quick.percent == 100 else Status.IN_PROGRESS
    record_report(
        ctx.session,
        assignment=view.assignment,
        officer=ctx.linked_officer,
        account=ctx.account,
        values=ReportValues(
            status=status,
            percent=quick.percent,
            indicator_value=quick.indicator_value,
            result=quick.result,
        ),
        at=ctx.now,
    )
    lines = [
        _("Saved ✅ Thank you!"),
        f"{view.task.code} · {view.task.title}",
        _("Status: {status}", status=_(STATUS_LABELS[status])),
        _("Percent done: {percent}%", percent=quick.percent),
    ]
    if quick.indicator_value is not None:
        lines.append(
            _(
                "{indicator}: {value} {uom}",
                indicator=view.task.indicator,
                value=_.number(quick.indicator_value),
                uom=view.task.uom or "",
            )
        )
    if quick.result:
        lines.append(_("Result: {text}", text=quick.result))
    lines += ["", _("To correct it, send /sua {code}.", code=view.task.code)]
    return [ctx.reply("\n".join(lines), main_menu(ctx))]
