"""Commands, flows and notification kinds are each declared in one place; what is derived from
those declarations (dispatch, help, the command menu, keys) follows them."""

from __future__ import annotations

import typing
from datetime import UTC, date, datetime

import pytest
from pydantic import BaseModel

from handlers import flows
from handlers.commands import BY_NAME, COMMANDS, menu_commands
from handlers.context import Context
from handlers.dispatch import _context
from handlers.flow import Answer, Finish, Flow, FlowDraft, FlowState, Invalid, Outcome, Step
from models.conversations import ConversationState, end_conversation
from models.db import transaction
from models.enums import ChatKind
from models.messages import Inbound, Reply
from models.queue import (
    AnyPayload,
    DigestPayload,
    EscalationPayload,
    OutboxKind,
    OverduePayload,
    ReminderPayload,
)
from tests.conftest import NOW, Chat


def test_every_command_name_means_one_command() -> None:
    names = [n for c in COMMANDS for n in {n for ns in c.names.values() for n in ns}]
    assert len(names) == len(set(names)) == len(BY_NAME), "a name used by two commands"
    for language in ("vi", "en"):
        menu = [name for name, _label in menu_commands(language)]
        assert len(menu) == len(set(menu))
        assert all(name.isascii() and name.islower() and len(name) <= 32 for name in menu)
    assert [n for n, _ in menu_commands("vi")][:3] == ["nhiemvu", "baocao", "sua"]
    assert [n for n, _ in menu_commands("en")][:3] == ["tasks", "report", "fix"]


def test_help_lists_what_this_person_may_use_here(chat_as, open_session, config) -> None:
    officer_help = chat_as("Nguyễn Thu Hà").say("/trogiup")
    assert "/nhiemvu: nhiệm vụ của đơn vị" in officer_help
    assert "/baocao MÃ 60% nội dung đã làm" in officer_help
    assert "/xuatfile" not in officer_help, "the secretariat's commands are not offered"
    secretariat_help = chat_as("Đỗ Quốc Anh").say("/help")
    assert "/xuatfile: số liệu dạng bảng tính Excel" in secretariat_help
    assert "/manhom [ĐƠN VỊ]" in secretariat_help
    english = chat_as("Trần Văn Nam", language="en").say("/help")
    assert "/tasks: your unit's tasks" in english
    assert "/report CODE 60% what was done" in english
    group = Chat("group", open_session=open_session, config=config, chat_kind=ChatKind.GROUP)
    in_group = group.say("/help")
    assert "/tonghop" in in_group
    assert "/bind MÃ" in in_group
    assert "/nhiemvu" not in in_group, "private commands are not listed in a group"


def test_the_role_is_checked_by_the_table_for_every_name(chat_as) -> None:
    ha = chat_as("Nguyễn Thu Hà")
    for name in ("/xuatfile", "/export", "/manhom", "/groupcode"):
        assert "Chỉ Cơ quan thường trực mới dùng được lệnh" in ha.say(name)
    assert "dòng" in chat_as("Đỗ Quốc Anh").say("/xuatfile")


# ---- a second guided flow needs only its draft and steps -----------------------------------


class FeedbackDraft(FlowDraft):
    rating: int | None = None
    comment: str | None = None


class FeedbackState(FlowState[FeedbackDraft]):
    pass


def ask_rating(state: FeedbackState) -> Reply:
    choices = [FEEDBACK.choice(state, str(n), f"r{n}") for n in (1, 2, 3)]
    return state.ctx.reply("How useful is the bot? (1-3)", [*choices, *FEEDBACK.navigation(state)])


def accept_rating(state: FeedbackState, answer: Answer) -> Outcome:
    if not (answer.choice or "").startswith("r"):
        raise Invalid("Pick 1, 2 or 3.")
    state.draft.rating = int((answer.choice or "r0")[1:])
    return None


def ask_comment(state: FeedbackState) -> Reply:
    return state.ctx.reply("Anything to add?", FEEDBACK.navigation(state))


