"""The JSON body of a Bot API request says what aiogram's form would have said, no more, no less."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from aiogram import Bot
from aiogram.client.default import Default, DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError, TelegramRetryAfter
from aiogram.methods import (
    AnswerCallbackQuery,
    EditMessageReplyMarkup,
    EditMessageText,
    GetUpdates,
    SendDocument,
    SendMessage,
    SendPhoto,
    SetMyCommands,
    TelegramMethod,
)
from aiogram.types import (
    BotCommand,
    BotCommandScopeDefault,
    BufferedInputFile,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    ReplyParameters,
)

from bot.channels.telegram import keyboard
from bot.channels.telegram_session import json_body
from bot.channels.telegram_unread import (
    EditMessageReplyMarkupUnread,
    EditMessageTextUnread,
    SendMessageUnread,
)
from models.messages import Choice

TOKEN = "42:TEST"
MENU = InlineKeyboardMarkup(
    inline_keyboard=[
        [InlineKeyboardButton(text="Đang thực hiện", callback_data="st:in_progress")],
        [
            InlineKeyboardButton(text="◀ Quay lại", callback_data="nav:back"),
            InlineKeyboardButton(text="✖ Hủy", callback_data="nav:cancel"),
        ],
    ]
)

METHODS: list[TelegramMethod[Any]] = [
    SendMessage(chat_id=820_000_000_001, text="Tình trạng hiện nay?", reply_markup=MENU),
    SendMessage(chat_id="-1002233445566", text="Đã lưu ✅", disable_notification=False),
    SendMessage(chat_id=1, text="x", reply_parameters=ReplyParameters(message_id=7)),
    EditMessageText(chat_id=5, message_id=9, text='60% — "đúng" & <b>', reply_markup=MENU),
    EditMessageReplyMarkup(chat_id=5, message_id=9, reply_markup=None),
    AnswerCallbackQuery(callback_query_id="abc"),
    GetUpdates(offset=0, timeout=25, allowed_updates=["message", "callback_query"]),
    SetMyCommands(
        commands=[BotCommand(command="baocao", description="Báo cáo tiến độ")],
        scope=BotCommandScopeDefault(),
        language_code="vi",
    ),
]


def form_fields(bot: Bot, method: TelegramMethod[Any]) -> dict[str, str]:
    """What aiogram's own session would post, field by field."""
    form = AiohttpSession().build_form_data(bot, method)
    return {str(options["name"]): str(value) for options, _headers, value in form._fields}


def as_form_would(body: bytes) -> dict[str, str]:
    """A JSON body's parameters written as form fields (aiogram dumps non-strings as JSON)."""
    return {
        key: value if isinstance(value, str) else json.dumps(value)
        for key, value in json.loads(body).items()
    }


@pytest.mark.parametrize(
    "defaults",
    [
        None,
        DefaultBotProperties(
            parse_mode="HTML",
            protect_content=True,
            link_preview=LinkPreviewOptions(is_disabled=True),
            allow_sending_without_reply=True,
        ),
    ],
    ids=["no defaults", "bot defaults"],
)
@pytest.mark.parametrize("method", METHODS, ids=lambda m: type(m).__name__)
def test_a_json_body_carries_what_the_form_would(
    method: TelegramMethod[Any], defaults: DefaultBotProperties | None
) -> None:
    bot = Bot(TOKEN, default=defaults)
    body = json_body(bot, method)
    if body is None:
        # A bot default left unset inside a parameter (the reply's quote_parse_mode, the link
        # preview's prefer_small_media) is left out by aiogram's form: the request goes so.
        assert unset_nested_default(bot, method)
        return
    assert as_form_would(body) == form_fields(bot, method)


def unset_nested_default(bot: Bot, method: TelegramMethod[Any]) -> bool:
    def unset(value: Any, depth: int) -> bool:
        if isinstance(value, Default):
            resolved = bot.default[value.name]
            if resolved is None:
                return depth > 0
            return unset(resolved.model_dump() if hasattr(resolved, "model_dump") else 0, depth)
        if isinstance(value, dict):
            return any(unset(item, depth + 1) for item in value.values())
        return False

    return unset(method.model_dump(warnings=False, exclude_none=True), -1)


