"""Bot API methods whose answer the bot does not read.

aiogram validates every answer into its types: a sent or edited message comes back as a whole
`Message` (its chat, its sender, every button of its keyboard), about 0.1 ms of the event loop
for each one (measured: 95 µs of `check_response` for a message with a keyboard). The channel
never looks at that message: these methods send exactly the same request and leave the
answer's result as the server's JSON (`__returning__ = Any`); the answer's envelope is still
read, so a refusal raises the same aiogram error (retry after, forbidden, bad request) as
before.
"""

from __future__ import annotations

from typing import Any

from aiogram.methods import EditMessageReplyMarkup, EditMessageText, SendMessage


class SendMessageUnread(SendMessage):
    """`sendMessage`; the message sent is not read back."""

    __returning__ = Any  # type: ignore[assignment]  # the answer is left as JSON


class EditMessageTextUnread(EditMessageText):
    """`editMessageText`; the message edited is not read back."""

    __returning__ = Any  # type: ignore[assignment]  # the answer is left as JSON


class EditMessageReplyMarkupUnread(EditMessageReplyMarkup):
    """`editMessageReplyMarkup`; the message edited is not read back."""

    __returning__ = Any  # type: ignore[assignment]  # the answer is left as JSON
