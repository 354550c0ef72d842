"""The web board, tested as the secretariat and an officer use it: in Debian's chromium, against
the real `python -m bot web` process, signing in through real one-time links."""

from __future__ import annotations

import io
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from openpyxl import load_workbook
from sqlmodel import select

from handlers.context import HandlerConfig
from models.db import SessionFactory, transaction
from models.tables import Evidence, Officer, Report, Task
from models.web_access import create_login_link, end_sessions_of
from tests.conftest import ZONE, Chat, Province, rows
from tests.office_files import xlsx
from tests.web_harness import WebProcess

PHOTO = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00"
    b"\x90wS\xde\x00\x00\x00\x0cIDATx\x9cc\xf8\xcf\xc0\x00\x00\x03\x01\x01\x00\xc9\xfe\x92\xef"
    b"\x00\x00\x00\x00IEND\xaeB`\x82"
)
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def link_for(open_session: SessionFactory, web: WebProcess, name: str, **late: Any) -> str:
    """A real one-time sign-in link, as the bot's /web gives it."""
    now = datetime.now(UTC) - late.get("ago", timedelta())
    with transaction(open_session) as session:
        officer = session.exec(select(Officer).where(Officer.full_name == name)).one()
        return f"{web.base}/login/{create_login_link(session, officer=officer, now=now)}"


def report_with_evidence(chat_as, open_session: SessionFactory) -> None:  # type: ignore[no-untyped-def]
    ha = chat_as("Nguyễn Thu Hà")
    ha.now = datetime.now(UTC)  # the board's period (this week) is of the real clock
    # and so is "overdue": NV-03 is due ten days after the fixtures' date, which the real
    # clock passes; ten days after the real one it is in progress whatever the day
    with transaction(open_session) as session:
        task = session.exec(select(Task).where(Task.code == "NV-03")).one()
        task.deadline = datetime.now(ZONE).date() + timedelta(days=10)
    ha.say("/baocao NV-03")
    ha.press("Đang thực hiện")
    ha.say("60")
    ha.say("Đã tổ chức 3 lớp tập huấn kỹ năng số")
    ha.say("Thiếu máy chiếu")
    ha.say("Đề nghị hỗ trợ 02 máy chiếu")
    ha.attach("lop-tap-huan.png", PHOTO, "image/png")
    ha.attach("ke-hoach.pdf", PDF, "application/pdf")
    ha.press("Tiếp tục")
    assert "Đã lưu" in ha.press("Lưu")


def test_the_secretariat_goes_from_the_board_to_a_reports_evidence(
    web: WebProcess, browser, chat_as, open_session, tmp_path: Path
) -> None:
    report_with_evidence(chat_as, open_session)
    guesser = chat_as(None, account="guesser")
    guesser.now = datetime.now(UTC)  # the board counts the last 24 hours of the real clock
    guesser.say("/start WRONG123")
    context = browser.new_context(viewport={"width": 1366, "height": 900}, accept_downloads=True)
    page = context.new_page()
    page.goto(link_for(open_session, web, "Đỗ Quốc Anh"))
    assert page.url.endswith("/board")
    assert page.inner_text("h1") == "Tiến độ thực hiện nhiệm vụ — Quảng Ninh"
    assert page.inner_text("#tasks-done strong") == "0/5"
    assert page.inner_text("#units-reported strong") == "1/2"
    assert "Mã sai đã nhập trong 24 giờ qua: 1 lần" in page.inner_text("#wrong-codes")
    cookie = next(c for c in context.cookies() if c["name"] == "baocao_board")
    assert cookie["httpOnly"], "the session cookie is out of reach of scripts"
    cell = page.locator("#board td.st-in_progress").first
    assert cell.inner_text() == "60"
    page.screenshot(path=str(tmp_path / "board.png"))

    page.click("text=Phường Hạ Long")
    assert page.inner_text("h1") == "Phường Hạ Long"
    report = page.locator("tr.report", has_text="Đã tổ chức 3 lớp tập huấn")
    assert "Nguyễn Thu Hà" in report.inner_text()
    assert "qua Test" in report.inner_text(), "the messenger it came by"
    assert "Đề nghị hỗ trợ 02 máy chiếu" in report.inner_text()
    image = report.locator(".evidence img")
    assert image.evaluate("img => img.complete && img.naturalWidth > 0"), "the thumbnail loads"
    with page.expect_download() as download:
        report.locator("a", has_text="ke-hoach.pdf").click()
    assert Path(download.value.path()).read_bytes() == PDF

    page.click("text=Khó khăn, kiến nghị")
    assert "Đề nghị hỗ trợ 02 máy chiếu" in page.inner_text("ul.notes")
    page.click("ul.notes >> text=NV-03")
    assert page.inner_text("h1").startswith("NV-03")
    assert "Đang thực hiện · 60%" in page.inner_text("table.task")

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{web.base}/board")
    page.screenshot(path=str(tmp_path / "board-phone.png"))
    assert page.locator("#tasks-done").is_visible(), "the figures fit a phone"
    context.close()


