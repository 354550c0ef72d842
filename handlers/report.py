"""The guided progress report: task → status → percent → indicator → result → blockers →
proposals → evidence → confirm. Nothing is stored before the officer confirms.

The steps, their order and when each applies are declared once, in `STEPS`; each step's
question and validation sit next to each other below; `handlers.flow` runs them. Corrections run
the same flow, pre-filled from the report they correct.
"""

from __future__ import annotations

from dataclasses import dataclass

from handlers.choices import main_menu
from handlers.context import Context
from handlers.flow import (
    EDIT,
    SKIP,
    Answer,
    Finish,
    Flow,
    FlowDraft,
    FlowState,
    Invalid,
    Outcome,
    Stay,
    Step,
    is_edit_choice,
)
from handlers.text import MAX_ANSWER_CHARS, row_id
from locales import N_
from locales.text import clean_text, parse_percent, read_number, shorten
from models.assignments import (
    AssignmentView,
    ReportValues,
    assignment_of_unit,
    is_superseded,
    record_report,
    unit_assignment_page,
)
from models.conversations import ConversationState
from models.enums import REPORTABLE_STATUSES, Status
from models.labels import STATUS_ICONS, STATUS_LABELS
from models.messages import Attachment, Choice, Reply
from models.tables import Evidence, Report

TASKS_PER_PAGE = 8
TITLE_CHARS = 48  # of a task in a menu: a phone screen's line
MAX_EVIDENCE_FILES = 5
IMPLIED_PERCENT = {Status.NOT_STARTED: 0, Status.DONE: 100}
SAVE = "save"


class Draft(FlowDraft):
    """The report's answers so far, kept in the conversation row between messages."""

    assignment_id: int | None = None
    page: int = 0
    status: Status | None = None
    percent: int | None = None
    indicator_value: float | None = None
    result: str | None = None
    blockers: str | None = None
    proposals: str | None = None
    evidence_ids: list[int] = []
    corrects_report_id: int | None = None


@dataclass
class ReportState(FlowState[Draft]):
    """One turn of the report: the flow's state and the assignment it is about."""

    view: AssignmentView | None = None
    first_page: tuple[list[AssignmentView], int] | None = None  # the task menu's, as begun

    @property
    def task_title(self) -> str:
        assert self.view is not None
        return f"{self.view.task.code} · {self.view.task.title}"


def _choice(state: ReportState, label: str, value: str) -> Choice:
    return REPORT.choice(state, label, value)


def _navigation(state: ReportState, *, skip_label: str | None = None) -> list[Choice]:
    return REPORT.navigation(state, skip_label=skip_label)


# ---- step: task ----------------------------------------------------------------------------


def ask_task(state: ReportState) -> Reply:
    """Which task? A page of the unit's open assignments (all of them once everything is done)."""
    ctx, _ = state.ctx, state.ctx.t
    start = state.draft.page * TASKS_PER_PAGE
    if state.draft.page == 0 and state.first_page is not None:
        page, count = state.first_page  # read by `begin`, in this update
    else:
        page, count = task_page(ctx, start)
    choices = [
        _choice(
            state,
            f"{STATUS_ICONS[v.effective_status(ctx.today)]} {v.task.code} · {shorten(v.task.title, TITLE_CHARS)}",
            f"a{v.assignment.id}",
        )
        for v in page
    ]
    if start + TASKS_PER_PAGE < count:
        choices.append(_choice(state, _("More tasks ▶"), f"p{state.draft.page + 1}"))
    elif state.draft.page > 0:
        choices.append(_choice(state, _("◀ First tasks"), "p0"))
    text = _(
        "Which task are you reporting on? Pick one, or type its code (e.g. {code}).",
        code=page[0].task.code if page else "NV-01",
    )
    return ctx.reply(text, [*choices, *_navigation(state)], may_edit=True)


def task_page(ctx: Context, start: int) -> tuple[list[AssignmentView], int]:
    """The unit's assignments on the task menu's page from `start`, and how many in all."""
    return unit_assignment_page(
        ctx.session, unit_id=ctx.unit_id, today=ctx.today, offset=start, limit=TASKS_PER_PAGE
    )


