"""The digest for the secretariat's group (or one unit's): figures computed in SQL, a short text
readable on a phone, and a chart."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo
from io import BytesIO
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlmodel import Session, col

from locales import Translator
from locales.text import shorten
from models.enums import Status
from models.figures import KindSummary, completion_by_unit_kind
from models.labels import STATUS_ICONS, STATUS_LABELS, UNIT_KIND_LABELS
from models.messages import Attachment, Reply
from models.tables import Assignment, Report, Task, Unit

if TYPE_CHECKING:
    from matplotlib.figure import Figure

LIST_LIMIT = 10
NOTE_CHARS = 160


@dataclass(frozen=True)
class Late:
    unit: str
    code: str
    title: str
    days: int


@dataclass(frozen=True)
class Note:
    unit: str
    code: str
    text: str


@dataclass
class DigestFigures:
    today: date
    period_start: date
    since: datetime
    unit_name: str | None  # None: the whole province
    tasks: int = 0
    tasks_done: int = 0
    kinds: list[KindSummary] = field(default_factory=list)
    units: int = 0
    units_reported: int = 0
    not_reported: list[str] = field(default_factory=list)
    overdue: list[Late] = field(default_factory=list)
    overdue_count: int = 0
    blockers: list[Note] = field(default_factory=list)
    proposals: list[Note] = field(default_factory=list)

    @property
    def assignments(self) -> int:
        return sum(k.assignments for k in self.kinds)

    def count(self, status: Status) -> int:
        return sum(figures_of(k, status) for k in self.kinds)


def digest_figures(
    session: Session, *, today: date, zone: tzinfo, since: datetime, unit_id: int | None = None
) -> DigestFigures:
    """Every figure of the digest, each from one aggregate query."""
    period_start = today - timedelta(days=today.weekday())  # the reporting week, from Monday
    unit = session.get(Unit, unit_id) if unit_id is not None else None
    figures = DigestFigures(
        today=today, period_start=period_start, since=since, unit_name=unit.name if unit else None
    )
    in_scope = sa.true() if unit_id is None else col(Assignment.unit_id) == unit_id
    figures.kinds = completion_by_unit_kind(session, today=today, unit_id=unit_id)

    per_task = (
        sa.select(
            col(Assignment.task_id),
            sa.func.min(sa.case((col(Assignment.status) == Status.DONE, 1), else_=0)).label(
                "done"
            ),
        )
        .where(in_scope)
        .group_by(col(Assignment.task_id))
        .subquery()
    )
    tasks, done = session.execute(
        sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(per_task.c.done), 0))
    ).one()
    figures.tasks, figures.tasks_done = int(tasks), int(done)

    week_start = datetime.combine(period_start, time(), tzinfo=zone)
    reported_units = (
        sa.select(col(Assignment.unit_id))
        .join(Report, col(Report.assignment_id) == Assignment.id)
        .where(col(Report.created_at) >= week_start, in_scope)
    )
    units = session.execute(
        sa.select(col(Unit.name), col(Unit.id).in_(reported_units))
        .where(col(Unit.id).in_(sa.select(col(Assignment.unit_id)).where(in_scope)))
        .order_by(col(Unit.name))
    ).all()
    figures.units = len(units)
    figures.units_reported = sum(1 for _name, reported in units if reported)
    figures.not_reported = [name for name, reported in units if not reported]

    late = session.execute(
        sa.select(col(Unit.name), col(Task.code), col(Task.title), col(Task.deadline))
        .join(Assignment, col(Assignment.unit_id) == Unit.id)
        .join(Task, col(Task.id) == Assignment.task_id)
        .where(in_scope, col(Assignment.status) != Status.DONE, col(Task.deadline) < today)
        .order_by(col(Task.deadline), col(Unit.name))
    ).all()
    figures.overdue_count = len(late)
    figures.overdue = [Late(u, c, t, (today - d).days) for u, c, t, d in late[:LIST_LIMIT]]

    notes = session.execute(
        sa.select(col(Unit.name), col(Task.code), col(Report.blockers), col(Report.proposals))
        .join(Assignment, col(Assignment.id) == Report.assignment_id)
        .join(Unit, col(Unit.id) == Assignment.unit_id)
        .join(Task, col(Task.id) == Assignment.task_id)
        .where(
            in_scope,
            col(Report.created_at) >= since,
            sa.or_(col(Report.blockers).is_not(None), col(Report.proposals).is_not(None)),
        )
        .order_by(col(Report.created_at).desc())
    ).all()
    figures.blockers = [Note(u, c, b) for u, c, b, _p in notes if b][:LIST_LIMIT]
    figures.proposals = [Note(u, c, p) for u, c, _b, p in notes if p][:LIST_LIMIT]
    return figures


def digest_text(figures: DigestFigures, _: Translator) -> str:
    """The digest as a few short blocks."""
    share = 100 * figures.tasks_done / figures.tasks if figures.tasks else 0.0
    heading = _("📊 PROGRESS DIGEST — {date}", date=_.date(figures.today))
    if figures.unit_name:
        heading = _(
            "📊 PROGRESS DIGEST OF {unit} — {date}",
            unit=figures.unit_name,
            date=_.date(figures.today),
        )
    lines = [
        heading,
        _(
            "Tasks completed: {done}/{total} ({share}%)",
            done=figures.tasks_done,
            total=figures.tasks,
            share=_.number(round(share, 1)),
        ),
        _(
            "Assignments to units completed: {done}/{total}",
            done=figures.count(Status.DONE),
            total=figures.assignments,
        ),
        " · ".join(
            f"{STATUS_ICONS[s]} {_(STATUS_LABELS[s])}: {figures.count(s)}" for s in CHART_ORDER
        ),
        "",
        _(
            "Units that reported this week (since {date}): {reported}/{total}",
            date=_.date(figures.period_start),
            reported=figures.units_reported,
            total=figures.units,
        ),
    ]
    if figures.not_reported:
        lines.append(_("Not reported yet: {names}", names=", ".join(figures.not_reported)))
    if figures.overdue:
        lines += ["", _("🔴 Overdue ({count}):", count=figures.overdue_count)]
        lines += [
            _("- {unit} · {code}: {days} days late", unit=i.unit, code=i.code, days=i.days)
            for i in figures.overdue
        ]
        if figures.overdue_count > len(figures.overdue):
            lines.append(
                _(
                    "… and {count} more (see /export)",
                    count=figures.overdue_count - len(figures.overdue),
                )
            )
    if figures.blockers:
        lines += ["", _("⚠️ New difficulties:")]
        lines += [
            f"- {n.unit} · {n.code}: {shorten(n.text, NOTE_CHARS)}" for n in figures.blockers
        ]
    if figures.proposals:
        lines += ["", _("💡 New proposals:")]
        lines += [
            f"- {n.unit} · {n.code}: {shorten(n.text, NOTE_CHARS)}" for n in figures.proposals
        ]
    return "\n".join(lines)


CHART_ORDER = (Status.DONE, Status.IN_PROGRESS, Status.WAITING, Status.NOT_STARTED, Status.OVERDUE)
CHART_COLOURS = {
    Status.DONE: "#2e7d32",
    Status.IN_PROGRESS: "#1565c0",
    Status.WAITING: "#f9a825",
    Status.NOT_STARTED: "#9e9e9e",
    Status.OVERDUE: "#c62828",
}


def completion_chart(figures: DigestFigures, _: Translator) -> bytes:
    """A PNG bar per unit kind (or the unit's one bar), split by status in percent: readable
    on a phone screen."""
    buffer = BytesIO()
    chart_figure(figures, _).savefig(buffer, format="png")
    return buffer.getvalue()


def chart_figure(figures: DigestFigures, _: Translator) -> Figure:
    """The chart, laid out (title, bars, axis label, legend below, none over another)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    kinds = [k for k in figures.kinds if k.assignments]
    # Room for the title, one bar per kind, the axis label and two rows of legend below it.
    figure = Figure(figsize=(8, 2.4 + 0.8 * max(1, len(kinds))), dpi=110, layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    if figures.unit_name:  # one unit: its own bar, under its own name
        labels = [shorten(figures.unit_name, 22)]
        title = _(
            "Progress of {unit} — {date}", unit=figures.unit_name, date=_.date(figures.today)
        )
    else:
        labels = [_(UNIT_KIND_LABELS[k.kind]) for k in kinds]
        title = _("Progress by unit kind — {date}", date=_.date(figures.today))
    left = [0.0] * len(kinds)
    for status in (
        Status.DONE,
        Status.IN_PROGRESS,
        Status.WAITING,
        Status.NOT_STARTED,
        Status.OVERDUE,
    ):
        values = [100 * figures_of(k, status) / k.assignments for k in kinds]
        axes.barh(
            labels, values, left=left, color=CHART_COLOURS[status], label=_(STATUS_LABELS[status])
        )
        for index, value in enumerate(values):
            if value >= 8:
                axes.text(
                    left[index] + value / 2,
                    index,
                    f"{value:.0f}%",
                    ha="center",
                    va="center",
                    color="white",
                    fontsize=11,
                    fontweight="bold",
                )
        left = [a + b for a, b in zip(left, values, strict=True)]
    axes.set_xlim(0, 100)
    axes.invert_yaxis()
    axes.set_xlabel(_("Share of assignments (%)"))
    axes.set_title(shorten(title, 60), fontsize=13)
    axes.tick_params(labelsize=12)
    figure.legend(loc="outside lower center", ncol=3, fontsize=10, frameon=False)
    return figure


def figures_of(kind: KindSummary, status: Status) -> int:
    return {
        Status.DONE: kind.done,
        Status.IN_PROGRESS: kind.in_progress,
        Status.WAITING: kind.waiting,
        Status.NOT_STARTED: kind.not_started,
        Status.OVERDUE: kind.overdue,
    }[status]


def build_digest(
    session: Session,
    *,
    today: date,
    translator: Translator,
    since: datetime,
    unit_id: int | None = None,
    with_chart: bool = True,
) -> Reply:
    """The digest as one reply: text, and the chart as a photo."""
    figures = digest_figures(
        session, today=today, zone=translator.zone, since=since, unit_id=unit_id
    )
    attachments: tuple[Attachment, ...] = ()
    if with_chart and figures.assignments:
        png = completion_chart(figures, translator)
        attachments = (
            Attachment(
                kind="photo",
                file_name=f"tien-do-{today.isoformat()}.png",
                content_type="image/png",
                data=png,
            ),
        )
    return Reply(
        text=digest_text(figures, translator),
        attachments=attachments,
        language=translator.language,
    )
