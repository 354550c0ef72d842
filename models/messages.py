"""The two value types every channel speaks: what arrived (`Inbound`) and what to answer (`Reply`)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field

from models.enums import ChatKind

AttachmentKind = Literal["photo", "document"]
# Something came that the bot cannot read: a sticker, a voice message, or a message the
# messenger did not pass on ("unsupported": Zalo, for protected users such as children).
UnreadableKind = Literal["sticker", "voice", "unsupported"]


def _without_nul(value: object) -> object:
    # NUL cannot be stored in PostgreSQL text, and nobody types it: it only comes from tools.
    return value.replace("\x00", "") if isinstance(value, str) else value


NoNul = BeforeValidator(_without_nul)


class Attachment(BaseModel):
    """A file that came with a message, already fetched by the channel adapter."""

    # Kept in the outbox as JSON (a reply's chart or spreadsheet): the bytes go as base64.
    model_config = ConfigDict(frozen=True, ser_json_bytes="base64", val_json_bytes="base64")

    kind: AttachmentKind
    file_name: Annotated[str, NoNul]
    content_type: Annotated[str, NoNul]
    data: bytes
    # The size the messenger announced; a file too large to fetch arrives with no data.
    declared_size: int | None = None

    @property
    def size(self) -> int:
        return max(len(self.data), self.declared_size or 0)


class Inbound(BaseModel):
    """One delivery from a chat, translated out of its messenger's shape."""

    model_config = ConfigDict(frozen=True)

    channel: str = Field(min_length=1, max_length=20)
    chat_id: Annotated[str, NoNul, Field(min_length=1, max_length=64)]
    chat_kind: ChatKind = ChatKind.PRIVATE
    sender_id: Annotated[str, NoNul, Field(min_length=1, max_length=64)]
    sender_name: Annotated[str, NoNul] = ""
    text: Annotated[str, NoNul] = ""
    choice: Annotated[str | None, NoNul] = None
    # The text is a number that picks no option of the numbered menu shown last (no buttons).
    wrong_number: bool = False
    unreadable: UnreadableKind | None = None
    # The bot's message whose button was pressed (its channel's id): the first reply may edit it.
    answers_message: str | None = Field(default=None, max_length=64)
    attachments: tuple[Attachment, ...] = ()
    delivery_id: Annotated[str, NoNul, Field(min_length=1, max_length=128)]
    received_at: AwareDatetime


class Choice(BaseModel):
    """An option the person can pick: a button on Telegram, a numbered line elsewhere.

    `command` is the slash command that also picks it where a number would be ambiguous
    (a step that asks for a number renders its Back/Cancel as commands, not numbers).
    """

    model_config = ConfigDict(frozen=True)

    label: str
    data: str = Field(max_length=64)
    command: str | None = None


class Reply(BaseModel):
    """One message to send back, in the language of the account it answers."""

    model_config = ConfigDict(frozen=True)

    text: str
    choices: tuple[Choice, ...] = ()
    attachments: tuple[Attachment, ...] = ()
    may_edit: bool = False
    expects_number: bool = False
    language: str = "vi"


# ---- how a send went: channel adapters raise these, the outbox records them ------------------


class DeliveryError(Exception):
    """A send did not go through."""


class TemporaryFailure(DeliveryError):
    """Worth trying again later (429, 5xx, connection refused)."""


class QuotaExceeded(TemporaryFailure):
    """The messenger's sending quota is spent: retried later, and the secretariat is told."""

    def __init__(self, channel: str, description: str) -> None:
        super().__init__(f"{channel} quota exceeded: {description}")
        self.channel = channel
        self.description = description


class PermanentFailure(DeliveryError):
    """Will not work however often it is tried (blocked, chat gone, bad request)."""


class OutcomeUnknown(DeliveryError):
    """It may or may not have arrived (a timeout after sending)."""