def accept_task(state: ReportState, answer: Answer) -> Outcome:
    ctx, _ = state.ctx, state.ctx.t
    choice = answer.choice or ""
    if (
        choice.startswith("p")
        and (page := row_id(choice[1:]) or (0 if choice == "p0" else None)) is not None
    ):
        state.draft.page = page
        return Stay()
    view = None
    if choice.startswith("a") and (assignment_id := row_id(choice[1:])) is not None:
        view = assignment_of_unit(ctx.session, unit_id=ctx.unit_id, assignment_id=assignment_id)
    elif answer.text:
        view = assignment_of_unit(
            ctx.session, unit_id=ctx.unit_id, task_code=answer.text.split()[0]
        )
    if view is None:
        raise Invalid(
            _(
                "That task is not one of {unit}'s tasks. Pick one from the list.",
                unit=ctx.unit_name,
            )
        )
    select_assignment(state, view)
    return None


def select_assignment(state: ReportState, view: AssignmentView) -> None:
    """Start the draft for this assignment from its current figures."""
    state.view = view
    state.draft.assignment_id = view.assignment.id
    state.draft.percent = view.assignment.percent
    state.draft.indicator_value = view.assignment.indicator_value


# ---- step: status --------------------------------------------------------------------------


def ask_status(state: ReportState) -> Reply:
    """Where does the task stand? The four statuses an officer may choose."""
    ctx, _ = state.ctx, state.ctx.t
    assert state.view is not None
    current = state.view.effective_status(ctx.today)
    text = "\n".join(
        [
            state.task_title,
            _(
                "Deadline: {date}. Now: {status}, {percent}%.",
                date=_.date(state.view.task.deadline),
                status=_(STATUS_LABELS[current]),
                percent=state.view.assignment.percent,
            ),
            "",
            _("What is the status now?"),
        ]
    )
    choices = [
        _choice(state, f"{STATUS_ICONS[s]} {_(STATUS_LABELS[s])}", f"s:{s.value}")
        for s in REPORTABLE_STATUSES
    ]
    return ctx.reply(text, [*choices, *_navigation(state)], may_edit=True)


def accept_status(state: ReportState, answer: Answer) -> Outcome:
    _ = state.ctx.t
    value = (answer.choice or "").removeprefix("s:")
    if value not in {s.value for s in REPORTABLE_STATUSES}:
        raise Invalid(_("Please pick one of the statuses below."))
    previous, status = state.draft.status, Status(value)
    state.draft.status = status
    if status in IMPLIED_PERCENT:
        state.draft.percent = IMPLIED_PERCENT[status]
    elif previous in IMPLIED_PERCENT:
        state.draft.percent = None
    return None


# ---- step: percent -------------------------------------------------------------------------


def ask_percent(state: ReportState) -> Reply:
    """How far along? A whole number from 0 to 100."""
    ctx, _ = state.ctx, state.ctx.t
    text = _("How many percent of the task is done? Type a number from 0 to 100, e.g. 60.")
    assert state.view is not None
    if state.view.assignment.last_reported_at is not None:
        text += "\n" + _("Last reported: {percent}%.", percent=state.view.assignment.percent)
    return ctx.reply(text, _navigation(state), expects_number=True)


def accept_percent(state: ReportState, answer: Answer) -> Outcome:
    _ = state.ctx.t
    percent = parse_percent(answer.text)
    if percent is None:
        raise Invalid(
            _(
                "“{text}” is not a percentage. Type a whole number from 0 to 100, e.g. 60.",
                text=_excerpt(answer.text),
            )
        )
    state.draft.percent = percent
    return None


# ---- step: indicator -----------------------------------------------------------------------


def ask_indicator(state: ReportState) -> Reply:
    """The value the indicator has reached, when the task has one."""
    ctx, _ = state.ctx, state.ctx.t
    assert state.view is not None
    task = state.view.task
    lines = [_("Indicator: {indicator}", indicator=task.indicator)]
    if task.target is not None:
        lines.append(_("Target: {target} {uom}", target=_.number(task.target), uom=task.uom or ""))
    saved = state.view.assignment.indicator_value
    if saved is not None:
        lines.append(_("Last reported: {value} {uom}", value=_.number(saved), uom=task.uom or ""))
    lines.append(_("Type the value reached so far (a number)."))
    return ctx.reply(
        "\n".join(lines), _navigation(state, skip_label=_("No figure yet")), expects_number=True
    )


def accept_indicator(state: ReportState, answer: Answer) -> Outcome:
    _ = state.ctx.t
    if answer.choice == SKIP:
        return None
    read = read_number(answer.text, trailing=True)  # "700 hồ sơ" is 700
    value = read.value if read else None
    if value is None or value < 0:
        raise Invalid(
            _("“{text}” is not a number. Type the value, e.g. 98,5.", text=_excerpt(answer.text))
        )
    state.draft.indicator_value = value
    return None


