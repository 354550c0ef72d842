"""The Telegram channel on aiogram 3: it only translates.

Updates become `Inbound` (text, commands, button presses, photos, documents); `Reply` becomes a
message with an inline keyboard, edited in place where the reply allows it. Every request goes
through `PoliteRequests`, which paces sends with the shared rate limiter and retries what
Telegram asks to retry.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable
from contextvars import ContextVar
from datetime import UTC, datetime
from io import BytesIO
from typing import Any

from aiogram import Bot
from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.methods import (
    AnswerCallbackQuery,
    EditMessageReplyMarkup,
    EditMessageText,
    GetFile,
    GetUpdates,
    SendChatAction,
    SendDocument,
    SendMessage,
    SendPhoto,
    TelegramMethod,
)
from aiogram.methods.base import Response, TelegramType
from aiogram.types import (
    BotCommand,
    BotCommandScopeDefault,
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    Update,
)
from pydantic import ValidationError
from sqlalchemy.exc import SQLAlchemyError

from bot.aiogram_models import build_now
from bot.channels.delivery import QueuedReplies, first_request_leaves
from bot.channels.rate_limit import RateLimiter
from bot.channels.telegram_session import JsonSession
from bot.channels.telegram_unread import (
    EditMessageReplyMarkupUnread,
    EditMessageTextUnread,
    SendMessageUnread,
)
from bot.channels.text_split import split_text
from bot.channels.typing_indicator import typing_while_slow
from bot.inbox import Inbox, UnreadableUpdate
from handlers.commands import menu_commands
from handlers.context import HandlerConfig
from handlers.dispatch import handle_queued
from locales import LANGUAGES, Translator
from models.accounts import mark_unreachable
from models.db import SessionFactory, transaction
from models.enums import ChatKind
from models.messages import (
    Attachment,
    Choice,
    Inbound,
    OutcomeUnknown,
    PermanentFailure,
    Reply,
    TemporaryFailure,
    UnreadableKind,
)

CHANNEL = "telegram"
MESSAGE_LIMIT = 4096
MAX_ATTEMPTS = 5
BACKOFF_CAP = 30.0
ALLOWED_UPDATES = ["message", "callback_query"]
HANDLED_CHATS = frozenset({"private", "group", "supergroup"})  # not channels
TYPING_SHOWN_FOR = 5.0  # seconds Telegram shows "typing…" after a chat action

log = logging.getLogger(__name__)

SENT_METHODS = (  # every method the channel sends
    AnswerCallbackQuery,
    EditMessageReplyMarkupUnread,
    EditMessageTextUnread,
    GetFile,
    GetUpdates,
    SendChatAction,
    SendDocument,
    SendMessageUnread,
    SendPhoto,
)

# aiogram reads every answer as `Response[<the method's result type>]`, a pydantic generic class
# that pydantic caches only weakly: once collected, the next answer builds the class again
# (a few milliseconds of CPU, most of a request's cost). Holding them keeps them built.
_RESPONSE_TYPES = tuple(
    Response[method.__returning__]  # type: ignore[name-defined]
    for method in SENT_METHODS
)

# The models the channel reads and sends, built now: aiogram's are built when first used
# (`bot.aiogram_models`), so the first update would pay for them, and one that could not be
# built would fail then instead of at start.
build_now(Update, *SENT_METHODS)


def make_bot(
    *, token: str, api_base: str, limiter: RateLimiter, request_timeout: float = 30.0
) -> Bot:
    """An aiogram Bot talking to `api_base` (Telegram's, or a custom Bot API server)."""
    session = JsonSession(api=TelegramAPIServer.from_base(api_base), timeout=request_timeout)
    session.middleware(PoliteRequests(limiter))
    return Bot(token=token, session=session)


def backoff(attempt: int) -> float:
    """0.5, 1, 2, 4 … seconds, at most BACKOFF_CAP."""
    return float(min(BACKOFF_CAP, 0.5 * 2 ** (attempt - 1)))


class PoliteRequests(BaseRequestMiddleware):
    """Paces messages through the shared limiter; retries 429 after `retry_after`, and 5xx and
    network errors with backoff, a bounded number of times."""

    PACED = (SendMessage, SendPhoto, SendDocument, EditMessageText, EditMessageReplyMarkup)

    def __init__(self, limiter: RateLimiter) -> None:
        self.limiter = limiter

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        chat_id = getattr(method, "chat_id", None)
        paced = isinstance(method, self.PACED)
        if not paced or chat_id is None:
            return await self._with_retries(make_request, bot, method)
        chat = str(chat_id)
        async with self.limiter.slot(chat, group=chat.startswith("-")):
            await first_request_leaves()
            return await self._with_retries(make_request, bot, method)

    async def _with_retries(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        attempt = 0
        while True:
            attempt += 1
            try:
                return await make_request(bot, method)
            except TelegramRetryAfter as error:
                if attempt >= MAX_ATTEMPTS:
                    raise
                log.warning(
                    "Telegram asked to wait %ss before %s",
                    error.retry_after,
                    method.__api_method__,
                )
                await asyncio.sleep(error.retry_after)
            except (TelegramServerError, TelegramNetworkError) as error:
                # Polling has its own loop. A reply in a conversation is retried even after a
                # timeout (a missing answer is worse than a rare duplicate); an outbox notice is
                # not (see `at_most_once`): the outbox records its outcome as unknown instead.
                if isinstance(method, GetUpdates) or attempt >= MAX_ATTEMPTS:
                    raise
                if at_most_once.get() and is_timeout(error):
                    raise
                delay = backoff(attempt)
                log.warning(
                    "%s failed (%s); retry %d in %.1fs",
                    method.__api_method__,
                    type(error).__name__,
                    attempt,
                    delay,
                )
                await asyncio.sleep(delay)


# Set while an outbox notice is being sent: a timed-out request may have been delivered, so it is
# not repeated (a Bot API send has no idempotency key).
at_most_once: ContextVar[bool] = ContextVar("at_most_once", default=False)


def is_timeout(error: Exception) -> bool:
    """aiogram reports a timeout (the request may have arrived) as a network error."""
    return isinstance(error, TelegramNetworkError) and "timeout" in str(error).lower()


def update_reader(bot: Bot) -> Callable[[dict[str, Any]], tuple[str, Update] | None]:
    """Reads a webhook body into its update id and an `Update` bound to `bot` (so it is read
    once: the handlers take it as it is); None if the body is not a Telegram update."""

    def read(payload: dict[str, Any]) -> tuple[str, Update] | None:
        try:
            update = Update.model_validate(payload, context={"bot": bot})
        except ValidationError:
            return None
        return str(update.update_id), update

    return read


def chat_of_update(payload: dict[str, Any]) -> str:
    """The chat an update belongs to, so the inbox keeps each chat's updates in order ("?" for
    a payload of no known shape: it is set aside when handled)."""

    def part(value: object, key: str) -> dict[str, Any]:
        inner = value.get(key) if isinstance(value, dict) else None
        return inner if isinstance(inner, dict) else {}

    query = part(payload, "callback_query")
    chat = part(part(payload, "message") or part(query, "message"), "chat")
    if "id" in chat:
        return str(chat["id"])
    return str(part(query, "from").get("id", "?"))


@functools.lru_cache(maxsize=2048)
def keyboard(choices: tuple[Choice, ...]) -> InlineKeyboardMarkup | None:
    """One button a row; Back, Skip and Cancel together on the last row. Kept once built
    (aiogram's objects are frozen): most questions show the same buttons to everyone, and
    each button is a pydantic model bound to the bot, built anew for every message before."""
    if not choices:
        return None
    rows = [
        [InlineKeyboardButton(text=c.label, callback_data=c.data)]
        for c in choices
        if not c.command
    ]
    navigation = [
        InlineKeyboardButton(text=c.label, callback_data=c.data) for c in choices if c.command
    ]
    if navigation:
        rows.append(navigation)
    return InlineKeyboardMarkup(inline_keyboard=rows)


class TelegramChannel:
    """Translates between Telegram and the conversations in `handlers`."""

    def __init__(
        self,
        *,
        bot: Bot,
        open_session: SessionFactory,
        config: HandlerConfig,
        replies: QueuedReplies,
        typing_after: float = 1.0,
    ) -> None:
        self.bot = bot
        self.replies = replies
        self.typing_after = typing_after
        self.open_session = open_session
        self.config = config

    async def process(self, payload: dict[str, Any], parsed: Update | None) -> bool:
        """Handle one stored update (the inbox calls this), as read by getUpdates if it came
        that way (bound to this bot: aiogram would read it again otherwise); True if the
        handlers marked it handled in their own transaction."""
        update = parsed if parsed is not None and parsed.bot is self.bot else None
        if update is None:
            try:
                update = Update.model_validate(payload, context={"bot": self.bot})
            except ValidationError as error:
                raise UnreadableUpdate(
                    f"not a Telegram update ({error.error_count()} problems)"
                ) from None
        # Two kinds of update, each to its method: aiogram's Dispatcher (routers, filters,
        # middlewares, a context per update) cost more than the choice it made here.
        if update.message is not None and update.message.chat.type in HANDLED_CHATS:
            return await self.on_message(update.message, update)
        if update.callback_query is not None:
            return await self.on_button(update.callback_query, update)
        return False

    # ---- inbound ----------------------------------------------------------------------------

    async def on_message(self, message: Message, event_update: Update) -> bool:
        if message.from_user is None or message.from_user.is_bot:
            return False
        attachments = await self._attachments(message)
        inbound = Inbound(
            channel=CHANNEL,
            chat_id=str(message.chat.id),
            chat_kind=_chat_kind(message),
            sender_id=str(message.from_user.id),
            sender_name=message.from_user.full_name,
            text=message.text or message.caption or "",
            unreadable=_unreadable(message),
            attachments=attachments,
            delivery_id=str(event_update.update_id),
            received_at=_aware(message.date),
        )
        return await self._answer(inbound)

    async def on_button(self, query: CallbackQuery, event_update: Update) -> bool:
        # Acknowledge first, so the button stops spinning whatever happens next.
        try:
            await self.bot.answer_callback_query(query.id)
        except TelegramBadRequest:
            log.info("callback query %s too old to answer", query.id)
        message = query.message if isinstance(query.message, Message) else None
        if message is None or query.data is None:
            return False
        inbound = Inbound(
            channel=CHANNEL,
            chat_id=str(message.chat.id),
            chat_kind=_chat_kind(message),
            sender_id=str(query.from_user.id),
            sender_name=query.from_user.full_name,
            choice=query.data,
            answers_message=str(message.message_id),
            delivery_id=str(event_update.update_id),
            received_at=datetime.now(UTC),
        )
        return await self._answer(inbound)

    async def _attachments(self, message: Message) -> tuple[Attachment, ...]:
        """The photo (largest size) or document of a message, fetched with getFile."""
        if message.photo:
            photo = message.photo[-1]
            data = await self._download(photo.file_id, photo.file_size)
            name = f"photo_{photo.file_unique_id}.jpg"
            return (
                Attachment(
                    kind="photo",
                    file_name=name,
                    content_type="image/jpeg",
                    data=data,
                    declared_size=photo.file_size,
                ),
            )
        if message.document:
            document = message.document
            data = await self._download(document.file_id, document.file_size)
            return (
                Attachment(
                    kind="document",
                    file_name=document.file_name or f"document_{document.file_unique_id}",
                    content_type=document.mime_type or "application/octet-stream",
                    data=data,
                    declared_size=document.file_size,
                ),
            )
        return ()

    async def _download(self, file_id: str, size: int | None) -> bytes:
        if size is not None and size > self.config.evidence_max_bytes:
            return b""  # too large to keep: the conversation says so, from the declared size
        file = await self.bot.get_file(file_id)
        if file.file_path is None:
            return b""
        buffer = BytesIO()
        await self.bot.download_file(file.file_path, destination=buffer)
        return buffer.getvalue()

    # ---- outbound ---------------------------------------------------------------------------

    async def _answer(self, inbound: Inbound) -> bool:
        """Handle the update (its replies are stored with its changes, and it is marked
        handled), then send the replies. True: handled."""
        async with typing_while_slow(
            lambda: self.bot.send_chat_action(chat_id=inbound.chat_id, action="typing"),
            after=self.typing_after,
            every=TYPING_SHOWN_FOR,
        ):
            queued = await asyncio.to_thread(
                handle_queued, inbound, open_session=self.open_session, config=self.config
            )
        if queued:
            await self.replies.send_rows(queued)
        return True

    async def send(self, chat_id: str, reply: Reply) -> None:
        """One reply as one or more messages; the buttons go with the last part."""
        parts = split_text(reply.text, MESSAGE_LIMIT)
        for index, part in enumerate(parts):
            last = index == len(parts) - 1
            await self.bot(
                SendMessageUnread(
                    chat_id=chat_id,
                    text=part,
                    reply_markup=keyboard(reply.choices) if last else None,
                )
            )
        for attachment in reply.attachments:
            upload = BufferedInputFile(attachment.data, filename=attachment.file_name)
            if attachment.kind == "photo":
                await self.bot.send_photo(chat_id=chat_id, photo=upload)
            else:
                await self.bot.send_document(chat_id=chat_id, document=upload)

    async def send_notice(
        self, chat_id: str, reply: Reply, *, answers_message: str | None = None
    ) -> None:
        """One message from the outbox (a reply, a reminder, a digest); failures in the
        outbox's terms. A reply to a pressed button edits that message where it may, or takes
        its buttons off, so old menus do not pile up."""
        token = at_most_once.set(True)
        try:
            if answers_message is not None and answers_message.isdigit():
                if reply.may_edit and await self._edit(chat_id, int(answers_message), reply):
                    return
                await self._retire_keyboard(chat_id, int(answers_message))
            await self.send(chat_id, reply)
        except (TelegramRetryAfter, TelegramServerError) as error:
            raise TemporaryFailure(f"Telegram: {type(error).__name__}") from None
        except TelegramNetworkError as error:
            if is_timeout(error):
                # The request may have reached Telegram: do not send it again blindly.
                raise OutcomeUnknown(f"Telegram: {error}") from None
            raise TemporaryFailure(f"Telegram: {type(error).__name__}") from None
        except TelegramForbiddenError:
            await asyncio.to_thread(self._mark_unreachable, chat_id)
            raise PermanentFailure(
                "Telegram: the bot was blocked or removed from the chat"
            ) from None
        except TelegramBadRequest as error:
            raise PermanentFailure(f"Telegram refused it: {error.message}") from None
        finally:
            at_most_once.reset(token)

    async def _edit(self, chat_id: str, message_id: int, reply: Reply) -> bool:
        if len(reply.text) > MESSAGE_LIMIT or reply.attachments:
            return False
        try:
            await self.bot(
                EditMessageTextUnread(
                    chat_id=chat_id,
                    message_id=message_id,
                    text=reply.text,
                    reply_markup=keyboard(reply.choices),
                )
            )
        except TelegramBadRequest as error:
            # "message is not modified" means it already shows this; anything else: send anew.
            return "not modified" in str(error)
        return True

    async def _retire_keyboard(self, chat_id: str, message_id: int) -> None:
        """Take the buttons off a menu that was answered, so old menus do not pile up."""
        try:
            await self.bot(
                EditMessageReplyMarkupUnread(
                    chat_id=chat_id, message_id=message_id, reply_markup=None
                )
            )
        except TelegramBadRequest:
            log.debug("could not remove the keyboard of message %s", message_id)

    def _mark_unreachable(self, chat_id: str) -> None:
        with transaction(self.open_session) as session:
            mark_unreachable(session, channel=CHANNEL, external_id=chat_id, at=datetime.now(UTC))

    async def register_commands(self) -> None:
        """The command menu in each language, and the default language's for everyone else."""
        for language in LANGUAGES:
            _ = Translator(language, self.config.zone)
            commands = [
                BotCommand(command=name, description=_(text))
                for name, text in menu_commands(language)
            ]
            await self.bot.set_my_commands(
                commands, scope=BotCommandScopeDefault(), language_code=language
            )
            if language == self.config.default_language:
                await self.bot.set_my_commands(commands, scope=BotCommandScopeDefault())


def _unreadable(message: Message) -> UnreadableKind | None:
    """What the bot cannot read: stickers, voice, and anything with no text, photo or file."""
    if message.sticker:
        return "sticker"
    if message.voice or message.audio or message.video_note:
        return "voice"
    if message.text or message.caption or message.photo or message.document:
        return None
    return "unsupported"


def _chat_kind(message: Message) -> ChatKind:
    return ChatKind.PRIVATE if message.chat.type == "private" else ChatKind.GROUP


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


async def poll(
    bot: Bot, inbox: Inbox[Update], *, polling_timeout: int, stop: asyncio.Event
) -> None:
    """Long polling into the inbox. The offset moves on (confirming a batch to Telegram) only
    after the batch is stored."""
    offset: int | None = None
    failures = 0
    while not stop.is_set():
        try:
            updates = await bot.get_updates(
                offset=offset,
                timeout=polling_timeout,
                allowed_updates=ALLOWED_UPDATES,
                request_timeout=polling_timeout + 15,
            )
            failures = 0
        except TelegramRetryAfter as error:
            await asyncio.sleep(error.retry_after)
            continue
        except (TelegramNetworkError, TelegramServerError) as error:
            failures += 1
            delay = backoff(failures)
            log.warning("getUpdates failed (%s); again in %.1fs", type(error).__name__, delay)
            await asyncio.sleep(delay)
            continue
        if updates:
            await _store_until_stored(
                inbox,
                [
                    (
                        str(update.update_id),
                        update.model_dump(mode="json", exclude_none=True, by_alias=True),
                        update,
                    )
                    for update in updates
                ],
            )
            offset = updates[-1].update_id + 1


async def _store_until_stored(
    inbox: Inbox[Update], updates: list[tuple[str, dict[str, Any], Update]]
) -> None:
    """Keep trying to store a batch of updates (in one transaction): the offset may not move
    past one that is not stored."""
    attempt = 0
    while True:
        try:
            await inbox.put_many(updates)
        except SQLAlchemyError as error:
            attempt += 1
            delay = backoff(attempt)
            log.warning(
                "could not store updates %s–%s (%s); again in %.1fs",
                updates[0][0],
                updates[-1][0],
                type(error).__name__,
                delay,
            )
            await asyncio.sleep(delay)
        else:
            return
