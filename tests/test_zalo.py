"""The Zalo channel end to end: the real bot process against a fake Zalo Bot API."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine
from sqlmodel import select

from bot.channels.delivery import ChannelSender
from bot.channels.rate_limit import RateLimiter
from bot.channels.zalo import ZaloChannel, ZaloClient, ZaloNetworkError
from bot.settings import SettingsError, load_settings
from models.db import transaction
from models.enums import GroupPurpose, OutboxState, Status
from models.tables import (
    ChannelAccount,
    Evidence,
    GroupBinding,
    InboxUpdate,
    MessengerAccount,
    Outbox,
    Report,
)
from reminders.outbox import OutboxSender
from reminders.planning import Planner, queue_digests
from reminders.render import OutboxRenderer
from tests.conftest import ROOT, Province, add_task, configured, rows
from tests.fake_zalo import FakeZalo, zalo_event, zalo_image, zalo_text
from tests.hostile_bodies import HOSTILE_BODIES, TOO_LARGE, post_bytes
from tests.telegram_harness import free_port

TOKEN = "zalo-test-token-7f3a9c1e"
SECRET = "zalo-webhook-secret-for-tests"
HA = "7f3a9c01e2b4d5a6"  # Zalo ids are hex strings


@pytest.fixture
def fake() -> Iterator[FakeZalo]:
    server = FakeZalo(token=TOKEN).start()
    yield server
    server.stop()
    assert server.violations == [], "the bot broke a rule of the Zalo Bot API"


class ZaloBot:
    def __init__(self, *, engine: Engine, fake: FakeZalo, workdir: Path) -> None:
        self.fake = fake
        self.port = free_port()
        self.log = workdir / "zalo-bot.log"
        self.env = {
            key: value for key, value in os.environ.items() if not key.startswith("BOT_TELEGRAM")
        } | {
            "PYTHONPATH": str(ROOT),
            "BOT_DATABASE_URL": engine.url.render_as_string(hide_password=False),
            "BOT_ZALO_TOKEN": TOKEN,
            "BOT_ZALO_API_BASE": fake.base,
            "BOT_ZALO_WEBHOOK_SECRET": SECRET,
            "BOT_ZALO_POLLING_TIMEOUT": "1",
            "BOT_ZALO_PER_CHAT_INTERVAL": "0.01",
            "BOT_SCHEDULER_ENABLED": "false",
        }
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, *args: str) -> ZaloBot:
        command = [sys.executable, "-m", "bot", "run", *args, "--port", str(self.port)]
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                command, env=self.env, stdout=log, stderr=subprocess.STDOUT
            )
        if "--webhook" in args or "BOT_PUBLIC_BASE_URL" in self.env:
            self.fake.wait_for(self._healthy, what="the webhook server", timeout=60)
            if "BOT_PUBLIC_BASE_URL" in self.env:
                self.fake.wait_for(lambda: self.fake.webhook, what="the webhook registered")
        else:
            self.fake.wait_for(
                lambda: any(c.method == "getUpdates" for c in self.fake.calls),
                what="polling",
                timeout=60,
            )
        return self

    def _healthy(self) -> bool:
        try:
            with urllib.request.urlopen(
                f"http://127.0.0.1:{self.port}/healthz", timeout=2
            ) as answer:
                return bool(answer.status == 200)
        except OSError:
            return False

    def stop(self) -> str:
        assert self.process is not None
        self.process.terminate()
        self.process.wait(20)
        output = self.log.read_text(encoding="utf-8", errors="replace")
        assert self.process.returncode == 0, output
        return output


@pytest.fixture
def zalo_bot(engine: Engine, fake: FakeZalo, province: Province, tmp_path: Path) -> Iterator[Any]:
    started: list[ZaloBot] = []

    def start(*args: str) -> ZaloBot:
        bot = ZaloBot(engine=engine, fake=fake, workdir=tmp_path).start(*args)
        started.append(bot)
        return bot

    yield start
    for bot in started:
        output = bot.stop()
        print(f"--- bot log ---\n{output}")
        assert TOKEN not in output, "the Zalo token leaked into the log"


def link(fake: FakeZalo, invite_for: Any, officer: str, user: str) -> None:
    fake.push(zalo_text(user, f"/start {invite_for(officer)}"))
    fake.wait_for_text(user, "Liên kết thành công")


def test_officer_links_and_reports_by_typing_numbers(
    zalo_bot, fake, invite_for, open_session
) -> None:
    zalo_bot()
    link(fake, invite_for, "Nguyễn Thu Hà", HA)
    fake.push(zalo_text(HA, "/baocao"))
    menu = fake.wait_for_text(HA, "Bạn báo cáo nhiệm vụ nào?")
    assert "Trả lời bằng một số từ 1 đến" in menu
    number = next(line.split(".")[0] for line in menu.splitlines() if "NV-03" in line)
    steps = [
        (number, "Tình trạng hiện nay"),
        ("2", "bao nhiêu phần trăm"),  # Đang thực hiện
        ("60", "Đã thực hiện được những gì"),
        ("Đã trình dự thảo kế hoạch", "Có khó khăn, vướng mắc"),
        ("1", "kiến nghị"),  # Không có vướng mắc
        ("1", "Đính kèm ảnh"),  # Không có kiến nghị
        ("1", "Vui lòng kiểm tra lại báo cáo"),  # Không có minh chứng
        ("1", "Đã lưu ✅"),  # Lưu
    ]
    for typed, expected in steps:
        seen = len(fake.texts(HA))
        fake.push(zalo_text(HA, typed))
        fake.wait_for_text(HA, expected, after=seen)
    [report] = rows(open_session, Report)
    assert (report.status, report.percent, report.result) == (
        Status.IN_PROGRESS,
        60,
        "Đã trình dự thảo kế hoạch",
    )
    assert all(len(t) <= 2000 for t in fake.texts(HA))


def test_a_report_with_an_image(zalo_bot, fake, invite_for, open_session) -> None:
    zalo_bot()
    link(fake, invite_for, "Nguyễn Thu Hà", HA)
    fake.push(zalo_text(HA, "/baocao NV-02"))
    fake.wait_for_text(HA, "Tình trạng hiện nay")
    fake.push(zalo_text(HA, "4"))  # Đã hoàn thành
    fake.wait_for_text(HA, "Đã thực hiện được những gì")
    fake.push(zalo_text(HA, "Đã ban hành quyết định kiện toàn"))
    fake.wait_for_text(HA, "kiến nghị")
    fake.push(zalo_text(HA, "1"))
    fake.wait_for_text(HA, "Đính kèm ảnh")
    photo = b"\xff\xd8\xff\xe0 quyet dinh kien toan"
    fake.push(zalo_image(HA, fake.add_image(photo)))
    fake.wait_for_text(HA, "Đã nhận zalo_")
    seen = len(fake.texts(HA))
    fake.push(zalo_text(HA, "1"))  # Tiếp tục
    fake.wait_for_text(HA, "Minh chứng: 1 tệp", after=seen)
    fake.push(zalo_text(HA, "1"))  # Lưu
    fake.wait_for_text(HA, "Đã lưu ✅")
    [evidence] = rows(open_session, Evidence)
    assert evidence.data == photo


def test_a_wrong_number_or_text_at_a_menu_gets_a_hint_and_the_menu(
    zalo_bot, fake, invite_for
) -> None:
    zalo_bot()
    link(fake, invite_for, "Nguyễn Thu Hà", HA)
    fake.push(zalo_text(HA, "/baocao NV-03"))
    fake.wait_for_text(HA, "Tình trạng hiện nay")
    for typed, expected in (
        ("9", "Không có lựa chọn số 9: hãy trả lời bằng một số từ 1 đến 6"),
        ("xong rồi", "Vui lòng chọn một tình trạng"),
    ):
        seen = len(fake.texts(HA))
        fake.push(zalo_text(HA, typed))
        hint = fake.wait_for_text(HA, expected, after=seen)
        menu = fake.wait_for_text(HA, "Trả lời bằng một số từ 1 đến 6", after=seen)
        assert "1. ⚪ Chưa triển khai" in menu
        assert hint


def test_duplicate_deliveries_are_handled_once(zalo_bot, fake, invite_for, open_session) -> None:
    zalo_bot()
    link(fake, invite_for, "Nguyễn Thu Hà", HA)
    fake.push(zalo_text(HA, "/baocao NV-02 100% Đã kiện toàn", message_id="dup-1"), copies=3)
    fake.push(zalo_text(HA, "/nhiemvu"))
    fake.wait_for_text(HA, "Nhiệm vụ của Phường Hạ Long")
    assert len([t for t in fake.texts(HA) if "Đã lưu ✅" in t]) == 1
    assert len(rows(open_session, Report)) == 1


def test_webhook_takes_both_shapes_and_checks_the_secret(zalo_bot, fake, invite_for) -> None:
    bot = zalo_bot("--webhook")
    url = f"http://127.0.0.1:{bot.port}/zalo/webhook"
    start = zalo_text(HA, f"/start {invite_for('Nguyễn Thu Hà')}")
    assert post(url, start, secret="wrong") == 403
    assert post(url, {"ok": True, "result": start}, secret=SECRET) == 200  # wrapped
    fake.wait_for_text(HA, "Liên kết thành công")
    assert post(url, zalo_text(HA, "/nhiemvu"), secret=SECRET) == 200  # bare
    fake.wait_for_text(HA, "Nhiệm vụ của Phường Hạ Long")


def test_long_lists_are_cut_under_2000_characters(
    zalo_bot, fake, invite_for, open_session, province: Province
) -> None:
    with transaction(open_session) as session:
        for n in range(40):
            add_task(
                session,
                province,
                code=f"DX-{n:02d}",
                deadline=date(2027, 1, 1),
                title="Rà soát, cập nhật cơ sở dữ liệu chuyên ngành " * 2,
                unit_names=["Phường Hạ Long"],
            )
    zalo_bot()
    link(fake, invite_for, "Nguyễn Thu Hà", HA)
    seen = len(fake.texts(HA))
    fake.push(zalo_text(HA, "/nhiemvu"))
    fake.wait_for(
        lambda: any("Trả lời bằng một số" in t for t in fake.texts(HA)[seen:]),
        what="the menu at the end",
    )
    parts = fake.texts(HA)[seen:]
    assert len(parts) >= 3
    assert all(len(p) <= 2000 for p in parts)


def post(url: str, update: dict[str, Any], *, secret: str) -> int:
    request = urllib.request.Request(
        url,
        data=json.dumps(update).encode(),
        headers={"Content-Type": "application/json", "X-Bot-Api-Secret-Token": secret},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def test_a_quota_error_is_retried_later_and_reported(
    fake, open_session, province: Province, chat_as
) -> None:
    zone = ZoneInfo("Asia/Ho_Chi_Minh")
    configuration = configured(zalo_per_chat_interval=0)
    calendar = configuration.calendar
    ha = chat_as("Nguyễn Thu Hà", account=HA)
    with transaction(open_session) as session:
        account = session.get(ChannelAccount, 1)
        assert account is not None
        account.channel = "zalo"  # Thu Hà uses Zalo
        session.add(account)
        session.add(
            GroupBinding(channel="telegram", chat_id="-100777", purpose=GroupPurpose.SECRETARIAT)
        )
    assert ha.name == HA
    now = datetime.combine(date(2026, 11, 23), time(8, 1), tzinfo=zone).astimezone(UTC)
    with transaction(open_session) as session:
        Planner(calendar=calendar, policy=configured().reminders).plan(session, now=now)

    async def send(at: datetime) -> Any:
        client = ZaloClient(token=TOKEN, api_base=fake.base)
        senders: dict[str, Any] = {}
        sender = OutboxSender(
            open_session=open_session,
            sender=ChannelSender(senders),
            render=OutboxRenderer(calendar=calendar, language="vi"),
            grace=configuration.reminders.grace,
        )
        senders["zalo"] = ZaloChannel(
            client=client,
            open_session=open_session,
            config=configuration.handlers,
            limiter=RateLimiter(configuration.zalo_limits),
            replies=sender,
        )
        try:
            return await sender.send_due(now=at)
        finally:
            await client.close()

    fake.spend_quota(1)
    first = asyncio.run(send(now))
    assert first.retried == 1
    reminder = next(r for r in rows(open_session, Outbox) if r.channel == "zalo")
    assert reminder.state == OutboxState.PENDING
    assert reminder.due_at > now, "retried later, not now"
    [warning] = [r for r in rows(open_session, Outbox) if r.key.startswith("quota:zalo:")]
    assert (warning.channel, warning.chat_id) == ("telegram", "-100777"), "the secretariat is told"
    second = asyncio.run(send(now + timedelta(minutes=5)))
    assert second.sent == 1
    assert "🔴 Quá hạn: NV-01" in fake.texts(HA)[-1]


def test_the_token_never_appears_in_errors(fake) -> None:
    async def fail() -> str:
        client = ZaloClient(token=TOKEN, api_base="http://127.0.0.1:9", timeout=2)
        try:
            await client.call("getMe")
        except ZaloNetworkError as error:
            return str(error)
        finally:
            await client.close()
        return ""

    message = asyncio.run(fail())
    assert message
    assert TOKEN not in message


def test_one_officer_on_two_messengers_chooses_where_reminders_go(
    chat_as, open_session, config
) -> None:
    from tests.conftest import Chat

    telegram = chat_as("Nguyễn Thu Hà")
    code = telegram.say("/lienket").split("Mã liên kết: ")[1].split()[0]
    zalo = Chat(HA, open_session=open_session, config=config, channel="zalo")
    assert "Liên kết thành công! Xin chào Nguyễn Thu Hà" in zalo.say(f"/start {code}")
    assert "Bạn muốn nhận ở đâu?" in zalo.say("/kenh")
    assert "Lời nhắc sẽ gửi vào Zalo" in zalo.press("Zalo")
    calendar = configured().calendar
    now = datetime(2026, 11, 23, 1, 1, tzinfo=UTC)
    telegram.now = now + timedelta(hours=1)
    telegram.say("/nhiemvu")  # used last, but Zalo is preferred
    with transaction(open_session) as session:
        Planner(calendar=calendar, policy=configured().reminders).plan(session, now=now)
    channels = {r.channel for r in rows(open_session, Outbox)}
    assert channels == {"zalo"}


def test_the_digest_chart_goes_by_public_url_or_not_at_all(
    engine, fake, invite_for, province: Province, tmp_path: Path
) -> None:
    with_url = ZaloBot(engine=engine, fake=fake, workdir=tmp_path)
    with_url.env["BOT_PUBLIC_BASE_URL"] = f"http://127.0.0.1:{with_url.port}"
    with_url.start()
    try:
        link(fake, invite_for, "Đỗ Quốc Anh", HA)
        fake.push(zalo_text(HA, "/tonghop"))
        fake.wait_for_text(HA, "TỔNG HỢP TIẾN ĐỘ")
        png = fake.wait_for(lambda: fake.fetched_photos, what="the chart fetched by URL")[0]
        assert png.startswith(b"\x89PNG")
    finally:
        assert TOKEN not in with_url.stop()
    without = ZaloBot(engine=engine, fake=fake, workdir=tmp_path).start()
    try:
        seen = len(fake.texts(HA))
        fake.push(zalo_text(HA, "/tonghop"))
        fake.wait_for_text(HA, "TỔNG HỢP TIẾN ĐỘ", after=seen)
        assert len(fake.fetched_photos) == 1, "no public URL: the digest goes as text alone"
    finally:
        without.stop()


def test_in_a_group_a_mention_then_a_command_is_a_command(
    zalo_bot, fake, invite_for, open_session
) -> None:
    zalo_bot()
    link(fake, invite_for, "Đỗ Quốc Anh", HA)
    fake.push(zalo_text(HA, "/manhom"))
    code = fake.wait_for_text(HA, "Mã nhóm của Cơ quan thường trực").split(": ")[1].split()[0]
    group = "g-9c8b7a"
    fake.push(zalo_text(HA, f"@Báo cáo nhiệm vụ /bind {code}", group=group))
    fake.wait_for_text(group, "đây là nhóm của Cơ quan thường trực")
    [binding] = rows(open_session, GroupBinding)
    assert (binding.channel, binding.chat_id) == ("zalo", group)


def test_zalo_as_documented_events_typing_and_server_errors(
    zalo_bot, fake, invite_for, open_session
) -> None:
    """Stickers, voice and messages Zalo does not pass on get a polite word (and the question
    again); images come as "photo" too; "typing…" shows; a 403 is retried, not dropped."""
    bot = zalo_bot()
    link(fake, invite_for, "Nguyễn Thu Hà", HA)
    fake.push(zalo_text(HA, "/baocao NV-02"))
    fake.wait_for_text(HA, "Tình trạng hiện nay")
    answers = {
        "message.sticker.received": "không đọc được nhãn dán",
        "message.voice.received": "chưa nghe được tin nhắn thoại",
        "message.unsupported.received": "không đến được với tôi ở dạng đọc được",
    }
    for event, words in answers.items():
        seen = len(fake.texts(HA))
        fake.push(
            zalo_event(HA, event, sticker="abc") if "sticker" in event else zalo_event(HA, event)
        )
        fake.wait_for_text(HA, words, after=seen)
        fake.wait_for_text(HA, "Tình trạng hiện nay", after=seen)  # the question again
    fake.push(zalo_text(HA, "4"))
    fake.wait_for_text(HA, "Đã thực hiện được những gì")
    fake.push(zalo_text(HA, "Đã ban hành quyết định"))
    fake.wait_for_text(HA, "kiến nghị")
    fake.push(zalo_text(HA, "1"))
    fake.wait_for_text(HA, "Đính kèm ảnh")
    photo = b"\xff\xd8\xff\xe0 anh minh chung"
    image = zalo_event(HA, "message.image.received", photo=fake.add_image(photo))
    fake.push(image)
    fake.wait_for_text(HA, "Đã nhận zalo_")
    assert [e.data for e in rows(open_session, Evidence)] == [photo]
    fake.fail_with_server_error(1)
    seen = len(fake.texts(HA))
    fake.push(zalo_text(HA, "/huy"))
    fake.wait_for_text(HA, "Đã hủy", after=seen, timeout=120)
    refused = [c for c in fake.calls if not c.ok and c.method == "sendMessage"]
    assert refused, "the first try got the platform's 403"
    assert "long polling is for development" in bot.stop()


def test_typing_shows_while_an_answer_takes_time(engine, fake, invite_for, tmp_path) -> None:
    slow = ZaloBot(engine=engine, fake=fake, workdir=tmp_path)
    slow.env["BOT_ZALO_TYPING_AFTER"] = "0"
    slow.start()
    try:
        link(fake, invite_for, "Nguyễn Thu Hà", HA)
        fake.wait_for(
            lambda: [c for c in fake.calls if c.method == "sendChatAction"],
            what="typing…",
        )
        [typing, *_] = [c for c in fake.calls if c.method == "sendChatAction"]
        assert typing.params == {"chat_id": HA, "action": "typing"}
    finally:
        slow.stop()


def test_hostile_bodies_to_the_zalo_webhook(zalo_bot, fake, invite_for, open_session) -> None:
    bot = zalo_bot("--webhook")
    url = f"http://127.0.0.1:{bot.port}/zalo/webhook"
    for what, body in HOSTILE_BODIES.items():
        status, answer = post_bytes(url, body, header="X-Bot-Api-Secret-Token", secret=SECRET)
        assert status == 400, what
        assert "Traceback" not in answer, what
    status, _ = post_bytes(url, TOO_LARGE, header="X-Bot-Api-Secret-Token", secret=SECRET)
    assert status == 413
    assert rows(open_session, InboxUpdate) == []
    assert post(url, zalo_text(HA, f"/start {invite_for('Nguyễn Thu Hà')}"), secret=SECRET) == 200
    fake.wait_for_text(HA, "Liên kết thành công")
    assert "Traceback" not in bot.stop()


def test_a_bot_that_cannot_join_groups_promises_no_group_digest(
    zalo_bot, fake, invite_for, open_session, province: Province
) -> None:
    fake.can_join_groups = False
    zalo_bot()
    link(fake, invite_for, "Đỗ Quốc Anh", HA)
    fake.push(zalo_text(HA, "/manhom"))
    note = fake.wait_for_text(HA, "Mã nhóm của Cơ quan thường trực")
    assert "trên Zalo, bot này không tham gia được nhóm chat" in note
    with transaction(open_session) as session:
        [account] = session.exec(select(MessengerAccount)).all()
        assert (account.channel, account.can_join_groups) == ("zalo", False)
        session.add(GroupBinding(channel="zalo", chat_id="g-1", purpose=GroupPurpose.SECRETARIAT))
        session.add(
            GroupBinding(channel="telegram", chat_id="-100", purpose=GroupPurpose.SECRETARIAT)
        )
        lead = province.officers["Lê Minh Tuấn"]
        session.add(
            ChannelAccount(
                channel="zalo",
                external_id="lead-zalo",
                officer_id=lead.id,
                created_at=datetime.now(UTC),
                last_seen_at=datetime.now(UTC),
            )
        )
    with transaction(open_session) as session:
        queue_digests(session, now=datetime(2026, 11, 26, 1, 0, tzinfo=UTC))
    digests = {
        (r.channel, r.chat_id) for r in rows(open_session, Outbox) if r.key.startswith("digest:")
    }
    assert ("zalo", "g-1") not in digests, "not promised to a Zalo group"
    assert ("telegram", "-100") in digests, "the secretariat's other group gets it"
    assert ("zalo", "lead-zalo") in digests, "Hạ Long's lead gets the unit's in private"


def test_the_zalo_secret_must_be_8_to_256_characters(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOT_ZALO_WEBHOOK_SECRET", "short")
    with pytest.raises(SettingsError) as error:
        load_settings()
    assert error.value.variable == "BOT_ZALO_WEBHOOK_SECRET"
    assert "8 to 256" in str(error.value)
    monkeypatch.setenv("BOT_ZALO_WEBHOOK_SECRET", "x" * 8)
    assert load_settings().zalo_webhook_secret is not None
