"""Input from people who mistype, from old phones, and from people who try things: guessing
codes, forging buttons, pasting 10,000 characters. Nothing crashes, nothing saved is lost,
nothing of another unit is seen or changed."""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import select

from handlers.code_guard import OVERALL, PER_ACCOUNT
from handlers.dispatch import handle
from handlers.report import Draft
from models.attempts import wrong_codes_summary
from models.db import SessionFactory, transaction
from models.enums import ChatKind
from models.messages import Inbound
from models.tables import Assignment, CodeAttempt, Conversation, Report
from tests.conftest import NOW, Chat, Province, rows


def test_guessing_invite_codes_is_stopped_per_account(chat_as, invite_for, open_session) -> None:
    guesser = chat_as(None, account="guesser")
    for n in range(PER_ACCOUNT):
        assert "không hợp lệ" in guesser.say(f"/start WRONG{n:03d}")
    good = invite_for("Phạm Thị Lan")
    refused = guesser.say(f"/start {good}")
    assert "Vui lòng chờ 14 phút" in refused, "even a right code, while guessing is stopped"
    assert "Liên kết thành công" in chat_as(None, account="someone-else").say(f"/start {good}")
    guesser.now += timedelta(minutes=16)
    assert "đã được sử dụng" in guesser.say(f"/start {good}"), "the wait is over"
    with open_session() as session:
        summary = wrong_codes_summary(session, since=NOW - timedelta(hours=1))
    assert (summary.count, summary.accounts) == (PER_ACCOUNT + 1, 1)


def test_guessing_from_many_accounts_stops_every_code_for_a_while(
    chat_as, invite_for, open_session, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="handlers.code_guard"):
        for n in range(OVERALL):
            chat_as(None, account=f"bot-{n}").say(f"/start GUESS{n:03d}")
    assert len(rows(open_session, CodeAttempt)) == OVERALL
    assert len([r for r in caplog.records if "wrong invite code" in r.message]) == OVERALL
    newcomer = chat_as(None, account="newcomer")
    answer = newcomer.say(f"/start {invite_for('Phạm Thị Lan')}")
    assert "tạm không nhận mã trong 15 phút" in answer


def test_wrong_group_codes_count_too(chat_as, open_session, config) -> None:
    group = Chat("group-x", open_session=open_session, config=config, chat_kind=ChatKind.GROUP)
    for _ in range(PER_ACCOUNT):
        assert "không hợp lệ" in group.say("/bind NOPE1234")
    assert "Vui lòng chờ" in group.say("/bind NOPE1234")
    assert {a.kind for a in rows(open_session, CodeAttempt)} == {"group"}


# ---- fuzzing every step of the guided report -----------------------------------------------

STEPS_BY_ANSWERS: dict[str, list[str]] = {
    "task": [],
    "status": ["NV-03"],
    "percent": ["NV-03", "2"],
    "result": ["NV-03", "2", "60"],
    "blockers": ["NV-03", "2", "60", "Đã họp"],
    "proposals": ["NV-03", "2", "60", "Đã họp", "/boqua"],
    "evidence": ["NV-03", "2", "60", "Đã họp", "/boqua", "/boqua"],
    "confirm": ["NV-03", "2", "60", "Đã họp", "/boqua", "/boqua", "/boqua"],
}

texts = st.one_of(
    st.text(max_size=200),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=50),
    st.sampled_from(
        [
            "\x00\x01\x1b[31m",
            "x" * 10_000,
            "1" * 10_000,
            "/baocao NV-09 100% chiếm nhiệm vụ của xã khác",
            "/sua NV-09",
            '=HYPERLINK("http://x")',
            "999999999999999999999",
            "-5",
            "1e309",
            "NaN",
            "/",
            "//",
            "/start",
            "\u202e\u200d\ufeff",
        ]
    ),
)
forged = st.one_of(
    st.text(max_size=80),
    st.sampled_from(["rep:", "fix:", "snooze:", "chan:", "lang:", "go:", "edit:", ":", "::"]),
    st.integers(min_value=-5, max_value=10**12).map(lambda n: f"rep:{n}"),
    st.integers(min_value=-5, max_value=10**12).map(lambda n: f"fix:{n}"),
    st.integers(min_value=-5, max_value=10**12).map(lambda n: f"snooze:{n}"),
    st.builds(lambda a, b: f"{a}:{b}", st.text(max_size=8), st.text(max_size=20)),
)


def other_units_untouched(open_session: SessionFactory, province: Province) -> None:
    """Nothing of Xã Ba Chẽ was reported by Phường Hạ Long's officer."""
    ba_che = province.units["Xã Ba Chẽ"].id
    with open_session() as session:
        foreign = session.exec(
            select(Report)
            .join(Assignment, Assignment.id == Report.assignment_id)  # type: ignore[arg-type]
            .where(Assignment.unit_id == ba_che)
        ).all()
    assert foreign == []


def conversation_readable(open_session: SessionFactory) -> None:
    for conversation in rows(open_session, Conversation):
        Draft.model_validate(conversation.data)  # the state is intact


@pytest.mark.parametrize("step", list(STEPS_BY_ANSWERS))
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(text=texts, choice=st.one_of(st.none(), forged))
def test_any_input_at_any_step_is_answered_without_a_crash(
    step: str, text: str, choice: str | None, chat_as, open_session, province: Province
) -> None:
    ha = chat_as("Nguyễn Thu Hà", account=f"ha-{uuid.uuid4().hex[:8]}")
    ha.say("/baocao")
    for answer in STEPS_BY_ANSWERS[step]:
        ha.say(answer)
    replies = ha.send(text=text, choice=choice)
    assert replies, "every input gets an answer"
    assert all(r.text.strip() for r in replies)
    other_units_untouched(open_session, province)
    conversation_readable(open_session)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    sender=st.text(min_size=1, max_size=64).filter(lambda s: s.replace("\x00", "").strip()),
    text=texts,
    choice=st.one_of(st.none(), forged),
    group=st.booleans(),
)
def test_unknown_people_and_groups_get_answers_not_data(
    sender: str,
    text: str,
    choice: str | None,
    group: bool,
    open_session,
    config,
    province: Province,
) -> None:
    inbound = Inbound(
        channel="test",
        chat_id=sender if not group else f"group-{sender}"[:64],
        chat_kind=ChatKind.GROUP if group else ChatKind.PRIVATE,
        sender_id=sender,
        sender_name=sender[:40],
        text=text,
        choice=choice,
        delivery_id=uuid.uuid4().hex,
        received_at=NOW,
    )
    for reply in handle(inbound, open_session=open_session, config=config):
        assert "NV-0" not in reply.text, "a stranger sees no task"
    other_units_untouched(open_session, province)


def test_an_edited_or_resent_message_is_handled_once(chat_as, open_session) -> None:
    ha = chat_as("Nguyễn Thu Hà")
    assert ha.send(text="/baocao NV-02 100% Đã xong", delivery_id="edit-1")
    assert ha.send(text="/baocao NV-02 10% đã sửa tin", delivery_id="edit-1") == []
    [report] = rows(open_session, Report)
    assert report.percent == 100
    with transaction(open_session) as session:
        assert session.exec(select(Report)).all()
