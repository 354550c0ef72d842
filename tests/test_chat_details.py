"""What officers type in real chats: quick reports written loosely, codes without dashes, a
figure with its unit, a wrong number at a menu."""

from __future__ import annotations

from sqlmodel import select

from models.db import SessionFactory, transaction
from models.tables import Report, Task
from tests.conftest import Province, rows


def last_report(open_session: SessionFactory) -> Report:
    with open_session() as session:
        return session.exec(select(Report).order_by(Report.id.desc())).first()  # type: ignore[union-attr]


def test_a_quick_report_written_loosely_keeps_what_was_meant(chat_as, open_session) -> None:
    ha = chat_as("Nguyễn Thu Hà")
    assert "Đã lưu ✅" in ha.say("/baocao nv-03 50 % Đã họp triển khai")
    report = last_report(open_session)
    assert (report.percent, report.result) == (50, "Đã họp triển khai")
    assert "Đã lưu ✅" in ha.say("/baocao NV03 55% Đã tập huấn"), "NV03 is NV-03"
    assert last_report(open_session).percent == 55


def test_a_quick_report_carries_the_indicators_value(chat_as, open_session) -> None:
    ha = chat_as("Nguyễn Thu Hà")
    answer = ha.say("/baocao NV-05 60% 96,5; đã giải quyết đúng hạn 620 hồ sơ")
    assert "Tỷ lệ hồ sơ giải quyết đúng hạn: 96,5 %" in answer
    report = last_report(open_session)
    assert (report.percent, report.indicator_value) == (60, 96.5)
    assert report.result == "đã giải quyết đúng hạn 620 hồ sơ"
    ha.say("/baocao NV-05 65% 97")
    assert last_report(open_session).indicator_value == 97
    assert last_report(open_session).result is None
    ha.say("/baocao NV-03 70% 3 hội nghị đã tổ chức")
    report = last_report(open_session)
    assert (report.indicator_value, report.result) == (None, "3 hội nghị đã tổ chức"), (
        "a task without an indicator takes the number as part of the result"
    )
    assert "/baocao MÃ 60% 620; nội dung đã làm" in ha.say("/trogiup")


def test_the_indicator_step_reads_a_figure_with_its_unit(chat_as, open_session) -> None:
    ha = chat_as("Nguyễn Thu Hà")
    ha.say("/baocao NV-05")
    ha.press("Đang thực hiện")
    ha.say("60")
    assert "Chỉ tiêu" in ha.text
    assert "Đã thực hiện được những gì" in ha.say("700 hồ sơ")
    ha.say("Đã giải quyết")
    ha.press("Không có vướng mắc")
    ha.press("Không có kiến nghị")
    ha.press("Không có minh chứng")
    ha.press("Lưu")
    assert last_report(open_session).indicator_value == 700


def test_only_saved_figures_are_called_the_last_report(chat_as) -> None:
    ha = chat_as("Nguyễn Thu Hà")
    ha.say("/baocao NV-03 40% Đã họp")
    ha.say("/baocao NV-03")
    ha.press("Đang thực hiện")
    assert "Lần báo cáo trước: 40%." in ha.text
    ha.say("90")
    answer = ha.press("Quay lại")
    assert "Lần báo cáo trước: 40%." in answer, "90 was typed, not saved"
    assert "90%" not in answer


def test_long_titles_are_shortened_with_an_ellipsis(
    chat_as, open_session, province: Province
) -> None:
    with transaction(open_session) as session:
        task = session.exec(select(Task).where(Task.code == "NV-02")).one()
        task.title = (
            "Kiện toàn Ban Chỉ đạo cấp xã về phát triển khoa học, công nghệ, đổi mới sáng tạo "
            "và chuyển đổi số"
        )
        session.add(task)
    ha = chat_as("Nguyễn Thu Hà")
    ha.say("/baocao")
    [label] = [c.label for c in ha.replies[-1].choices if "NV-02" in c.label]
    assert label.endswith("…")
    assert len(label) < 60
    ha.say("/baocao NV-02 10% Đã dự thảo")
    ha.say("/sua")
    [fix] = [c.label for c in ha.replies[-1].choices if "NV-02" in c.label]
    assert fix.endswith("…")


def test_a_wrong_number_says_so_and_shows_the_same_menu(chat_as, open_session) -> None:
    ha = chat_as("Nguyễn Thu Hà")
    ha.say("/trogiup")
    answer = ha.say("7")
    assert answer.startswith("Không có lựa chọn số 7: hãy trả lời bằng một số từ 1 đến 4.")
    assert "1. 📋 Nhiệm vụ của tôi" in answer
    assert "Xin lỗi, tôi chưa hiểu" not in answer, "not the whole help"
    assert "Nhiệm vụ của Phường Hạ Long" in ha.say("1"), "the menu shown again still works"
    ha.say("/baocao")
    answer = ha.say("9")
    assert "Không có lựa chọn số 9" in answer
    assert "không thuộc" not in answer, "not 'not your task'"
    assert "Bạn báo cáo nhiệm vụ nào?" in answer
    assert rows(open_session, Report) == []
