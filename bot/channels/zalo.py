"""The Zalo channel (Zalo Bot Platform, over httpx): it only translates.

Zalo has no buttons, no editing and a 2,000-character limit: replies go as text with a numbered
menu (the same rendering as the terminal), a typed number maps back to its option, long text is
cut on line boundaries. getUpdates returns one update at a time, with no update id: deliveries
are told apart by message id. The token sits in the URL path, so it is scrubbed from every error.
"""

from __future__ import annotations

import asyncio
import logging
import mimetypes
import secrets
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import httpx
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
)
from sqlalchemy.exc import SQLAlchemyError

from bot.channels import numbered_menu
from bot.channels.delivery import QueuedReplies, first_request_leaves
from bot.channels.rate_limit import RateLimiter
from bot.channels.text_split import split_text
from bot.channels.typing_indicator import typing_while_slow
from bot.inbox import Inbox, UnreadableUpdate
from handlers.context import HandlerConfig
from handlers.dispatch import handle_queued
from models.db import SessionFactory, transaction
from models.enums import ChatKind
from models.messages import (
    Attachment,
    Inbound,
    OutcomeUnknown,
    PermanentFailure,
    QuotaExceeded,
    Reply,
    TemporaryFailure,
    UnreadableKind,
)
from models.tables import PublicMedia

CHANNEL = "zalo"
MESSAGE_LIMIT = 2000
NOTHING_NEW = 408
QUOTA_EXCEEDED = 429
# The platform documents 403 as its internal server error: tried again, not given up.
RETRIED_CODES = frozenset({403})
MEDIA_PATH = "/media"
MEDIA_LIFETIME = timedelta(days=7)

log = logging.getLogger(__name__)


class ZaloError(Exception):
    """Zalo answered `ok: false`."""

    def __init__(self, code: int, description: str) -> None:
        super().__init__(f"Zalo error {code}: {description}")
        self.code = code
        self.description = description


class ZaloNetworkError(Exception):
    """No answer from Zalo (the message says what happened, without the token)."""


class ZaloClient:
    """The Bot API methods we use, with the token kept out of every message."""

    def __init__(self, *, token: str, api_base: str, timeout: float = 30.0) -> None:
        self._token = token
        self._base = api_base.rstrip("/")
        self._http = httpx.AsyncClient(timeout=timeout)

    async def close(self) -> None:
        await self._http.aclose()

    def _scrub(self, text: str) -> str:
        return text.replace(self._token, "***")

    async def call(
        self,
        method: str,
        params: dict[str, Any] | None = None,
        *,
        request_timeout: float | None = None,
    ) -> Any:
        """POST `params` as JSON; the result, or `ZaloError` from the envelope (not the HTTP
        status, which Zalo does not use consistently)."""
        url = f"{self._base}/bot{self._token}/{method}"
        try:
            response = await self._http.post(
                url, json=params or {}, timeout=request_timeout or httpx.USE_CLIENT_DEFAULT
            )
            envelope = response.json()
        except httpx.HTTPError as error:
            raise ZaloNetworkError(
                self._scrub(f"{method}: {type(error).__name__}: {error}")
            ) from None
        except ValueError:
            raise ZaloError(response.status_code, f"{method}: the answer was not JSON") from None
        if not isinstance(envelope, dict) or not envelope.get("ok"):
            body = envelope if isinstance(envelope, dict) else {}
            raise ZaloError(
                int(body.get("error_code") or response.status_code),
                self._scrub(str(body.get("description", ""))),
            )
        return envelope.get("result")

    async def download(self, url: str, *, limit: int) -> bytes:
        """An image the user sent (Zalo gives a URL); empty when larger than `limit`."""
        try:
            async with self._http.stream("GET", url) as response:
                response.raise_for_status()
                data = bytearray()
                async for chunk in response.aiter_bytes():
                    data += chunk
                    if len(data) > limit:
                        return b""
                return bytes(data)
        except httpx.HTTPError as error:
            log.warning("could not download a Zalo image: %s", self._scrub(type(error).__name__))
            return b""


def _as_text(value: object) -> object:
    # Zalo's ids are hex strings; a number is taken as its digits, anything else is refused.
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


ZaloId = Annotated[str, BeforeValidator(_as_text), StringConstraints(min_length=1, max_length=64)]


class ZaloUser(BaseModel):
    id: ZaloId
    display_name: str = ""
    name: str = ""
    is_bot: bool = False


class ZaloChat(BaseModel):
    id: ZaloId
    chat_type: str = "PRIVATE"


class ZaloMessage(BaseModel):
    """A message as the Bot Platform documents it (unknown fields are let through)."""

    model_config = ConfigDict(populate_by_name=True)

    message_id: ZaloId
    sender: ZaloUser = Field(alias="from")
    chat: ZaloChat
    date: int | None = None
    text: str | None = None
    caption: str | None = None
    photo: str | None = None  # an image's URL, as "photo" …
    photo_url: str | None = None  # … or "photo_url"
    sticker: str | None = None


