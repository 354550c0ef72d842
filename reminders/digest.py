"""The digest for the secretariat's group (or one unit's): figures computed in SQL, a short text
readable on a phone, and a chart."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo
from io import BytesIO
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlmodel import Session, col

from locales import Translator
from locales.collation import sort_key
from locales.text import shorten
from models.board import by_unit_kind, task_completion
from models.enums import Status
from models.figures import KindSummary, progress_by_unit
from models.labels import STATUS_ICONS, STATUS_LABELS, UNIT_KIND_LABELS
from models.messages import Attachment, Reply
from models.tables import Assignment, Report, Task, Unit

if TYPE_CHECKING:
    from matplotlib.figure import Figure

LIST_LIMIT = 10
NAMES_LIMIT = 60  # of units not reported yet: a province's, not a country's
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
    """Every figure of the digest: one pass over the assignments (per unit, then summed), the
    tasks' completion, and the few rows each list shows (LIMIT in SQL, never all of them)."""
    period_start = today - timedelta(days=today.weekday())  # the reporting week, from Monday
    unit = session.get(Unit, unit_id) if unit_id is not None else None
    figures = DigestFigures(
        today=today, period_start=period_start, since=since, unit_name=unit.name if unit else None
    )
    in_scope = sa.true() if unit_id is None else col(Assignment.unit_id) == unit_id
    week_start = datetime.combine(period_start, time(), tzinfo=zone)
    units = progress_by_unit(session, today=today, period_start=week_start, unit_id=unit_id)
    figures.kinds = by_unit_kind(units)
    figures.tasks, figures.tasks_done = task_completion(session, unit_id=unit_id)
    figures.units = len(units)
    figures.units_reported = sum(1 for u in units if u.reported_in_period)
    figures.not_reported = sorted(
        (u.name for u in units if not u.reported_in_period), key=sort_key
    )
    figures.overdue_count = sum(u.overdue for u in units)
    late = session.execute(
        sa.select(col(Unit.name), col(Task.code), col(Task.title), col(Task.deadline))
        .join(Assignment, col(Assignment.unit_id) == Unit.id)
        .join(Task, col(Task.id) == Assignment.task_id)
        .where(in_scope, col(Assignment.status) != Status.DONE, col(Task.deadline) < today)
        .order_by(col(Task.deadline), col(Unit.name))
        .limit(LIST_LIMIT)
    ).all()
    figures.overdue = [Late(u, c, t, (today - d).days) for u, c, t, d in late]

    def noted(column: Any) -> list[Note]:
        rows = session.execute(
            sa.select(col(Unit.name), col(Task.code), column)
            .join(Assignment, col(Assignment.id) == Report.assignment_id)
            .join(Unit, col(Unit.id) == Assignment.unit_id)
            .join(Task, col(Task.id) == Assignment.task_id)
            .where(in_scope, col(Report.created_at) >= since, column.is_not(None))
            .order_by(col(Report.created_at).desc())
            .limit(LIST_LIMIT)
        ).all()
        return [Note(u, c, text) for u, c, text in rows]

    figures.blockers = noted(col(Report.blockers))
    figures.proposals = noted(col(Report.proposals))
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
        shown = figures.not_reported[:NAMES_LIMIT]
        names = ", ".join(shown)
        if len(figures.not_reported) > len(shown):
            names += " " + _(
                "… and {count} more (see the board)", count=len(figures.not_reported) - len(shown)
            )
        lines.append(_("Not reported yet: {names}", names=names))
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
