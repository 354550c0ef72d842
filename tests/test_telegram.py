"""The Telegram channel end to end: the real bot process, a fake Bot API that checks the spec."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from models.db import transaction
from models.enums import OutboxState, Status
from models.queue import QuotaPayload, enqueue, store_inbox
from models.tables import (
    ChannelAccount,
    Evidence,
    GroupBinding,
    InboxUpdate,
    Outbox,
    Report,
)
from tests.conftest import NOW, Province, add_task, configured, rows
from tests.fake_telegram import FakeTelegram, button_update, photo_update, text_update
from tests.hostile_bodies import HOSTILE_BODIES, TOO_LARGE, post_bytes
from tests.telegram_harness import TOKEN, WEBHOOK_SECRET, BotProcess

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
        print(f"--- bot log ---\n{output}")  # shown by pytest when the test failed
        assert TOKEN.split(":")[1] not in output, "the token leaked into the log"
        assert code == 0 or bot.killed, output


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
    fake.wait_for_text(HA, "Đã đính kèm 1 tệp")  # the question with the buttons comes next
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


def test_quick_report_and_a_forged_button_for_another_units_task(
    start_bot, fake, invite_for, open_session, province: Province
) -> None:
    start_bot()
    link(fake, invite_for, "Nguyễn Thu Hà", HA)
    fake.push(text_update(HA, "/baocao NV-03 60% Đã trình dự thảo kế hoạch"))
    fake.wait_for_text(HA, "Đã lưu ✅")
    other_unit = province.assignments[("NV-09", "Xã Ba Chẽ")].id
    fake.push(button_update(fake, HA, "Nhiệm vụ của tôi", data=f"rep:{other_unit}"))
    fake.wait_for_text(HA, "Nhiệm vụ đó không thuộc Phường Hạ Long")
    [report] = rows(open_session, Report)
    assert report.percent == 60


def test_a_resent_update_is_handled_once(start_bot, fake, invite_for, open_session) -> None:
    start_bot()
    link(fake, invite_for, "Nguyễn Thu Hà", HA)
    fake.push(text_update(HA, "/baocao NV-02 100% Đã kiện toàn Ban Chỉ đạo"), copies=3)
    fake.push(text_update(HA, "/nhiemvu"))
    fake.wait_for_text(HA, "Nhiệm vụ của Phường Hạ Long")
    assert len([t for t in fake.texts(HA) if "Đã lưu ✅" in t]) == 1
    assert len(rows(open_session, Report)) == 1


def test_429_storm_and_a_burst_of_200_messages_to_one_chat(start_bot, fake, invite_for) -> None:
    interval = 0.02
    start_bot(telegram_per_chat_interval=str(interval))
    link(fake, invite_for, "Nguyễn Thu Hà", HA)
    fake.fail("sendMessage", "429", count=3, retry_after=1)
    before = len(fake.sent(chat_id=HA))
    for i in range(200):
        fake.push(text_update(HA, f"/baocao NV-03 {i % 100}% lần {i}"))
    fake.wait_for(
        lambda: len(fake.sent(chat_id=HA)) >= before + 200, timeout=120, what="200 replies"
    )
    replies = fake.sent(chat_id=HA)[before:]
    numbers = [int(c.params["text"].split("Kết quả: lần ")[1].split()[0]) for c in replies]
    assert numbers == list(range(200)), "every message delivered, in order"
    gaps = [b.at - a.at for a, b in zip(replies, replies[1:], strict=False)]
    assert min(gaps) >= interval * 0.9, "never faster than the per-chat limit"
    refused = [c for c in fake.calls if c.method == "sendMessage" and c.status == 429]
    assert len(refused) == 3
    assert replies[0].at - refused[-1].at >= 0.95, "retried only after retry_after"


def test_server_errors_are_retried_and_a_hung_reply_is_not_repeated(
    start_bot, fake, invite_for, open_session
) -> None:
    start_bot(telegram_request_timeout="1")
    link(fake, invite_for, "Nguyễn Thu Hà", HA)
    fake.fail("sendMessage", "500", count=2)
    fake.push(text_update(HA, "/nhiemvu"))
    fake.wait_for_text(HA, "Nhiệm vụ của Phường Hạ Long")
    fake.fail("sendMessage", "hang", count=1, seconds=3)
    fake.push(text_update(HA, "/trogiup"))

    def unknown() -> list[Outbox]:
        return [r for r in rows(open_session, Outbox) if r.state == OutboxState.UNKNOWN]

    fake.wait_for(unknown, what="the hung reply recorded as unknown", timeout=20)
    [row] = unknown()
    assert "Tôi giúp bạn báo cáo" in row.payload["reply"]["text"]
    assert (
        len([c for c in fake.calls if c.method == "sendMessage" and "Tôi giúp" in str(c.params)])
        == 1
    ), "it may have arrived: not sent again (at most once)"
    seen = len(fake.texts(HA))
    fake.push(text_update(HA, "/nhiemvu"))
    fake.wait_for_text(HA, "Nhiệm vụ của Phường Hạ Long", after=seen)


def test_a_user_who_blocked_the_bot_is_marked_unreachable(
    start_bot, fake, invite_for, open_session
) -> None:
    start_bot()
    link(fake, invite_for, "Nguyễn Thu Hà", HA)
    fake.blocked_chats.add(HA)
    fake.push(text_update(HA, "/nhiemvu"))

    def unreachable() -> bool:
        return any(
            a.unreachable_since
            for a in rows(open_session, ChannelAccount)
            if a.external_id == str(HA)
        )

    fake.wait_for(unreachable, what="account marked unreachable")
    blocked = [c for c in fake.calls if c.method == "sendMessage" and c.status == 403]
    assert len(blocked) == 1, "a 403 is not retried"
    fake.blocked_chats.clear()
    fake.push(text_update(HA, "/nhiemvu"))
    fake.wait_for_text(HA, "Nhiệm vụ của Phường Hạ Long")
    fake.wait_for(lambda: not unreachable(), what="writing again makes them reachable")


def test_group_binding_and_group_manners(start_bot, fake, invite_for, open_session) -> None:
    start_bot()
    link(fake, invite_for, "Đỗ Quốc Anh", LAN)
    fake.push(text_update(LAN, "/manhom"))
    code = fake.wait_for_text(LAN, "Mã nhóm của Cơ quan thường trực").split(": ")[1].split()[0]
    fake.push(text_update(LAN, f"/bind {code}", chat_id=GROUP, name="Quốc Anh"))
    fake.wait_for_text(GROUP, "đây là nhóm của Cơ quan thường trực")
    [binding] = rows(open_session, GroupBinding)
    assert (binding.chat_id, binding.purpose.value) == (str(GROUP), "secretariat")
    seen = len(fake.texts(GROUP))
    fake.push(text_update(LAN, "Mọi người nhớ báo cáo trước thứ Sáu nhé", chat_id=GROUP))
    fake.push(text_update(LAN, "/baocao", chat_id=GROUP))
    fake.wait_for_text(GROUP, "chat riêng", after=seen)
    assert len(fake.texts(GROUP)) == seen + 1, "ordinary chatter gets no answer"


def test_long_replies_are_split_under_the_limit(
    start_bot, fake, invite_for, open_session, province: Province
) -> None:
    with transaction(open_session) as session:
        for n in range(60):
            add_task(
                session,
                province,
                code=f"DX-{n:02d}",
                deadline=date(2027, 1, 1),
                title="Rà soát, cập nhật cơ sở dữ liệu chuyên ngành phục vụ chuyển đổi số " * 2,
                unit_names=["Phường Hạ Long"],
            )
    start_bot()
    link(fake, invite_for, "Nguyễn Thu Hà", HA)
    seen = len(fake.texts(HA))
    fake.push(text_update(HA, "/nhiemvu"))
    fake.wait_for(
        lambda: any("DX-59" in t for t in fake.texts(HA)[seen:]), what="the end of the list"
    )
    parts = fake.texts(HA)[seen:]
    assert len(parts) >= 3
    assert all(len(part) <= 4096 for part in parts)
    assert "DX-00" in parts[0]
    assert "DX-59" in parts[-1]


def test_webhook_mode_stores_then_answers_and_refuses_a_wrong_secret(
    start_bot, fake, invite_for
) -> None:
    bot = start_bot("--webhook")
    url = f"http://127.0.0.1:{bot.port}/telegram/webhook"
    update = {"update_id": 77, **text_update(HA, f"/start {invite_for('Nguyễn Thu Hà')}")}
    assert post(url, update, secret="wrong") == 403
    assert post(url, update, secret=None) == 403
    assert fake.sent(chat_id=HA) == []
    assert post(url, update, secret=WEBHOOK_SECRET) == 200
    fake.wait_for_text(HA, "Liên kết thành công")
    assert post(url, update, secret=WEBHOOK_SECRET) == 200  # a resend: acknowledged, not redone
    assert (
        post(url, {"update_id": 78, **text_update(HA, "/nhiemvu")}, secret=WEBHOOK_SECRET) == 200
    )
    fake.wait_for_text(HA, "Nhiệm vụ của Phường Hạ Long")
    assert len([t for t in fake.texts(HA) if "Liên kết thành công" in t]) == 1
    assert fake.sent("getUpdates") == [], "no polling in webhook mode"


def test_updates_stored_before_a_crash_are_handled_after_the_restart(
    start_bot, fake, invite_for, open_session
) -> None:
    with transaction(open_session) as session:  # stored by a webhook just before the crash
        store_inbox(
            session,
            channel="telegram",
            delivery_id="501",
            at=NOW,
            payload={"update_id": 501, **text_update(HA, f"/start {invite_for('Nguyễn Thu Hà')}")},
        )
    start_bot()
    fake.wait_for_text(HA, "Liên kết thành công")


def post(url: str, update: dict[str, Any], *, secret: str | None) -> int:
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    request = urllib.request.Request(
        url, data=json.dumps(update).encode(), headers=headers, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def test_set_webhook_and_invite_with_deep_link_and_qr(
    fake, engine, province: Province, tmp_path: Path
) -> None:
    import subprocess
    import sys

    from tests.conftest import ROOT

    env = {
        **BotProcess(engine=engine, fake=fake, workdir=tmp_path).env,
        "PYTHONPATH": str(ROOT),
    }

    def bot(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "bot", *args],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    hook = bot("set-webhook", "https://baocao.quangninh.gov.vn/telegram/webhook")
    assert hook.returncode == 0, hook.stderr
    [call] = fake.sent("setWebhook")
    assert call.params["url"] == "https://baocao.quangninh.gov.vn/telegram/webhook"
    assert call.params["secret_token"] == WEBHOOK_SECRET

    invite = bot(
        "invite",
        "--unit",
        "Xã Ba Chẽ",
        "--role",
        "officer",
        "--name",
        "Hoàng Văn Long",
        "--qr",
        "long.png",
    )
    assert invite.returncode == 0, invite.stderr
    lines = invite.stdout.strip().splitlines()
    code = lines[-1]
    assert f"https://t.me/QuangNinhBaoCaoBot?start={code}" in invite.stdout
    png = (tmp_path / "long.png").read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    assert width == height
    assert 250 <= width <= 2000, "big enough to scan from a printed sheet"
    assert TOKEN.split(":")[1] not in invite.stdout + invite.stderr + hook.stdout + hook.stderr


def test_typing_is_shown_while_a_reply_is_prepared(start_bot, fake, invite_for) -> None:
    start_bot(telegram_typing_after="0")  # every reply counts as slow here
    link(fake, invite_for, "Nguyễn Thu Hà", HA)
    fake.push(text_update(HA, "/nhiemvu"))
    fake.wait_for_text(HA, "Nhiệm vụ của Phường Hạ Long")
    calls = [c for c in fake.calls if c.method in ("sendChatAction", "sendMessage")]
    typing = [i for i, c in enumerate(calls) if c.method == "sendChatAction"]
    assert typing, "a typing action was sent"
    assert calls[typing[0]].params["action"] == "typing"


def test_the_bot_survives_a_locked_database_without_losing_updates(
    start_bot, fake, invite_for, engine
) -> None:
    import sqlite3

    if engine.dialect.name != "sqlite":
        pytest.skip("the lock is SQLite's")
    start_bot()
    link(fake, invite_for, "Nguyễn Thu Hà", HA)
    database = sqlite3.connect(str(engine.url.database), isolation_level=None)
    database.execute("BEGIN IMMEDIATE")  # someone holds the write lock past the busy timeout
    try:
        fake.push(text_update(HA, "/nhiemvu"))
        time.sleep(12)
    finally:
        database.execute("COMMIT")
        database.close()
    fake.wait_for_text(HA, "Nhiệm vụ của Phường Hạ Long", timeout=30)


def test_reminders_and_digests_reach_telegram(
    start_bot, fake, invite_for, open_session, province: Province
) -> None:
    from datetime import UTC, datetime, timedelta

    long_ago = datetime.now(UTC).date() - timedelta(days=12)
    with transaction(open_session) as session:
        add_task(
            session,
            province,
            code="QH-01",
            title="Nộp báo cáo quý",
            deadline=long_ago,
            unit_names=["Phường Hạ Long"],
        )
    bot = start_bot(
        scheduler_enabled="true",
        reminder_interval_seconds="1",
        overdue_nudges="1",
        reminder_days_before="[]",
        reminder_grace_minutes=str(60 * 24 * 30),
    )
    link(fake, invite_for, "Nguyễn Thu Hà", HA)
    nudge = fake.wait_for_text(HA, "🔴 Quá hạn: QH-01", timeout=30)
    assert "Vui lòng báo cáo" in nudge
    fake.push(button_update(fake, HA, "Báo cáo ngay"))
    fake.wait_for_text(HA, "QH-01 · Nộp báo cáo quý")

    link(fake, invite_for, "Đỗ Quốc Anh", LAN)
    fake.push(text_update(LAN, "/manhom"))
    code = fake.wait_for_text(LAN, "Mã nhóm của Cơ quan thường trực").split(": ")[1].split()[0]
    fake.push(text_update(LAN, f"/bind {code}", chat_id=GROUP, name="Quốc Anh"))
    fake.wait_for_text(GROUP, "đây là nhóm của Cơ quan thường trực")
    fake.push(text_update(LAN, "/tonghop", chat_id=GROUP))
    digest = fake.wait_for_text(GROUP, "TỔNG HỢP TIẾN ĐỘ")
    assert "Nhiệm vụ hoàn thành: 0/6" in digest
    fake.wait_for(lambda: fake.sent("sendPhoto", chat_id=GROUP), what="the chart")
    fake.push(text_update(LAN, "/xuatfile"))
    fake.wait_for(lambda: fake.sent("sendDocument", chat_id=LAN), what="the spreadsheet")
    # Parameters go as JSON; a file to upload, as a multipart form (aiogram's).
    kinds = {(c.method, c.content_type) for c in fake.calls if c.status == 200}
    assert ("sendMessage", "application/json") in kinds
    assert ("sendPhoto", "multipart/form-data") in kinds
    assert ("sendDocument", "multipart/form-data") in kinds
    assert {k for m, k in kinds if m == "sendMessage"} == {"application/json"}
    assert bot.stop() == 0


def test_an_outbox_notice_that_timed_out_is_not_sent_twice(fake, open_session, config) -> None:
    import asyncio

    from bot.channels.delivery import ChannelSender
    from bot.channels.rate_limit import RateLimiter
    from bot.channels.telegram import TelegramChannel, make_bot
    from models.messages import OutcomeUnknown, Reply, TemporaryFailure
    from reminders.outbox import OutboxSender
    from reminders.render import OutboxRenderer

    async def notice() -> type[Exception] | None:
        bot = make_bot(
            token=TOKEN,
            api_base=fake.base,
            limiter=RateLimiter(configured(telegram_per_chat_interval=0).telegram_limits),
            request_timeout=1,
        )
        configuration = configured()
        senders: dict[str, Any] = {}
        outbox = OutboxSender(
            open_session=open_session,
            sender=ChannelSender(senders),
            render=OutboxRenderer(calendar=configuration.calendar, language="vi"),
            grace=configuration.reminders.grace,
        )
        channel = TelegramChannel(
            bot=bot, open_session=open_session, config=config, replies=outbox
        )
        senders["telegram"] = channel
        try:
            await channel.send_notice(str(HA), Reply(text="⏰ Nhắc việc: NV-03"))
        except (OutcomeUnknown, TemporaryFailure) as error:
            return type(error)
        finally:
            await bot.session.close()
        return None

    fake.fail("sendMessage", "hang", count=1, seconds=3)
    assert asyncio.run(notice()) is OutcomeUnknown
    assert len([c for c in fake.calls if c.method == "sendMessage"]) == 1, (
        "a timed-out notice is not repeated"
    )
    fake.fail("sendMessage", "500", count=1)
    assert asyncio.run(notice()) is None, "a clear server error is retried"
    assert len(fake.sent(chat_id=HA)) == 1


def test_a_reply_stored_before_a_crash_is_sent_after_the_restart(
    start_bot, fake, invite_for, open_session
) -> None:
    """The bot dies after the report is committed and before "Saved ✅" leaves (it waits its
    turn at the rate limiter): the officer still gets the answer, once, after the restart."""
    slow = start_bot(telegram_per_chat_interval="30", reply_hold_seconds="2")
    link(fake, invite_for, "Nguyễn Thu Hà", HA)  # the chat's turn is now 30 s away
    fake.push(text_update(HA, "/baocao NV-02 100% Đã kiện toàn Ban Chỉ đạo"))

    def reply_waiting() -> bool:
        return bool(rows(open_session, Report)) and any(
            r.key.startswith("reply:") and r.state == OutboxState.PENDING
            for r in rows(open_session, Outbox)
        )

    fake.wait_for(reply_waiting, what="the report and its reply committed, not yet sent")
    slow.kill()
    assert not any("Đã lưu" in t for t in fake.texts(HA))

    start_bot(reply_hold_seconds="2")
    fake.wait_for_text(HA, "Đã lưu ✅", timeout=30)
    assert len([t for t in fake.texts(HA) if "Đã lưu ✅" in t]) == 1
    assert len(rows(open_session, Report)) == 1

    def reply_marked_sent() -> bool:
        [reply] = [r for r in rows(open_session, Outbox) if "Đã lưu" in str(r.payload)]
        return reply.state == OutboxState.SENT

    # the row is marked after Telegram's answer arrives, a moment after the fake shows the text
    fake.wait_for(reply_marked_sent, what="the reply marked sent")


def test_stopping_while_the_scheduler_sends_is_clean(start_bot, fake, open_session) -> None:
    """SIGTERM lands while a tick is sending (Telegram is slow to answer): the tick finishes,
    nothing is logged as a failed job."""
    now = datetime.now(UTC)
    with transaction(open_session) as session:
        notice = QuotaPayload(exhausted="zalo", description="", day=now.date())
        enqueue(session, notice, channel="telegram", chat_id="-100777", due_at=now, now=now)
    fake.fail("sendMessage", "hang", count=1, seconds=3)
    bot = start_bot(scheduler_enabled="true", reminder_interval_seconds="1")
    fake.wait_for(
        lambda: any(c.method == "sendMessage" for c in fake.calls), what="the tick sending"
    )
    assert bot.stop() == 0
    output = bot.output()
    assert "CancelledError" not in output
    assert "raised an exception" not in output
    assert "bot stopped" in output


def test_hostile_webhook_bodies_get_400_and_store_nothing(
    start_bot, fake, invite_for, open_session
) -> None:
    bot = start_bot("--webhook")
    url = f"http://127.0.0.1:{bot.port}/telegram/webhook"
    header = "X-Telegram-Bot-Api-Secret-Token"
    for what, body in HOSTILE_BODIES.items():
        status, answer = post_bytes(url, body, header=header, secret=WEBHOOK_SECRET)
        assert status == 400, what
        assert "Traceback" not in answer, what
    status, _answer = post_bytes(url, TOO_LARGE, header=header, secret=WEBHOOK_SECRET)
    assert status == 413
    assert rows(open_session, InboxUpdate) == [], "nothing stored"
    update = {"update_id": 90, **text_update(HA, f"/start {invite_for('Nguyễn Thu Hà')}")}
    assert post(url, update, secret=WEBHOOK_SECRET) == 200, "and it still works"
    fake.wait_for_text(HA, "Liên kết thành công")
    assert "Traceback" not in bot.output()


def test_a_stored_update_the_handlers_cannot_read_is_set_aside_once(
    start_bot, fake, invite_for, open_session
) -> None:
    with transaction(open_session) as session:  # stored by an older version, say
        store_inbox(
            session,
            channel="telegram",
            delivery_id="601",
            at=NOW,
            payload={"update_id": 601, "message": "not a message"},
        )
    bot = start_bot()
    fake.wait_for(
        lambda: any(u.handled_at for u in rows(open_session, InboxUpdate)),
        what="the update set aside",
    )
    [update] = rows(open_session, InboxUpdate)
    assert update.error is not None
    assert update.error.startswith("unreadable: not a Telegram update")
    link(fake, invite_for, "Nguyễn Thu Hà", HA)
    output = bot.output()
    assert output.count("601 set aside") == 1, "one line, not one per try"
    assert "Traceback" not in output


def test_tick_plans_and_sends_once_then_exits(
    engine, fake, invite_for, open_session, province: Province, tmp_path: Path
) -> None:
    """`python -m bot tick` for cron: what is due goes out, once however often it runs."""
    now = datetime.now(UTC)
    with transaction(open_session) as session:
        notice = QuotaPayload(exhausted="zalo", description="", day=now.date())
        enqueue(session, notice, channel="telegram", chat_id="-100777", due_at=now, now=now)
    runner = BotProcess(engine=engine, fake=fake, workdir=tmp_path)
    for _ in range(2):
        result = subprocess.run(
            [sys.executable, "-m", "bot", "tick"],
            env=runner.env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 0, result.stderr
    assert len(fake.sent(chat_id=-100777)) == 1
    assert "0 đã gửi" in result.stdout or "0 sent" in result.stdout


def test_sends_keep_to_the_limits_of_a_server_that_enforces_them_to_the_letter() -> None:
    """Through the real adapter and limiter, against a Bot API that answers 429 to any message
    beyond 30 in a sliding second or a second one in a chat within a second: none is refused."""
    import asyncio

    from bot.channels.rate_limit import RateLimiter
    from bot.channels.telegram import make_bot
    from tests.fake_telegram import StrictLimits

    strict = FakeTelegram(token=TOKEN, strict=StrictLimits()).start()

    async def send_all() -> None:
        bot = make_bot(
            token=TOKEN, api_base=strict.base, limiter=RateLimiter(configured().telegram_limits)
        )
        try:
            await asyncio.gather(
                *(bot.send_message(chat_id=900_000 + n, text=f"Nhắc việc {n}") for n in range(45)),
                *(bot.send_message(chat_id=HA, text=f"Tin {n}") for n in range(3)),
            )
        finally:
            await bot.session.close()

    try:
        asyncio.run(send_all())
    finally:
        strict.stop()
    statuses = [c.status for c in strict.calls if c.method == "sendMessage"]
    assert statuses.count(200) == 48
    assert 429 not in statuses, "the limiter let a message through that the server refused"
    to_ha = [c.at for c in strict.calls if c.params.get("chat_id") == str(HA)]
    assert all(b - a >= 1.0 for a, b in zip(to_ha, to_ha[1:], strict=False))


# Loaded only by what needs them: the reports' charts and spreadsheets, the board and its web
# server, the migrations (the schema is up to date here).
LOADED_WHEN_USED = ("matplotlib", "openpyxl", "PIL", "jinja2", "uvicorn", "starlette", "alembic")
LOADED_FOR_DIGESTS = ("reminders.digest", "models.board", "models.figures", "pyuca")
OTHER_DIALECT = {"sqlite": "postgresql", "postgresql": "sqlite"}


def test_a_conversation_loads_only_what_it_uses(
    engine: Engine, fake: FakeTelegram, invite_for, tmp_path: Path
) -> None:
    """What `python -m bot run` holds while it talks to officers (its idle memory): every
    module it imports, from start to stop, as Python's import log (`-X importtime`) lists
    them. The other database's dialect is not among them, nor what only the reports, the
    board and migrations use."""
    bot = BotProcess(engine=engine, fake=fake, workdir=tmp_path)
    bot.env["PYTHONPROFILEIMPORTTIME"] = "1"
    bot.start()
    try:
        bot.wait_ready()
        link(fake, invite_for, "Nguyễn Thu Hà", HA)
        fake.push(text_update(HA, "/baocao"))
        fake.wait_for_text(HA, "Bạn báo cáo nhiệm vụ nào?")
        fake.push(button_update(fake, HA, "NV-03"))
        fake.wait_for_text(HA, "Tình trạng hiện nay")
        fake.push(text_update(HA, "/baocao NV-03 60% Đã trình dự thảo kế hoạch"))
        fake.wait_for_text(HA, "Đã lưu ✅")
    finally:
        assert bot.stop() == 0, bot.output()
    imported = {
        line.rsplit("|", 1)[1].strip()
        for line in bot.output().splitlines()
        if line.startswith("import time:") and "|" in line
    }
    assert "aiogram" in imported, "the import log was read"
    other = f"sqlalchemy.dialects.{OTHER_DIALECT[engine.dialect.name]}"
    unexpected = sorted(
        name
        for name in imported
        if name == other or name.split(".")[0] in LOADED_WHEN_USED or name in LOADED_FOR_DIGESTS
    )
    assert unexpected == []


def test_on_sqlite_the_database_work_runs_in_one_thread(
    engine: Engine, start_bot, fake: FakeTelegram, invite_for
) -> None:
    """SQLite takes one writer at a time (every transaction here writes): the bot's blocking
    work goes through one thread there, not a pool whose threads queue on that lock."""
    if engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL runs transactions side by side: a pool of threads")
    bot = start_bot()
    link(fake, invite_for, "Nguyễn Thu Hà", HA)
    link(fake, invite_for, "Trần Văn Nam", LAN)
    for user in (HA, LAN):  # both at once
        fake.push(text_update(user, "/baocao NV-03 60% Đã trình dự thảo kế hoạch"))
    for user in (HA, LAN):
        fake.wait_for_text(user, "Đã lưu ✅")
    threads = list(Path(f"/proc/{bot.process.pid}/task").iterdir())
    assert len(threads) == 2, "the event loop's and one worker"