class ZaloUpdate(BaseModel):
    event_name: str
    message: ZaloMessage


class BotInfo(BaseModel):
    """What getMe answers: `{id, account_name, account_type, can_join_groups}`."""

    id: ZaloId = "?"
    account_name: str = ""
    account_type: str = ""
    can_join_groups: bool = False


# What each event means to the conversations.
TEXT_EVENT = "message.text.received"
IMAGE_EVENT = "message.image.received"
UNREADABLE_EVENTS: dict[str, UnreadableKind] = {
    "message.sticker.received": "sticker",
    "message.voice.received": "voice",
    "message.audio.received": "voice",
    # Sent in place of messages the platform does not pass on (from protected users such as
    # children, or of a kind it does not support).
    "message.unsupported.received": "unsupported",
}


def unwrap(payload: dict[str, Any]) -> dict[str, Any]:
    """An update, whether it came bare or wrapped as `{"ok": true, "result": …}`."""
    result = payload.get("result")
    if isinstance(result, dict) and "event_name" not in payload:
        return result
    return payload


def parse_update(payload: dict[str, Any]) -> ZaloUpdate | None:
    try:
        return ZaloUpdate.model_validate(unwrap(payload))
    except ValidationError:
        return None


def read_update(payload: dict[str, Any]) -> tuple[str, ZaloUpdate] | None:
    """A body's message id (Zalo has no update ids) and the update read from it; None if it
    is not a Zalo update."""
    update = parse_update(payload)
    return (update.message.message_id, update) if update else None


def chat_of_update(payload: dict[str, Any]) -> str:
    update = parse_update(payload)
    return update.message.chat.id if update else "?"