# ---- steps with free text: result, blockers, proposals -------------------------------------


def _free_text(state: ReportState, answer: Answer, *, required: bool) -> str | None:
    _ = state.ctx.t
    if answer.choice == SKIP and not required:
        return None
    text = clean_text(answer.text)
    if not text:
        raise Invalid(_("Please type a short answer."))
    if len(text) > MAX_ANSWER_CHARS:
        raise Invalid(
            _(
                "That answer is too long ({length} characters). Please keep it under {limit} characters.",
                length=_.number(len(text)),
                limit=_.number(MAX_ANSWER_CHARS),
            )
        )
    return text


def _result_required(state: ReportState) -> bool:
    return state.draft.status in (Status.IN_PROGRESS, Status.DONE)


def ask_result(state: ReportState) -> Reply:
    """What has been done: one or two lines."""
    ctx, _ = state.ctx, state.ctx.t
    text = _("What has been done? One or two lines are enough.")
    if state.draft.result:
        text += "\n" + _("Your answer so far: {text}", text=state.draft.result)
    skip = None if _result_required(state) else _("Nothing yet")
    return ctx.reply(text, _navigation(state, skip_label=skip))


def accept_result(state: ReportState, answer: Answer) -> Outcome:
    state.draft.result = _free_text(state, answer, required=_result_required(state))
    return None


def ask_blockers(state: ReportState) -> Reply:
    """Difficulties; for a task waiting for guidance, what it waits for (required)."""
    ctx, _ = state.ctx, state.ctx.t
    if state.draft.status == Status.WAITING:
        return ctx.reply(
            _("What guidance or procedure are you waiting for, and from whom?"), _navigation(state)
        )
    return ctx.reply(
        _("Any difficulties or obstacles?"), _navigation(state, skip_label=_("No difficulties"))
    )


def accept_blockers(state: ReportState, answer: Answer) -> Outcome:
    state.draft.blockers = _free_text(state, answer, required=state.draft.status == Status.WAITING)
    return None


def ask_proposals(state: ReportState) -> Reply:
    """Proposals to the steering committee, if any."""
    ctx, _ = state.ctx, state.ctx.t
    return ctx.reply(
        _("Any proposals to the Steering Committee?"),
        _navigation(state, skip_label=_("No proposals")),
    )


def accept_proposals(state: ReportState, answer: Answer) -> Outcome:
    state.draft.proposals = _free_text(state, answer, required=False)
    return None


# ---- step: evidence ------------------------------------------------------------------------


def ask_evidence(state: ReportState) -> Reply:
    """A photo or signed document as evidence, optional; several may follow."""
    ctx, _ = state.ctx, state.ctx.t
    count = len(state.draft.evidence_ids)
    if count:
        text = _(
            "{count} file(s) attached. Send another photo or document, or tap Continue.",
            count=count,
        )
        skip = _("Continue ▶")
    else:
        text = _("Attach a photo or a signed document as evidence (optional).")
        skip = _("No evidence")
    return ctx.reply(text, _navigation(state, skip_label=skip))


def accept_evidence(state: ReportState, answer: Answer) -> Outcome:
    _ = state.ctx.t
    if answer.choice == SKIP:
        return None
    if not answer.attachments:
        raise Invalid(
            _("Send a photo or a document here, or tap the button to go on without one.")
        )
    return Stay(stage_evidence(state, answer.attachments))


def stage_evidence(state: ReportState, attachments: tuple[Attachment, ...]) -> str:
    """Hold files against the conversation until the report is confirmed; returns a notice."""
    ctx, _ = state.ctx, state.ctx.t
    notices = []
    for attachment in attachments:
        if len(state.draft.evidence_ids) >= MAX_EVIDENCE_FILES:
            notices.append(
                _("At most {count} files can be attached to one report.", count=MAX_EVIDENCE_FILES)
            )
            break
        if not attachment.data and attachment.size <= ctx.config.evidence_max_bytes:
            notices.append(_("{name} is empty or could not be read.", name=attachment.file_name))
            continue
        if attachment.size > ctx.config.evidence_max_bytes:
            notices.append(
                _(
                    "{name} is too large ({size} MB); the limit is {limit} MB.",
                    name=attachment.file_name,
                    size=_.number(round(attachment.size / 1048576, 1)),
                    limit=_.number(round(ctx.config.evidence_max_bytes / 1048576, 1)),
                )
            )
            continue
        evidence = Evidence(
            conversation_id=state.conversation.id,
            kind=attachment.kind,
            file_name=attachment.file_name[:255],
            content_type=attachment.content_type[:100],
            size=len(attachment.data),
            data=attachment.data,
            created_at=ctx.now,
        )
        ctx.session.add(evidence)
        ctx.session.flush()
        assert evidence.id is not None
        state.draft.evidence_ids.append(evidence.id)
        notices.append(_("Received {name}.", name=attachment.file_name))
    return "\n".join(notices)


