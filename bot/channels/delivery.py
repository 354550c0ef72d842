"""The outbox's `Sender`, made of the channels that are running."""

from __future__ import annotations

from typing import Protocol

from models.messages import PermanentFailure, Reply


class NoticeChannel(Protocol):
    async def send_notice(self, chat_id: str, reply: Reply) -> None: ...


class ChannelSender:
    """Sends each outbox message through the adapter of its channel."""

    def __init__(self, channels: dict[str, NoticeChannel]) -> None:
        self.channels = channels

    async def send(self, *, channel: str, chat_id: str, reply: Reply) -> None:
        adapter = self.channels.get(channel)
        if adapter is None:
            raise PermanentFailure(f"the {channel} channel is not running in this process")
        await adapter.send_notice(chat_id, reply)