def test_the_requests_the_bot_makes_all_go_as_json() -> None:
    bot = Bot(TOKEN)  # the bot is made with no defaults, and quotes no message
    asked = [m for m in METHODS if getattr(m, "reply_parameters", None) is None]
    assert len(asked) == len(METHODS) - 1
    assert all(json_body(bot, method) is not None for method in asked)


def test_the_bot_defaults_are_filled_in() -> None:
    method = SendMessage(chat_id=1, text="x")
    plain = json.loads(json_body(Bot(TOKEN), method) or b"")
    assert plain == {"chat_id": 1, "text": "x"}
    defaults = DefaultBotProperties(parse_mode="HTML", link_preview_is_disabled=True)
    filled = json.loads(json_body(Bot(TOKEN, default=defaults), method) or b"")
    assert filled["parse_mode"] == "HTML"
    assert filled["link_preview_options"] == {"is_disabled": True}


def test_files_and_values_json_cannot_carry_go_as_aiogram_s_form() -> None:
    bot = Bot(TOKEN)
    photo = BufferedInputFile(b"\x89PNG", filename="chart.png")
    assert json_body(bot, SendPhoto(chat_id=1, photo=photo)) is None
    assert json_body(bot, SendDocument(chat_id=1, document=photo, caption="Báo cáo")) is None
    # A file already on Telegram's servers is only its id: JSON carries that.
    assert json.loads(json_body(bot, SendPhoto(chat_id=1, photo="AgAD-file-id")) or b"") == {
        "chat_id": 1,
        "photo": "AgAD-file-id",
    }


def test_a_time_goes_as_a_unix_timestamp() -> None:
    bot = Bot(TOKEN)
    from aiogram.methods import BanChatMember

    until = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)
    method = BanChatMember(chat_id=-100, user_id=5, until_date=until)
    assert as_form_would(json_body(bot, method) or b"") == form_fields(bot, method)


def test_a_keyboard_is_built_once_per_set_of_buttons() -> None:
    choices = (Choice(label="Hoàn thành", data="st:done"), Choice(label="Hủy", data="nav:x"))
    again = tuple(Choice(label=c.label, data=c.data) for c in choices)
    assert keyboard(choices) is keyboard(again)
    assert keyboard(()) is None


UNREAD = [
    (
        SendMessageUnread(chat_id=820_000_000_001, text="Tình trạng hiện nay?", reply_markup=MENU),
        SendMessage(chat_id=820_000_000_001, text="Tình trạng hiện nay?", reply_markup=MENU),
    ),
    (
        EditMessageTextUnread(chat_id=5, message_id=9, text="60%", reply_markup=MENU),
        EditMessageText(chat_id=5, message_id=9, text="60%", reply_markup=MENU),
    ),
    (
        EditMessageReplyMarkupUnread(chat_id=5, message_id=9, reply_markup=None),
        EditMessageReplyMarkup(chat_id=5, message_id=9, reply_markup=None),
    ),
]
SENT = json.dumps(
    {
        "ok": True,
        "result": {
            "message_id": 9,
            "date": 1_764_700_000,
            "chat": {"id": 5, "type": "private", "first_name": "Hà"},
            "text": "60%",
            "reply_markup": MENU.model_dump(exclude_none=True),
        },
    }
)


@pytest.mark.parametrize(("unread", "method"), UNREAD, ids=lambda m: type(m).__name__)
def test_a_method_whose_answer_is_not_read_sends_the_same_request(
    unread: TelegramMethod[Any], method: TelegramMethod[Any]
) -> None:
    bot = Bot(TOKEN, default=DefaultBotProperties(parse_mode="HTML"))
    assert unread.__api_method__ == method.__api_method__
    assert json_body(bot, unread) == json_body(bot, method)
    session = AiohttpSession()
    assert session.check_response(bot, method, 200, SENT).result.message_id == 9  # type: ignore[union-attr]
    # The message comes back as the server's JSON, not validated into aiogram's types…
    assert session.check_response(bot, unread, 200, SENT).result["message_id"] == 9
    # …and a refusal is the same error as before.
    refusals = [
        (429, {"retry_after": 3}, TelegramRetryAfter),
        (403, None, TelegramForbiddenError),
        (400, None, TelegramBadRequest),
    ]
    for status, parameters, error in refusals:
        answer = {"ok": False, "error_code": status, "description": "refused"}
        if parameters:
            answer["parameters"] = parameters
        with pytest.raises(error):
            session.check_response(bot, unread, status, json.dumps(answer))