def accept_comment(state: FeedbackState, answer: Answer) -> Outcome:
    state.draft.comment = answer.text
    return Finish()


class FeedbackFlow(Flow[FeedbackState]):
    name = "feedback"
    steps = (
        Step("rating", "Rating", ask_rating, accept_rating),
        Step("comment", "Comment", ask_comment, accept_comment),
    )
    finished: typing.ClassVar[list[FeedbackDraft]] = []

    def load(self, ctx: Context, conversation: ConversationState) -> FeedbackState | list[Reply]:
        draft = FeedbackDraft.model_validate(conversation.data)
        return FeedbackState(ctx=ctx, conversation=conversation, draft=draft)

    def finish(self, state: FeedbackState) -> list[Reply]:
        self.finished.append(state.draft)
        end_conversation(state.ctx.session, state.conversation)
        return [state.ctx.reply("Thanks!")]


FEEDBACK = FeedbackFlow()


def test_a_second_flow_runs_on_the_same_runner(
    chat_as, open_session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(flows.FLOWS, FEEDBACK.name, FEEDBACK)
    ha = chat_as("Nguyễn Thu Hà")
    ha.say("/nhiemvu")  # the account exists; now a handler opens the new flow
    with transaction(open_session) as session:
        inbound = Inbound(
            channel="test",
            chat_id=ha.name,
            sender_id=ha.name,
            delivery_id="feedback-start",
            received_at=NOW,
        )
        ctx = _context(session, inbound, ha.config)
        draft = FeedbackDraft()
        state = FeedbackState(ctx=ctx, conversation=FEEDBACK.open(ctx, draft), draft=draft)
        ha.replies = FEEDBACK.begin_at(state, FEEDBACK.steps[0])
    assert "How useful" in ha.text
    assert "Pick 1, 2 or 3." in ha.say("hello")
    assert "Anything to add?" in ha.say("3")
    assert "How useful" in ha.say("/quaylai"), "Back works in every flow"
    assert "Anything to add?" in ha.say("2")
    assert "Thanks!" in ha.say("Very handy on Zalo")
    assert FeedbackFlow.finished[-1].rating == 2
    assert FeedbackFlow.finished[-1].comment == "Very handy on Zalo"


# ---- notification kinds --------------------------------------------------------------------


def test_every_outbox_kind_has_one_payload_model() -> None:
    union = typing.get_args(typing.get_args(AnyPayload)[0])
    kinds = [model.model_fields["kind"].default for model in union]
    assert sorted(kinds) == sorted(OutboxKind)
    assert all(issubclass(model, BaseModel) for model in union)


def test_outbox_keys_keep_the_form_rows_already_stored_have() -> None:
    """Rows planned by an earlier version must be recognised, or a reminder goes out twice."""
    due = date(2026, 11, 30)
    reminder = ReminderPayload(account_id=3, assignment_id=12, due=due, days_before=1)
    assert reminder.key(channel="telegram", chat_id="42") == "reminder:12:3:1:2026-11-30"
    overdue = OverduePayload(account_id=3, assignment_id=12, due=due, nudge=2)
    assert overdue.key(channel="telegram", chat_id="42") == "overdue:12:3:2:2026-11-30"
    escalation = EscalationPayload(account_id=3, assignment_id=12, due=due)
    assert escalation.key(channel="zalo", chat_id="ab") == "escalation:12:3:2026-11-30"
    digest = DigestPayload(at=datetime(2026, 11, 23, 1, tzinfo=UTC))
    assert digest.key(channel="telegram", chat_id="-100").startswith("digest:telegram:-100:")


def test_the_rows_as_the_handlers_hold_them_have_every_column_of_their_table() -> None:
    from dataclasses import fields

    from models.snapshots import TABLE_OF
    from models.tables import Conversation

    for snapshot, table in [*TABLE_OF.items(), (ConversationState, Conversation)]:
        columns = set(table.__table__.c.keys())  # type: ignore[attr-defined]
        assert {f.name for f in fields(snapshot)} == columns, snapshot.__name__
