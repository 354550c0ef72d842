"""The outbox's `Sender`, made of the channels that are running: everything the bot says
(replies, reminders, digests) goes out through it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from contextvars import ContextVar
from typing import Protocol

from models.messages import PermanentFailure, Reply
from models.queue import OutboxMessage

FirstRequest = Callable[[], Awaitable[None]]

# Called once, right before the first request of a message leaves (after any wait for the
# rate limiter): only from then may it have arrived, so only then is it marked `sending`.
_before_first_request: ContextVar[FirstRequest | None] = ContextVar(
    "before_first_request", default=None
)


async def first_request_leaves() -> None:
    """The adapters call this just before each request that sends something."""
    hook = _before_first_request.get()
    if hook is not None:
        _before_first_request.set(None)
        await hook()


class NoticeChannel(Protocol):
    async def send_notice(
        self, chat_id: str, reply: Reply, *, answers_message: str | None = None
    ) -> None: ...


class QueuedReplies(Protocol):
    """Sends the outbox rows a channel just wrote (the replies to an update), in order."""

    async def send_rows(self, replies: Sequence[OutboxMessage]) -> object: ...


class ChannelSender:
    """Sends each outbox message through the adapter of its channel."""

    def __init__(self, channels: dict[str, NoticeChannel]) -> None:
        self.channels = channels

    async def send(
        self,
        *,
        channel: str,
        chat_id: str,
        reply: Reply,
        answers_message: str | None = None,
        leaving: FirstRequest | None = None,
    ) -> None:
        adapter = self.channels.get(channel)
        if adapter is None:
            raise PermanentFailure(f"the {channel} channel is not running in this process")
        token = _before_first_request.set(leaving)
        try:
            await adapter.send_notice(chat_id, reply, answers_message=answers_message)
        finally:
            _before_first_request.reset(token)