# ---- step: confirm ----


def summary(state: ReportState) -> str:
    """The report as it will be saved."""
    _ = state.ctx.t
    draft = state.draft
    assert state.view is not None
    assert draft.status is not None
    lines = [
        state.task_title,
        _("Status: {status}", status=_(STATUS_LABELS[draft.status])),
        _("Percent done: {percent}%", percent=draft.percent),
    ]
    task = state.view.task
    if task.indicator and draft.indicator_value is not None:
        lines.append(
            _(
                "{indicator}: {value} {uom}",
                indicator=task.indicator,
                value=_.number(draft.indicator_value),
                uom=task.uom or "",
            )
        )
    if draft.result:
        lines.append(_("Result: {text}", text=draft.result))
    if draft.blockers and REPORT.step("blockers").applies(state):
        lines.append(_("Difficulties: {text}", text=draft.blockers))
    if draft.proposals:
        lines.append(_("Proposals: {text}", text=draft.proposals))
    if draft.evidence_ids:
        lines.append(_("Evidence: {count} file(s)", count=len(draft.evidence_ids)))
    return "\n".join(lines)


def ask_confirm(state: ReportState) -> Reply:
    """Show the summary: save, edit a field, or cancel."""
    ctx, _ = state.ctx, state.ctx.t
    heading = _("Please check your report:")
    if state.draft.corrects_report_id is not None:
        heading = _("You are correcting your report. Tap Edit to change a field, then Save.")
    choices = [
        _choice(state, _("✅ Save"), SAVE),
        _choice(state, _("✏️ Edit"), EDIT),
        *_navigation(state),
    ]
    return ctx.reply(f"{heading}\n\n{summary(state)}", choices, may_edit=True)


def accept_confirm(state: ReportState, answer: Answer) -> Outcome:
    if is_edit_choice(answer.choice):
        return REPORT.edit_choice(state, answer.choice)
    if answer.choice != SAVE:
        raise Invalid(state.ctx.t("Tap Save to store the report, Edit to change it, or Cancel."))
    return Finish()


# ---- the flow, declared once ---------------------------------------------------------------


def _needs_percent(state: ReportState) -> bool:
    return state.draft.status in (Status.IN_PROGRESS, Status.WAITING)


def _has_indicator(state: ReportState) -> bool:
    return state.view is not None and bool(state.view.task.indicator)


STEPS: tuple[Step[ReportState], ...] = (
    Step(
        "task",
        N_("Task"),
        ask_task,
        accept_task,
        applies=lambda s: s.draft.corrects_report_id is None,
        answered=lambda s: s.draft.assignment_id is not None,
        editable=False,
    ),
    Step(
        "status",
        N_("Status"),
        ask_status,
        accept_status,
        answered=lambda s: s.draft.status is not None,
    ),
    Step(
        "percent",
        N_("Percent done"),
        ask_percent,
        accept_percent,
        applies=_needs_percent,
        answered=lambda s: s.draft.percent is not None,
    ),
    Step(
        "indicator", N_("Indicator value"), ask_indicator, accept_indicator, applies=_has_indicator
    ),
    Step(
        "result",
        N_("Result"),
        ask_result,
        accept_result,
        answered=lambda s: bool(s.draft.result) or not _result_required(s),
    ),
    Step(
        "blockers",
        N_("Difficulties"),
        ask_blockers,
        accept_blockers,
        applies=lambda s: s.draft.status != Status.DONE,
        answered=lambda s: bool(s.draft.blockers) or s.draft.status != Status.WAITING,
    ),
    Step("proposals", N_("Proposals"), ask_proposals, accept_proposals),
    Step("evidence", N_("Evidence"), ask_evidence, accept_evidence),
    Step("confirm", N_("Confirm"), ask_confirm, accept_confirm, editable=False),
)


