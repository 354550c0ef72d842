"""The guided report, told as officers live it."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlmodel import col

from handlers.context import HandlerConfig
from models.db import SessionFactory, session_factory
from models.enums import Status
from models.tables import Assignment, Conversation, Evidence, Report
from tests.conftest import Chat, Province, rows


def assignment(
    open_session: SessionFactory, province: Province, code: str, unit: str
) -> Assignment:
    with open_session() as session:
        found = session.get(Assignment, province.assignments[(code, unit)].id)
        assert found is not None
        return found


def test_officer_reports_60_percent_with_a_photo_by_tapping(
    chat_as, open_session, province: Province
) -> None:
    ha = chat_as("Nguyễn Thu Hà")
    assert "Bạn báo cáo nhiệm vụ nào?" in ha.say("/baocao")
    assert "Tình trạng hiện nay" in ha.press("NV-03")
    assert "bao nhiêu phần trăm" in ha.press("Đang thực hiện")
    assert "Đã thực hiện được những gì" in ha.say("60%")
    assert "khó khăn, vướng mắc" in ha.say("Đã trình dự thảo kế hoạch")
    assert "kiến nghị" in ha.press("Không có vướng mắc")
    assert "minh chứng" in ha.say("Đề nghị Sở KH&CN hỗ trợ tập huấn")
    assert "Đã nhận ke-hoach.jpg" in ha.attach("ke-hoach.jpg", b"\xff\xd8\xff fake jpeg")
    summary = ha.press("Tiếp tục")
    assert "Vui lòng kiểm tra lại báo cáo" in summary
    assert "Tiến độ: 60%" in summary
    assert "Minh chứng: 1 tệp" in summary
    assert rows(open_session, Report) == [], "nothing is stored before the officer confirms"

    assert "Đã lưu ✅" in ha.press("Lưu")

    [report] = rows(open_session, Report)
    assert (report.status, report.percent) == (Status.IN_PROGRESS, 60)
    assert report.result == "Đã trình dự thảo kế hoạch"
    assert report.blockers is None
    assert report.proposals == "Đề nghị Sở KH&CN hỗ trợ tập huấn"
    assert report.officer_id == province.officers["Nguyễn Thu Hà"].id
    [evidence] = rows(open_session, Evidence)
    assert (evidence.report_id, evidence.data) == (report.id, b"\xff\xd8\xff fake jpeg")
    current = assignment(open_session, province, "NV-03", "Phường Hạ Long")
    assert (current.status, current.percent, current.last_reported_at) == (
        Status.IN_PROGRESS,
        60,
        report.created_at,
    )
    assert rows(open_session, Conversation) == []


def test_the_same_report_by_typing_numbers_as_on_zalo(
    chat_as, open_session, province: Province
) -> None:
    ha = chat_as("Nguyễn Thu Hà")
    menu = ha.say("/baocao")
    number = next(line.split(".")[0] for line in menu.splitlines() if "NV-02" in line)
    ha.say(number)
    ha.say("4")  # Đã hoàn thành: the percent is implied, blockers are not asked
    assert "Đã thực hiện được những gì" in ha.text
    assert "kiến nghị" in ha.say("Đã ban hành quyết định kiện toàn")
    ha.say("1")  # Không có kiến nghị
    ha.say("1")  # Không có minh chứng
    assert "Tiến độ: 100%" in ha.text
    ha.say("1")  # Lưu
    [report] = rows(open_session, Report)
    assert (report.status, report.percent, report.blockers) == (Status.DONE, 100, None)


def test_waiting_for_guidance_requires_saying_what_is_awaited(chat_as, open_session) -> None:
    ha = chat_as("Nguyễn Thu Hà")
    ha.say("/baocao NV-01")
    ha.press("Chờ hướng dẫn")
    ha.say("30")
    ha.press("Chưa có")  # result may be skipped while waiting
    question = ha.text
    assert "Đang chờ hướng dẫn hoặc quy trình gì" in question
    assert "Không có vướng mắc" not in question
    assert "Vui lòng gõ câu trả lời ngắn" in ha.say("   ")
    ha.say("Chờ Bộ KH&CN ban hành mẫu biểu")
    ha.press("Không có kiến nghị")
    ha.press("Không có minh chứng")
    ha.press("Lưu")
    [report] = rows(open_session, Report)
    assert (report.status, report.percent, report.result) == (Status.WAITING, 30, None)
    assert report.blockers == "Chờ Bộ KH&CN ban hành mẫu biểu"


def test_indicator_value_is_asked_and_read_the_vietnamese_way(
    chat_as, open_session, province
) -> None:
    ha = chat_as("Nguyễn Thu Hà")
    ha.say("/baocao NV-05")
    ha.press("Đang thực hiện")
    assert "Chỉ tiêu: Tỷ lệ hồ sơ giải quyết đúng hạn" in ha.say("80")
    assert "Mục tiêu: 98,5 %" in ha.text
    assert "không phải là số" in ha.say("khoảng chín mươi")
    ha.say("96,7")
    ha.say("Đã giải quyết 1.234 hồ sơ")
    ha.press("Không có vướng mắc")
    ha.press("Không có kiến nghị")
    assert "Tỷ lệ hồ sơ giải quyết đúng hạn: 96,7 %" in ha.press("Không có minh chứng")
    ha.press("Lưu")
    [report] = rows(open_session, Report)
    assert report.indicator_value == pytest.approx(96.7)
    assert assignment(
        open_session, province, "NV-05", "Phường Hạ Long"
    ).indicator_value == pytest.approx(96.7)


@pytest.mark.parametrize("typed", ["abc", "150", "-5", "60 phần trăm", "", "1e3"])
def test_a_bad_percent_is_explained_and_the_question_asked_again(
    chat_as, open_session, typed: str
) -> None:
    ha = chat_as("Nguyễn Thu Hà")
    ha.say("/baocao NV-03")
    ha.press("Đang thực hiện")
    answer = ha.say(typed)
    assert "Gõ một số nguyên từ 0 đến 100" in answer
    assert "bao nhiêu phần trăm" in answer
    assert "Đã thực hiện được những gì" in ha.say("25"), "the conversation stayed where it was"


def test_a_20000_character_answer_is_refused_and_nothing_is_lost(chat_as, open_session) -> None:
    ha = chat_as("Nguyễn Thu Hà")
    ha.say("/baocao NV-03")
    ha.press("Đang thực hiện")
    ha.say("40")
    answer = ha.say("x" * 20_000)
    assert "Nội dung quá dài (20.000 ký tự)" in answer
    assert "Đã thực hiện được những gì" in answer
    ha.say("Đã họp triển khai")
    ha.press("Không có vướng mắc")
    ha.press("Không có kiến nghị")
    assert "Tiến độ: 40%" in ha.press("Không có minh chứng"), "earlier answers were kept"


def test_emoji_and_combining_accents_are_stored_as_typed_composed(chat_as, open_session) -> None:
    ha = chat_as("Nguyễn Thu Hà")
    ha.say("/baocao NV-03")
    ha.press("Đang thực hiện")
    ha.say("50")
    decomposed = "Đa\u0303 ho\u0323p tri\u00ea\u0309n khai 👍🏽 👨‍👩‍👧"
    ha.say(decomposed)
    ha.press("Không có vướng mắc")
    ha.press("Không có kiến nghị")
    ha.press("Không có minh chứng")
    ha.press("Lưu")
    [report] = rows(open_session, Report)
    assert report.result == "Đã họp triển khai 👍🏽 👨‍👩‍👧"


def test_back_and_edit_change_an_answer_before_saving(chat_as, open_session) -> None:
    ha = chat_as("Nguyễn Thu Hà")
    ha.say("/baocao NV-03")
    ha.press("Đang thực hiện")
    ha.say("30")
    assert "bao nhiêu phần trăm" in ha.press("Quay lại")
    ha.say("35")
    ha.say("Đã xây dựng dự thảo")
    ha.press("Không có vướng mắc")
    ha.press("Không có kiến nghị")
    ha.press("Không có minh chứng")
    ha.press("Sửa")
    assert "Bạn muốn sửa mục nào?" in ha.text
    ha.press("Tiến độ (%)")
    summary = ha.say("45")
    assert "Vui lòng kiểm tra lại báo cáo" in summary, "after an edit the summary comes back"
    assert "Tiến độ: 45%" in summary
    ha.press("Sửa")
    ha.press("Tình trạng")
    summary = ha.press("Đã hoàn thành")
    assert "Tiến độ: 100%" in summary
    ha.press("Lưu")
    [report] = rows(open_session, Report)
    assert (report.status, report.percent, report.result) == (
        Status.DONE,
        100,
        "Đã xây dựng dự thảo",
    )


def test_cancel_stores_nothing_and_drops_staged_files(chat_as, open_session) -> None:
    ha = chat_as("Nguyễn Thu Hà")
    ha.say("/baocao NV-03")
    ha.press("Đang thực hiện")
    ha.attach("anh.jpg", b"jpeg")
    assert "Tệp sẽ được đính kèm" in ha.text
    assert len(rows(open_session, Evidence)) == 1
    assert "Đã hủy. Không có gì được lưu." in ha.say("/huy")
    assert rows(open_session, Report) == []
    assert rows(open_session, Evidence) == []
    assert rows(open_session, Conversation) == []


def test_a_new_report_mid_flow_starts_over_without_the_files_staged(
    chat_as, engine, open_session
) -> None:
    ha = chat_as("Nguyễn Thu Hà")
    ha.say("/baocao NV-03")
    ha.press("Đang thực hiện")
    ha.attach("anh.jpg", b"jpeg")
    old_button = ha.button("Quay lại")  # of the first report's percent question
    assert len(rows(open_session, Evidence)) == 1
    [before] = rows(open_session, Conversation)

    sent: list[str] = []

    def record(*args: object) -> None:
        sent.append(str(args[2]))  # the statement's SQL

    sa.event.listen(engine, "before_cursor_execute", record)
    assert "Tình trạng hiện nay" in ha.say("/baocao NV-02")
    sa.event.remove(engine, "before_cursor_execute", record)
    assert rows(open_session, Evidence) == [], "the first report's file went with it"
    [after] = rows(open_session, Conversation)  # its row, taken over by the new report
    assert (after.id, after.flow, after.step) == (before.id, "report", "status")
    assert not [s for s in sent if s.startswith(("DELETE FROM conversation", "INSERT INTO conv"))]
    ha.send(choice=old_button.data)
    assert "Nút này thuộc một tin nhắn cũ" in ha.text
    ha.press("Đã hoàn thành")
    ha.say("Đã ban hành")
    ha.press("Không có kiến nghị")
    summary = ha.press("Không có minh chứng")
    assert "Minh chứng" not in summary
    assert "Đã lưu ✅" in ha.press("Lưu")
    [report] = rows(open_session, Report)
    assert report.result == "Đã ban hành"
    assert rows(open_session, Evidence) == []
    assert rows(open_session, Conversation) == []


def test_a_unit_with_no_tasks_is_told_so_and_no_report_begins(
    chat_as, open_session, province: Province
) -> None:
    ha = chat_as("Nguyễn Thu Hà")
    unit_id = province.officers["Nguyễn Thu Hà"].unit_id
    with open_session() as session:
        session.execute(sa.delete(Assignment).where(col(Assignment.unit_id) == unit_id))
        session.commit()
    assert "Phường Hạ Long chưa được giao nhiệm vụ nào." in ha.say("/baocao")
    assert rows(open_session, Conversation) == []


def test_a_restart_in_the_middle_continues_where_it_was(
    chat_as, engine, config: HandlerConfig, open_session
) -> None:
    ha = chat_as("Nguyễn Thu Hà")
    ha.say("/baocao NV-03")
    ha.press("Đang thực hiện")
    ha.say("70")
    engine.dispose()  # the process goes away: nothing of the conversation lives in memory

    restarted = Chat(ha.name, open_session=session_factory(engine), config=config)
    restarted.now = ha.now
    assert "khó khăn" in restarted.say("Đã hoàn thành 7/10 tổ dân phố")
    restarted.say("1")  # Không có vướng mắc, by number from the menu stored before the restart
    restarted.say("1")
    restarted.say("1")
    restarted.say("1")
    [report] = rows(open_session, Report)
    assert (report.percent, report.result) == (70, "Đã hoàn thành 7/10 tổ dân phố")


def test_a_button_from_an_old_message_is_recognised(chat_as, open_session) -> None:
    ha = chat_as("Nguyễn Thu Hà")
    ha.say("/baocao NV-03")
    old_status_button = ha.button("Đã hoàn thành")
    ha.press("Đang thực hiện")
    ha.send(choice=old_status_button.data)
    assert "Nút này thuộc một tin nhắn cũ" in ha.text
    assert "bao nhiêu phần trăm" in ha.text
    assert "Đã thực hiện được những gì" in ha.say("10")


def test_text_at_a_menu_gets_a_hint_and_the_menu_again(chat_as) -> None:
    ha = chat_as("Nguyễn Thu Hà")
    ha.say("/baocao NV-03")
    answer = ha.say("xong rồi")
    assert "Vui lòng chọn một tình trạng" in answer
    assert "1. ⚪ Chưa triển khai" in answer
    answer = ha.say("9")
    assert "Không có lựa chọn số 9: hãy trả lời bằng một số từ 1 đến 6." in answer
    assert "1. ⚪ Chưa triển khai" in answer, "the same menu again"
    assert "Tình trạng hiện nay thế nào?" in ha.say("9"), "still at the status step"
    assert "bao nhiêu phần trăm" in ha.say("2")


def test_a_duplicated_delivery_is_handled_once(chat_as, open_session) -> None:
    ha = chat_as("Nguyễn Thu Hà")
    ha.say("/baocao NV-02")
    ha.press("Đã hoàn thành")
    ha.say("Đã ban hành")
    ha.press("Không có kiến nghị")
    ha.press("Không có minh chứng")
    save = ha.button("Lưu").data
    assert ha.send(choice=save, delivery_id="update-42")
    assert ha.send(choice=save, delivery_id="update-42") == []
    assert len(rows(open_session, Report)) == 1


def test_a_report_left_half_done_for_a_week_is_set_aside(chat_as, open_session) -> None:
    from datetime import timedelta

    ha = chat_as("Nguyễn Thu Hà")
    ha.say("/baocao NV-03")
    ha.press("Đang thực hiện")
    ha.now += timedelta(days=8)
    answer = ha.say("60")
    assert "Báo cáo đang làm dở từ ngày 23/11/2026 đã được bỏ qua" in answer
    assert "Xin lỗi, tôi chưa hiểu ý bạn" in answer, "the stray message is not taken as a percent"
    assert rows(open_session, Conversation) == []
    assert rows(open_session, Report) == []


def test_the_task_menu_pages_open_tasks_overdue_first_then_by_deadline(
    chat_as, open_session, province: Province
) -> None:
    """The menu is read a page at a time from the database: the open tasks only, the overdue
    ones first, then by deadline; done tasks appear again once every task is done."""
    from datetime import timedelta

    from sqlmodel import select

    from handlers.report import TASKS_PER_PAGE
    from models.db import transaction
    from models.tables import Task
    from tests.conftest import TODAY, add_task

    unit = "Phường Hạ Long"
    with transaction(open_session) as session:
        for n in range(1, 13):  # deadlines from 10 days ago to 12 days ahead
            add_task(
                session,
                province,
                code=f"KH-{n:02d}",
                title=f"Kế hoạch số {n}",
                deadline=TODAY + timedelta(days=2 * n - 12),
                unit_names=[unit],
            )
        for code in ("KH-02", "KH-07"):
            done = session.get(Assignment, province.assignments[(code, unit)].id)
            assert done is not None
            done.status = Status.DONE
            session.add(done)
    with open_session() as session:
        every = session.exec(
            select(Task, Assignment)
            .join(Assignment, Assignment.task_id == Task.id)  # type: ignore[arg-type]
            .where(Assignment.unit_id == province.units[unit].id)
        ).all()
    open_tasks = [t for t, a in every if a.status != Status.DONE]
    overdue = sorted(
        (t for t in open_tasks if t.deadline < TODAY), key=lambda t: (t.deadline, t.code)
    )
    rest = sorted(
        (t for t in open_tasks if t.deadline >= TODAY), key=lambda t: (t.deadline, t.code)
    )
    expected = [t.code for t in overdue + rest]

    ha = chat_as("Nguyễn Thu Hà")
    ha.say("/baocao")
    first = [c.label for r in ha.replies for c in r.choices if " · " in c.label]
    assert [label.split()[1] for label in first] == expected[:TASKS_PER_PAGE]
    ha.press("Nhiệm vụ khác")
    second = [c.label for r in ha.replies for c in r.choices if " · " in c.label]
    assert [label.split()[1] for label in second] == expected[TASKS_PER_PAGE:]
    assert not any(code in " ".join(first + second) for code in ("KH-02", "KH-07"))
    assert "Tình trạng hiện nay" in ha.press(expected[-1])
    ha.say("/huy")

    with transaction(open_session) as session:
        for _task, listed in every:
            done = session.get(Assignment, listed.id)
            assert done is not None
            done.status = Status.DONE
            session.add(done)
    ha.say("/baocao")
    shown = [c.label.split()[1] for r in ha.replies for c in r.choices if " · " in c.label]
    assert len(shown) == TASKS_PER_PAGE, "every task is offered again once all are done"
    assert ha.button("Nhiệm vụ khác")
