"""Correcting a report: a new version supersedes the old one, and the history stays."""

from __future__ import annotations

from models.enums import Status
from models.tables import Assignment, Report
from tests.conftest import Province, rows


def test_officer_corrects_a_wrong_percent_and_the_history_is_kept(
    chat_as, open_session, province: Province
) -> None:
    ha = chat_as("Nguyễn Thu Hà")
    ha.say("/baocao NV-03 80% Đã triển khai tại 8/10 khu phố")
    summary = ha.say("/sua NV-03")
    assert "Bạn đang sửa báo cáo" in summary
    assert "Tiến độ: 80%" in summary
    ha.press("Sửa")
    ha.press("Tiến độ (%)")
    assert "Tiến độ: 60%" in ha.say("60")
    ha.press("Lưu")

    original, correction = rows(open_session, Report)
    assert (original.percent, original.version, original.supersedes_id) == (80, 1, None)
    assert (correction.percent, correction.version, correction.supersedes_id) == (
        60,
        2,
        original.id,
    )
    assert correction.result == original.result == "Đã triển khai tại 8/10 khu phố"
    with open_session() as session:
        current = session.get(Assignment, province.assignments[("NV-03", "Phường Hạ Long")].id)
        assert current is not None
        assert (current.percent, current.status) == (60, Status.IN_PROGRESS)


def test_correction_menu_lists_reported_tasks(chat_as) -> None:
    ha = chat_as("Nguyễn Thu Hà")
    assert "chưa báo cáo nhiệm vụ nào" in ha.say("/sua")
    ha.say("/baocao NV-02 100% Đã kiện toàn")
    ha.say("/sua")
    assert "Bạn đang sửa báo cáo" in ha.press("NV-02")


def test_a_colleagues_report_can_be_corrected_by_the_lead_only(chat_as, open_session) -> None:
    chat_as("Nguyễn Thu Hà").say("/baocao NV-03 50% Đã họp")
    nam = chat_as("Trần Văn Nam")
    assert "do đồng nghiệp khác gửi" in nam.say("/sua NV-03")
    lead = chat_as("Lê Minh Tuấn")
    lead.say("/sua NV-03")
    lead.press("Lưu")
    assert [r.version for r in rows(open_session, Report)] == [1, 2]


def test_a_report_corrected_twice_at_once_keeps_one_line_of_history(chat_as, open_session) -> None:
    ha = chat_as("Nguyễn Thu Hà")
    ha.say("/baocao NV-03 50% Đã họp")
    lead = chat_as("Lê Minh Tuấn")
    ha.say("/sua NV-03")
    lead.say("/sua NV-03")
    ha.press("Lưu")
    assert "vừa được sửa bởi người khác" in lead.press("Lưu")
    assert [r.version for r in rows(open_session, Report)] == [1, 2]


def test_correcting_before_any_report_says_so(chat_as) -> None:
    assert "chưa có báo cáo nào để sửa" in chat_as("Nguyễn Thu Hà").say("/sua NV-02")
