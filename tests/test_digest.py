"""The digest's figures against a hand-counted fixture, its text, and its chart."""

from __future__ import annotations

from datetime import timedelta

from locales import Translator
from models.assignments import ReportValues, record_report
from models.db import transaction
from models.enums import Status
from models.tables import Assignment, Officer
from reminders.digest import build_digest, chart_figure, completion_chart, digest_figures
from tests.conftest import NOW, TODAY, ZONE, Province


def report(
    open_session,
    province: Province,
    code: str,
    *,
    unit: str,
    officer: str,
    values: ReportValues,
    days_ago: int = 0,
) -> None:  # type: ignore[no-untyped-def]
    with transaction(open_session) as session:
        assignment = session.get(Assignment, province.assignments[(code, unit)].id)
        reporter = session.get(Officer, province.officers[officer].id)
        assert assignment is not None
        assert reporter is not None
        record_report(
            session,
            assignment=assignment,
            officer=reporter,
            account=None,
            values=values,
            at=NOW - timedelta(days=days_ago),
        )


def test_digest_figures_match_a_hand_count(open_session, province: Province) -> None:
    # Assignments (unit: task → state on Monday 23/11):
    #   Phường Hạ Long: NV-01 done · NV-02 waiting · NV-03 in progress · NV-05 untouched
    #   Xã Ba Chẽ:      NV-01 untouched, overdue (deadline 18/11) · NV-03 untouched · NV-09 done
    report(
        open_session,
        province,
        "NV-01",
        unit="Phường Hạ Long",
        officer="Nguyễn Thu Hà",
        values=ReportValues(Status.DONE, 100, result="Đã ban hành"),
        days_ago=10,
    )
    report(
        open_session,
        province,
        "NV-02",
        unit="Phường Hạ Long",
        officer="Nguyễn Thu Hà",
        values=ReportValues(Status.WAITING, 20, blockers="Chờ hướng dẫn của Sở Nội vụ"),
    )
    report(
        open_session,
        province,
        "NV-03",
        unit="Phường Hạ Long",
        officer="Trần Văn Nam",
        values=ReportValues(Status.IN_PROGRESS, 40, proposals="Đề nghị tập huấn kỹ năng số"),
    )
    report(
        open_session,
        province,
        "NV-09",
        unit="Xã Ba Chẽ",
        officer="Phạm Thị Lan",
        values=ReportValues(Status.DONE, 100),
        days_ago=8,
    )

    with open_session() as session:
        figures = digest_figures(session, today=TODAY, zone=ZONE, since=NOW - timedelta(days=3))
    assert (figures.tasks, figures.tasks_done) == (5, 1), (
        "only NV-09 is done by every unit it was given to"
    )
    assert figures.assignments == 7
    assert [
        figures.count(s)
        for s in (
            Status.DONE,
            Status.IN_PROGRESS,
            Status.WAITING,
            Status.NOT_STARTED,
            Status.OVERDUE,
        )
    ] == [2, 1, 1, 2, 1]
    assert (figures.units, figures.units_reported) == (2, 1), "Ba Chẽ's report was last week"
    assert figures.not_reported == ["Xã Ba Chẽ"]
    assert [(late.unit, late.code, late.days) for late in figures.overdue] == [
        ("Xã Ba Chẽ", "NV-01", 5)
    ]
    assert [(n.unit, n.code, n.text) for n in figures.blockers] == [
        ("Phường Hạ Long", "NV-02", "Chờ hướng dẫn của Sở Nội vụ")
    ]
    assert [n.code for n in figures.proposals] == ["NV-03"]

    with open_session() as session:
        unit = digest_figures(
            session,
            today=TODAY,
            zone=ZONE,
            since=NOW - timedelta(days=3),
            unit_id=province.units["Xã Ba Chẽ"].id,
        )
    assert (unit.tasks, unit.tasks_done, unit.assignments) == (3, 1, 3)
    assert unit.blockers == []

    with open_session() as session:
        reply = build_digest(
            session, today=TODAY, translator=Translator("vi", ZONE), since=NOW - timedelta(days=3)
        )
    text = reply.text
    assert "Nhiệm vụ hoàn thành: 1/5 (20%)" in text
    assert "Lượt giao cho đơn vị đã hoàn thành: 2/7" in text
    assert "Đơn vị đã báo cáo tuần này (từ 23/11/2026): 1/2" in text
    assert "Chưa báo cáo: Xã Ba Chẽ" in text
    assert "- Xã Ba Chẽ · NV-01: quá hạn 5 ngày" in text
    assert "Chờ hướng dẫn của Sở Nội vụ" in text
    assert len(text) < 2000, "short enough for one Zalo message"
    [chart] = reply.attachments
    assert chart.content_type == "image/png"


def test_the_chart_is_a_png_readable_on_a_phone(open_session, province: Province) -> None:
    report(
        open_session,
        province,
        "NV-01",
        unit="Phường Hạ Long",
        officer="Nguyễn Thu Hà",
        values=ReportValues(Status.DONE, 100),
    )
    with open_session() as session:
        figures = digest_figures(session, today=TODAY, zone=ZONE, since=NOW - timedelta(days=7))
    png = completion_chart(figures, Translator("vi", ZONE))
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    assert 600 <= width <= 1600
    assert 200 <= height <= 1200
    assert 5_000 < len(png) < 500_000


def test_a_units_chart_keeps_its_legend_clear_and_its_title_whole(
    open_session, province: Province
) -> None:
    """The officer's small chart: one bar, the title within the picture, the legend below the
    axis label instead of over it."""
    unit = province.units["Phường Hạ Long"]
    with open_session() as session:
        figures = digest_figures(
            session, today=TODAY, zone=ZONE, since=NOW - timedelta(days=7), unit_id=unit.id
        )
    figure = chart_figure(figures, Translator("vi", ZONE))
    canvas = figure.canvas
    canvas.draw()  # type: ignore[attr-defined]
    renderer = canvas.get_renderer()  # type: ignore[attr-defined]
    [axes] = figure.axes
    [legend] = figure.legends
    label = axes.xaxis.label.get_window_extent(renderer)
    box = legend.get_window_extent(renderer)
    assert box.y1 <= label.y0, "the legend sits below the axis label"
    title = axes.title.get_window_extent(renderer)
    page = figure.bbox
    assert page.x0 <= title.x0, "the title fits the picture"
    assert title.x1 <= page.x1, "the title fits the picture"
    assert axes.title.get_text() == "Tiến độ của Phường Hạ Long — 23/11/2026"
    assert [t.get_text() for t in axes.get_yticklabels()] == ["Phường Hạ Long"]
