"""The Telegram channel end to end: the real bot process, a fake Bot API that checks the spec."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from models.enums import Status
from models.tables import ChannelAccount, Evidence, InboxUpdate, Report
from tests.conftest import Province, rows
from tests.fake_telegram import FakeTelegram, button_update, photo_update, text_update
from tests.telegram_harness import TOKEN, BotProcess

HA = 820_000_000_001  # Telegram ids exceed 32 bits
LAN = 820_000_000_002
GROUP = -1_002_233_445_566


@pytest.fixture
def fake() -> Iterator[FakeTelegram]:
    server = FakeTelegram(token=TOKEN).start()
    yield server
    server.stop()
    assert server.violations == [], "the bot sent requests the Bot API spec does not allow"


@pytest.fixture
def start_bot(
    engine: Engine, fake: FakeTelegram, province: Province, tmp_path: Path
) -> Iterator[Any]:
    started: list[BotProcess] = []

    def start(*args: str, **settings: str) -> BotProcess:
        bot = BotProcess(engine=engine, fake=fake, workdir=tmp_path, **settings).start(*args)
        started.append(bot)
        bot.wait_ready()
        return bot

    yield start
    for bot in started:
        code = bot.stop()
        output = bot.output()
        assert TOKEN not in output and TOKEN.split(":")[1] not in output, (
            "the token leaked into the log"
        )
        assert code in (0, -9), output


def link(fake: FakeTelegram, invite_for: Any, officer: str, user_id: int) -> None:
    fake.push(text_update(user_id, f"/start {invite_for(officer)}"))
    fake.wait_for_text(user_id, "Liên kết thành công")


def test_officer_links_and_reports_by_pressing_buttons(
    start_bot, fake, invite_for, open_session
) -> None:
    start_bot()
    commands = fake.sent("setMyCommands")
    assert {c.params.get("language_code") for c in commands} == {None, "vi", "en"}
    assert "nhiemvu" in commands[0].params["commands"]

    link(fake, invite_for, "Nguyễn Thu Hà", HA)
    fake.push(text_update(HA, "/baocao"))
    fake.wait_for_text(HA, "Bạn báo cáo nhiệm vụ nào?")
    menu_id, _data = fake.button(HA, "NV-03")
    seen = len(fake.texts(HA))
    fake.push(button_update(fake, HA, "NV-03"))
    fake.wait_for_text(HA, "Tình trạng hiện nay", after=seen)
    assert "Tình trạng hiện nay" in fake.message(menu_id)["text"], "the menu was edited in place"
    assert len(fake.sent("answerCallbackQuery")) == 1

    fake.push(button_update(fake, HA, "Đang thực hiện"))
    fake.wait_for_text(HA, "bao nhiêu phần trăm")
    fake.push(text_update(HA, "60"))
    fake.wait_for_text(HA, "Đã thực hiện được những gì")
    fake.push(text_update(HA, "Đã trình dự thảo kế hoạch"))
    fake.wait_for_text(HA, "Có khó khăn, vướng mắc")
    fake.push(button_update(fake, HA, "Không có vướng mắc"))
    fake.wait_for_text(HA, "kiến nghị")
    fake.push(button_update(fake, HA, "Không có kiến nghị"))
    fake.wait_for_text(HA, "Đính kèm ảnh")
    photo = b"\xff\xd8\xff\xe0 a photo of the signed plan"
    fake.push(photo_update(HA, fake.add_file(photo), len(photo)))
    fake.wait_for_text(HA, "Đã nhận photo_")
    fake.push(button_update(fake, HA, "Tiếp tục"))
    fake.wait_for_text(HA, "Vui lòng kiểm tra lại báo cáo")
    fake.push(button_update(fake, HA, "Lưu"))
    fake.wait_for_text(HA, "Đã lưu ✅")

    [report] = rows(open_session, Report)
    assert (report.status, report.percent, report.result) == (
        Status.IN_PROGRESS,
        60,
        "Đã trình dự thảo kế hoạch",
    )
    [evidence] = rows(open_session, Evidence)
    assert evidence.data == photo
    assert evidence.report_id == report.id
    [account] = [a for a in rows(open_session, ChannelAccount) if a.channel == "telegram"]
    assert account.external_id == str(HA)
    fake.wait_for(
        lambda: all(u.handled_at for u in rows(open_session, InboxUpdate)), what="inbox handled"
    )
