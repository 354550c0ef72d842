"""Linking accounts with invite codes, and the rule that an officer only sees their own unit."""

from __future__ import annotations

from datetime import timedelta

import pytest

from models.enums import Status
from models.tables import ChannelAccount, Invite, Report
from tests.conftest import NOW, Province, rows


def test_new_officer_links_with_an_invite_code_and_sees_their_tasks(
    chat_as, invite_for, open_session, province: Province
) -> None:
    code = invite_for("Phạm Thị Lan")
    lan = chat_as(None, account="zalo-7f3a9c")
    assert "chưa được liên kết" in lan.say("/nhiemvu")
    answer = lan.say(f"/start {code.lower()}")
    assert "Liên kết thành công! Xin chào Phạm Thị Lan (Xã Ba Chẽ)" in answer
    tasks = lan.say("/nhiemvu")
    assert "Nhiệm vụ của Xã Ba Chẽ" in tasks
    assert "NV-09" in tasks
    assert "NV-02" not in tasks, "Phường Hạ Long's task is not shown to Xã Ba Chẽ"
    [account] = [a for a in rows(open_session, ChannelAccount) if a.external_id == "zalo-7f3a9c"]
    assert account.officer_id == province.officers["Phạm Thị Lan"].id
    [invite] = rows(open_session, Invite)
    assert invite.used_by_account_id == account.id


def test_a_code_cannot_be_used_twice(chat_as, invite_for) -> None:
    code = invite_for("Phạm Thị Lan")
    chat_as(None, account="first").say(f"/start {code}")
    second = chat_as(None, account="second")
    assert f"Mã {code} đã được sử dụng" in second.say(f"/start {code}")
    assert "chưa được liên kết" in second.say("/baocao")


def test_an_unknown_or_expired_code_links_nothing(chat_as, invite_for, open_session) -> None:
    stranger = chat_as(None, account="stranger")
    assert "Mã ZZZZ2222 không hợp lệ" in stranger.say("/start ZZZZ2222")
    expired = invite_for("Phạm Thị Lan", now=NOW - timedelta(days=20), ttl=timedelta(days=14))
    assert "đã hết hạn ngày" in stranger.say(f"/start {expired}")
    assert all(a.officer_id is None for a in rows(open_session, ChannelAccount))


@pytest.mark.parametrize("message", ["xin chào", "/baocao NV-01 50%", "/sua", "/nhiemvu", "/xyz"])
def test_an_unlinked_account_is_told_how_to_link(chat_as, open_session, message: str) -> None:
    stranger = chat_as(None, account="stranger")
    answer = stranger.say(message)
    assert "/start" in answer
    assert rows(open_session, Report) == []


def test_tasks_list_overdue_first_with_vietnamese_dates(chat_as) -> None:
    tasks = chat_as("Nguyễn Thu Hà").say("/nhiemvu")
    lines = tasks.splitlines()
    first_task = next(line for line in lines if "NV-" in line)
    assert "NV-01" in first_task
    assert "Quá hạn · 0% · hạn 18/11/2026, quá hạn 5 ngày" in tasks
    assert "hạn 13/12/2026, còn 20 ngày" in tasks
    assert "tổng số 4, đã hoàn thành 0, quá hạn 1" in tasks


def test_a_forged_button_for_another_units_task_is_refused(
    chat_as, open_session, province: Province
) -> None:
    ha = chat_as("Nguyễn Thu Hà")
    ba_che_task = province.assignments[("NV-09", "Xã Ba Chẽ")].id
    for data in (f"rep:{ba_che_task}", f"fix:{ba_che_task}", "rep:999999", "rep:abc"):
        ha.send(choice=data)
        assert "Nhiệm vụ đó không thuộc Phường Hạ Long" in ha.text
    ha.say("/baocao")
    token = ha.button("NV-01").data.split(":")[0]
    ha.send(choice=f"{token}:a{ba_che_task}")
    assert "Nhiệm vụ đó không thuộc Phường Hạ Long. Vui lòng chọn trong danh sách." in ha.text
    assert rows(open_session, Report) == []