def test_upload_a_bad_then_a_good_task_list_and_download_the_export(
    web: WebProcess, browser, open_session, province: Province, tmp_path: Path
) -> None:
    bad = xlsx(
        tmp_path / "sai.xlsx",
        [
            ["Mã nhiệm vụ", "Tên nhiệm vụ", "Đơn vị thực hiện", "Hạn hoàn thành"],
            ["NV-20", "Số hóa hồ sơ", "Phường Hạ Lonng", "31/12/2027"],
        ],
    )
    good = xlsx(
        tmp_path / "dung.xlsx",
        [
            ["Mã nhiệm vụ", "Tên nhiệm vụ", "Đơn vị thực hiện", "Hạn hoàn thành"],
            ["NV-20", "Số hóa hồ sơ", "P. Hạ Long", "31/12/2027"],
        ],
    )
    context = browser.new_context(accept_downloads=True)
    page = context.new_page()
    page.goto(link_for(open_session, web, "Đỗ Quốc Anh"))
    page.click("text=Nhập nhiệm vụ")
    page.set_input_files("input[type=file]", str(bad))
    page.click("button:has-text('Nhập')")
    problems = page.inner_text("#problems")
    assert "Dòng 2, cột “Đơn vị thực hiện”: không có đơn vị nào tên “Phường Hạ Lonng”" in problems
    assert "có phải là: Phường Hạ Long" in problems
    assert "chưa nhập dữ liệu nào" in problems
    assert "NV-20" not in {t.code for t in rows(open_session, Task)}
    page.set_input_files("input[type=file]", str(good))
    page.click("button:has-text('Nhập')")
    assert "1 nhiệm vụ mới" in page.inner_text("#done")
    assert "NV-20" in {t.code for t in rows(open_session, Task)}

    with page.expect_download() as download:
        page.click("text=Xuất Excel")
    workbook = load_workbook(io.BytesIO(Path(download.value.path()).read_bytes()))
    progress = workbook.worksheets[0]
    assert progress["A1"].value == "TIẾN ĐỘ THỰC HIỆN NHIỆM VỤ CỦA BAN CHỈ ĐẠO — Quảng Ninh"
    assert progress["A3"].value == "Người xuất: Đỗ Quốc Anh"
    context.close()


def test_an_officer_sees_their_unit_and_nothing_of_another(
    web: WebProcess, browser, chat_as, open_session, province: Province
) -> None:
    report_with_evidence(chat_as, open_session)
    with open_session() as session:
        evidence_id = session.exec(select(Evidence.id)).first()
    ha_long = province.units["Phường Hạ Long"].id
    context = browser.new_context()
    page = context.new_page()
    page.goto(link_for(open_session, web, "Phạm Thị Lan"))  # officer of Xã Ba Chẽ
    assert page.inner_text("h1") == "Tiến độ của Xã Ba Chẽ"
    assert [n.inner_text() for n in page.locator("#board th.unit a").all()] == ["Xã Ba Chẽ"]
    assert page.locator("text=Nhập nhiệm vụ").count() == 0, "no import for an officer"
    for path in (
        f"/units/{ha_long}",
        f"/evidence/{evidence_id}",
        f"/tasks/{province.tasks['NV-02'].id}",
        "/import",
        "/export.xlsx",
    ):
        answer = page.goto(f"{web.base}{path}")
        assert answer is not None
        assert answer.status == 404, path
        assert "Không tìm thấy" in page.content(), path
    assert "Đề nghị hỗ trợ 02 máy chiếu" not in page.goto(f"{web.base}/notes").text()
    context.close()