# ---- the flow ------------------------------------------------------------------------------


class ReportFlow(Flow[ReportState]):
    """The guided progress report, and corrections pre-filled from the report they correct."""

    name = "report"
    steps = STEPS
    summary_step = "confirm"

    def load(self, ctx: Context, conversation: ConversationState) -> ReportState | list[Reply]:
        draft = Draft.model_validate(conversation.data)
        view = None
        if draft.assignment_id is not None:
            # Re-read with the permission rule: if the unit changed, the draft's task is gone.
            view = assignment_of_unit(
                ctx.session, unit_id=ctx.unit_id, assignment_id=draft.assignment_id
            )
            if view is None:
                ctx.end_conversation(conversation)
                return [
                    ctx.reply(
                        ctx.t(
                            "That task is no longer assigned to your unit. The report was cancelled."
                        ),
                        main_menu(ctx),
                    )
                ]
        return ReportState(ctx=ctx, conversation=conversation, draft=draft, view=view)

    def take_files(self, state: ReportState, attachments: tuple[Attachment, ...]) -> str | None:
        """Files sent at any step are kept for this report (the evidence step takes them too)."""
        if state.conversation.step == "evidence":
            return None
        notice = stage_evidence(state, attachments)
        return notice + "\n" + state.ctx.t("The file will be attached to this report.")

    def finish(self, state: ReportState) -> list[Reply]:
        return save(state)


REPORT = ReportFlow()


def begin(
    ctx: Context, *, view: AssignmentView | None = None, correcting: Report | None = None
) -> list[Reply]:
    """Start a guided report (replacing any unfinished one), at the task or at its status;
    a correction starts at the summary of the report it corrects."""
    first_page = task_page(ctx, 0) if view is None else None  # its count says if there are any
    if first_page is not None and first_page[1] == 0:
        return [ctx.reply(ctx.t("{unit} has no tasks assigned yet.", unit=ctx.unit_name))]
    draft = Draft()
    first = REPORT.step("task")
    if correcting is not None:
        draft = Draft(
            assignment_id=correcting.assignment_id,
            status=correcting.status,
            percent=correcting.percent,
            indicator_value=correcting.indicator_value,
            result=correcting.result,
            blockers=correcting.blockers,
            proposals=correcting.proposals,
            corrects_report_id=correcting.id,
        )
        first = REPORT.step("confirm")
    state = ReportState(
        ctx=ctx,
        conversation=REPORT.open(ctx, draft),
        draft=draft,
        view=view,
        first_page=first_page,
    )
    if view is not None and correcting is None:
        select_assignment(state, view)
        first = REPORT.step("status")
    return REPORT.begin_at(state, first)


def save(state: ReportState) -> list[Reply]:
    """Store the confirmed report, re-checking permission and what it corrects."""
    ctx, _, draft = state.ctx, state.ctx.t, state.draft
    assert state.view is not None
    assert draft.status is not None
    assert draft.percent is not None
    supersedes = None
    if draft.corrects_report_id is not None:
        supersedes = ctx.session.get(Report, draft.corrects_report_id)
        if supersedes is None or is_superseded(ctx.session, report_id=draft.corrects_report_id):
            REPORT.end(state)
            return [
                ctx.reply(
                    _(
                        "That report has been corrected in the meantime. Nothing was saved; start again with /sua."
                    ),
                    main_menu(ctx),
                )
            ]
    values = ReportValues(
        status=draft.status,
        percent=draft.percent,
        indicator_value=draft.indicator_value if _has_indicator(state) else None,
        result=draft.result,
        blockers=draft.blockers if REPORT.step("blockers").applies(state) else None,
        proposals=draft.proposals,
    )
    text = summary(state)
    record_report(
        ctx.session,
        assignment=state.view.assignment,
        officer=ctx.linked_officer,
        account=ctx.account,
        values=values,
        at=ctx.now,
        supersedes=supersedes,
        evidence_ids=draft.evidence_ids,
    )
    code = state.view.task.code
    REPORT.end(state)
    return [
        ctx.reply(
            _("Saved ✅ Thank you!")
            + f"\n\n{text}\n\n"
            + _("To correct it, send /sua {code}.", code=code),
            main_menu(ctx),
        )
    ]


def _excerpt(text: str, limit: int = 30) -> str:
    text = clean_text(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"