class ZaloChannel:
    """Translates between Zalo and the conversations in `handlers`."""

    def __init__(
        self,
        *,
        client: ZaloClient,
        open_session: SessionFactory,
        config: HandlerConfig,
        limiter: RateLimiter,
        replies: QueuedReplies,
        public_base_url: str | None = None,
        typing_after: float = 1.0,
    ) -> None:
        self.typing_after = typing_after
        self.client = client
        self.open_session = open_session
        self.config = config
        self.limiter = limiter
        self.replies = replies
        self.public_base_url = public_base_url.rstrip("/") if public_base_url else None

    # ---- inbound ----------------------------------------------------------------------------

    async def process(self, payload: dict[str, Any], parsed: ZaloUpdate | None) -> bool:
        """Handle one stored update (the inbox calls this), as read when it was stored if it
        was; True if the handlers marked it handled in their own transaction."""
        update = parsed if parsed is not None else parse_update(payload)
        if update is None:
            raise UnreadableUpdate("not a Zalo update")
        message = update.message
        if message.sender.is_bot:
            return False
        chat_id = message.chat.id
        text = message.text or message.caption or ""
        group = message.chat.chat_type.upper() == "GROUP"
        if group and text.startswith("@") and " /" in text:
            # In groups Zalo only delivers messages that mention the bot: "@Bot name /tonghop".
            text = text[text.index(" /") + 1 :]
        attachments: tuple[Attachment, ...] = ()
        if update.event_name == IMAGE_EVENT:
            attachments = await self._image(message)
        unreadable = UNREADABLE_EVENTS.get(update.event_name)
        typed = numbered_menu.Typed()
        if not attachments and unreadable is None:
            typed = await asyncio.to_thread(
                numbered_menu.read_typed,
                self.open_session,
                channel=CHANNEL,
                chat_id=chat_id,
                text=text,
            )
        inbound = Inbound(
            channel=CHANNEL,
            chat_id=chat_id,
            chat_kind=ChatKind.GROUP if group else ChatKind.PRIVATE,
            sender_id=message.sender.id,
            sender_name=message.sender.display_name or message.sender.name,
            text="" if typed.choice else text,
            choice=typed.choice,
            wrong_number=typed.wrong_number,
            unreadable=unreadable,
            attachments=attachments,
            delivery_id=message.message_id,
            received_at=_received_at(message.date),
        )
        async with self._typing(chat_id):
            queued = await asyncio.to_thread(
                handle_queued, inbound, open_session=self.open_session, config=self.config
            )
        if queued:
            await self.replies.send_rows(queued)
        return True

    def _typing(self, chat_id: str) -> AbstractAsyncContextManager[None]:
        """ "typing…" in the chat while an answer takes longer than `typing_after`."""
        return typing_while_slow(
            lambda: self.client.call("sendChatAction", {"chat_id": chat_id, "action": "typing"}),
            after=self.typing_after,
        )

    async def _image(self, message: ZaloMessage) -> tuple[Attachment, ...]:
        url = message.photo or message.photo_url
        if not url:
            return ()
        data = await self.client.download(url, limit=self.config.evidence_max_bytes)
        name = f"zalo_{message.message_id}.jpg"
        return (Attachment(kind="photo", file_name=name, content_type="image/jpeg", data=data),)

    # ---- outbound ---------------------------------------------------------------------------

    async def deliver(self, chat_id: str, replies: list[Reply]) -> None:
        """Each reply as text with its numbered menu; the last menu is the one numbers pick from."""
        menu = numbered_menu.RenderedMenu(text="", numbered=[])
        for reply in replies:
            menu = numbered_menu.render(reply)
            await self._send_text(chat_id, menu.text)
            await self._send_photos(chat_id, reply)
        await asyncio.to_thread(
            numbered_menu.remember,
            self.open_session,
            channel=CHANNEL,
            chat_id=chat_id,
            menu=menu,
            at=datetime.now(UTC),
        )

    async def _send_text(self, chat_id: str, text: str) -> None:
        for part in split_text(text, MESSAGE_LIMIT):
            await self._call_paced(chat_id, "sendMessage", {"chat_id": chat_id, "text": part})

    async def _send_photos(self, chat_id: str, reply: Reply) -> None:
        """Photos go by public URL only; without BOT_PUBLIC_BASE_URL the text stands alone."""
        if self.public_base_url is None:
            return
        for attachment in reply.attachments:
            if attachment.kind != "photo":
                continue
            url = await asyncio.to_thread(self._publish, attachment)
            await self._call_paced(
                chat_id,
                "sendPhoto",
                {"chat_id": chat_id, "photo": url, "caption": attachment.file_name},
            )

    def _publish(self, attachment: Attachment) -> str:
        media_id = secrets.token_urlsafe(24)
        now = datetime.now(UTC)
        extension = mimetypes.guess_extension(attachment.content_type) or ""
        with transaction(self.open_session) as session:
            session.add(
                PublicMedia(
                    id=media_id,
                    content_type=attachment.content_type,
                    data=attachment.data,
                    created_at=now,
                    expires_at=now + MEDIA_LIFETIME,
                )
            )
        return f"{self.public_base_url}{MEDIA_PATH}/{media_id}{extension}"

    async def _call_paced(self, chat_id: str, method: str, params: dict[str, Any]) -> Any:
        async with self.limiter.slot(chat_id, group=False):
            await first_request_leaves()
            return await self.client.call(method, params)

    async def send_notice(
        self, chat_id: str, reply: Reply, *, answers_message: str | None = None
    ) -> None:
        """One message from the outbox (a reply, a reminder, a digest); failures in the
        outbox's terms. Zalo edits nothing, so `answers_message` changes nothing here."""
        try:
            await self.deliver(chat_id, [reply])
        except ZaloError as error:
            if error.code == QUOTA_EXCEEDED:
                log.error("Zalo quota exceeded (%s): messages wait and are retried", error)
                raise QuotaExceeded(CHANNEL, error.description) from None
            if error.code >= 500 or error.code in RETRIED_CODES:
                raise TemporaryFailure(str(error)) from None
            raise PermanentFailure(str(error)) from None
        except ZaloNetworkError as error:
            raise OutcomeUnknown(str(error)) from None


def _received_at(millis: int | None) -> datetime:
    if millis is not None and 0 < millis < 10**14:
        return datetime.fromtimestamp(millis / 1000, tz=UTC)
    return datetime.now(UTC)


async def poll(
    client: ZaloClient, inbox: Inbox[ZaloUpdate], *, polling_timeout: int, stop: asyncio.Event
) -> None:
    """Long polling: one update per call; 408 means nothing new."""
    failures = 0
    while not stop.is_set():
        try:
            update = await client.call(
                "getUpdates",
                {"timeout": str(polling_timeout)},
                request_timeout=polling_timeout + 15,
            )
            failures = 0
        except ZaloError as error:
            if error.code == NOTHING_NEW:
                continue
            failures += 1
            await _pause(f"getUpdates refused ({error.code})", failures)
            continue
        except ZaloNetworkError as error:
            failures += 1
            await _pause(str(error), failures)
            continue
        parsed = parse_update(update) if isinstance(update, dict) else None
        if parsed is None:
            log.info("a Zalo update of an unknown shape was skipped")
            continue
        while True:
            try:
                await inbox.put(parsed.message.message_id, update, parsed)
                break
            except SQLAlchemyError as error:
                failures += 1
                await _pause(f"could not store a Zalo update ({type(error).__name__})", failures)


async def _pause(reason: str, failures: int) -> None:
    delay = min(30.0, 0.5 * 2 ** (failures - 1))
    log.warning("Zalo: %s; again in %.1fs", reason, delay)
    await asyncio.sleep(delay)