def test_another_units_task_code_is_refused_everywhere(chat_as, open_session) -> None:
    ha = chat_as("Nguyễn Thu Hà")
    assert "Nhiệm vụ NV-09 không thuộc các nhiệm vụ của Phường Hạ Long" in ha.say(
        "/baocao NV-09 50% xong"
    )
    assert "không thuộc" in ha.say("/baocao NV-404")
    assert "không thuộc" in ha.say("/sua NV-09")
    ha.say("/baocao")
    assert "không thuộc Phường Hạ Long" in ha.say("NV-09")
    assert rows(open_session, Report) == []


def test_anything_unexpected_gets_what_the_bot_can_do(chat_as) -> None:
    ha = chat_as("Nguyễn Thu Hà")
    answer = ha.say("alo alo")
    assert "Xin lỗi, tôi chưa hiểu ý bạn." in answer
    assert "/baocao" in answer
    assert "📋 Nhiệm vụ của tôi" in answer
    assert "Không có thao tác nào để hủy" in ha.say("/huy")
    assert "/sua" in ha.say("/help")


def test_english_on_request_for_this_account_only(chat_as) -> None:
    ha = chat_as("Nguyễn Thu Hà")
    assert "I will speak English from now on." in ha.say("/lang en")
    tasks = ha.say("/tasks")
    assert "Tasks of Phường Hạ Long: 4 in all, 0 completed, 1 overdue." in tasks
    assert "Overdue · 0% · deadline 18/11/2026, 5 days late" in tasks
    assert "Which task are you reporting on?" in ha.say("/report")
    assert "Từ giờ tôi sẽ trả lời bằng tiếng Việt" in ha.say("/lang vi")
    nam = chat_as("Trần Văn Nam")
    assert "Nhiệm vụ của Phường Hạ Long" in nam.say("/nhiemvu")


def test_language_menu_by_button(chat_as) -> None:
    ha = chat_as("Nguyễn Thu Hà")
    ha.say("/lang")
    assert "I will speak English" in ha.press("English")


def test_group_chatter_is_ignored(chat_as) -> None:
    from models.enums import ChatKind

    ha = chat_as("Nguyễn Thu Hà")
    ha.chat_kind = ChatKind.GROUP
    assert ha.send(text="Mọi người nhớ nộp báo cáo nhé") == []


def test_quick_report_in_one_message(chat_as, open_session) -> None:
    ha = chat_as("Nguyễn Thu Hà")
    answer = ha.say("/baocao NV-03 60% Đã trình dự thảo kế hoạch")
    assert "Đã lưu ✅" in answer
    assert "Tiến độ: 60%" in answer
    assert "Muốn sửa, gửi /sua NV-03" in answer
    assert "Đã lưu" in ha.say("/report nv-02 100%")
    first, second = rows(open_session, Report)
    assert (first.status, first.percent, first.result) == (
        Status.IN_PROGRESS,
        60,
        "Đã trình dự thảo kế hoạch",
    )
    assert (second.status, second.percent, second.result) == (Status.DONE, 100, None)


@pytest.mark.parametrize("percent", ["abc", "150", "-5", "6O%"])
def test_quick_report_with_a_bad_percent_saves_nothing(
    chat_as, open_session, percent: str
) -> None:
    answer = chat_as("Nguyễn Thu Hà").say(f"/baocao NV-03 {percent} Đã họp")
    assert "không phải tỷ lệ từ 0 đến 100" in answer
    assert "Ví dụ: /baocao NV-03 60%" in answer
    assert rows(open_session, Report) == []


def test_quick_report_with_only_a_code_starts_the_guided_report_at_that_task(chat_as) -> None:
    answer = chat_as("Nguyễn Thu Hà").say("/baocao NV-03")
    assert "NV-03 · Triển khai phong trào" in answer
    assert "Tình trạng hiện nay thế nào?" in answer


def test_a_photo_outside_a_report_says_how_to_attach_it(chat_as, open_session) -> None:
    from models.tables import Evidence

    answer = chat_as("Nguyễn Thu Hà").attach("bien-ban.pdf", b"%PDF-1.7", "application/pdf")
    assert "gửi /baocao, rồi đính kèm" in answer
    assert rows(open_session, Evidence) == []