def status_and_place(
    url: str, *, cookie: str | None = None, data: bytes | None = None
) -> tuple[int, str, str]:
    """Status, where it went (after redirects) and the body, without a browser."""
    request = urllib.request.Request(url, data=data, method="POST" if data is not None else "GET")
    if cookie:
        request.add_header("Cookie", cookie)
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, answer.url, answer.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, url, error.read().decode()


def test_without_a_session_there_is_an_explanation_and_no_data(
    web: WebProcess, province: Province, chat_as, open_session
) -> None:
    report_with_evidence(chat_as, open_session)
    for path in ("/", "/board", "/units/1", "/tasks/1", "/notes", "/evidence/1", "/export.xlsx"):
        status, place, body = status_and_place(f"{web.base}{path}")
        assert (status, place) == (200, f"{web.base}/welcome"), path
        assert "gửi /web cho bot" in body
        assert "Phường Hạ Long" not in body
        assert "NV-0" not in body


def test_links_work_once_and_in_time_and_revoking_signs_out(
    web: WebProcess, browser, open_session, province: Province
) -> None:
    context = browser.new_context()
    page = context.new_page()
    link = link_for(open_session, web, "Đỗ Quốc Anh")
    page.goto(link)
    assert page.url.endswith("/board")
    other = browser.new_context().new_page()
    other.goto(link)
    assert other.url.endswith("/welcome?problem=link"), "a link works once"
    assert "đã được dùng hoặc đã hết hạn" in other.content()
    other.goto(link_for(open_session, web, "Đỗ Quốc Anh", ago=timedelta(minutes=16)))
    assert other.url.endswith("/welcome?problem=link"), "and for 15 minutes"

    cookie = "; ".join(f"{c['name']}={c['value']}" for c in context.cookies())
    status, _place, _body = status_and_place(f"{web.base}/import", cookie=cookie, data=b"file=x")
    assert status == 403, "a form without its CSRF token is refused"
    status_and_place(f"{web.base}/logout", cookie=cookie, data=b"csrf=forged")
    page.goto(f"{web.base}/board")
    assert page.url.endswith("/board"), "a forged logout ends nothing"

    with transaction(open_session) as session:
        officer = session.get(Officer, province.officers["Đỗ Quốc Anh"].id)
        assert officer is not None
        officer.active = False
        session.add(officer)
        assert end_sessions_of(session, officer_id=officer.id or 0, now=datetime.now(UTC)) == 1
    page.goto(f"{web.base}/board")
    assert page.url.endswith("/welcome"), "revoked: signed out"
    context.close()


def test_sign_out_ends_the_session(
    web: WebProcess, browser, open_session, province: Province
) -> None:
    page = browser.new_context().new_page()
    page.goto(link_for(open_session, web, "Đỗ Quốc Anh"))
    page.click("text=Đăng xuất")
    assert page.url.endswith("/welcome")
    page.goto(f"{web.base}/board")
    assert page.url.endswith("/welcome")


def test_the_web_command_sends_a_one_time_link(
    open_session, config: HandlerConfig, province: Province
) -> None:
    from dataclasses import replace

    ha = Chat(
        "ha-web",
        open_session=open_session,
        config=replace(config, web_base_url="https://bot.example.gov.vn"),
    )
    with transaction(open_session) as session:
        from models.tables import ChannelAccount

        session.add(
            ChannelAccount(
                channel="test",
                external_id="ha-web",
                officer_id=province.officers["Nguyễn Thu Hà"].id,
                created_at=datetime.now(UTC),
                last_seen_at=datetime.now(UTC),
            )
        )
    answer = ha.say("/web")
    assert "dùng một lần, trong 15 phút" in answer
    assert "https://bot.example.gov.vn/login/" in answer
    without = Chat("ha-web", open_session=open_session, config=config)
    assert "chưa có địa chỉ công khai" in without.say("/web")
    assert len(rows(open_session, Report)) == 0
