"""One rate limiter for everything a bot sends: per chat, per group and overall.

Telegram publishes about one message a second per chat, 20 a minute per group and 30 a second
overall; Zalo's quota is smaller. The limiter also keeps the messages to one chat in order:
a chat's sends go one at a time, in the order they asked for a slot.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict, deque
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass


@dataclass(frozen=True)
class RateLimits:
    """A messenger's published sending limits (from the settings, see `bot.app`)."""

    per_chat_interval: float  # seconds between two messages to one chat
    group_per_minute: int  # messages to one group chat in any minute
    global_per_second: int  # messages to all chats in any second


class RateLimiter:
    """Waits until a message may go out, then holds the chat until it has gone."""

    def __init__(
        self,
        limits: RateLimits,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.limits = limits
        self._clock = clock
        self._sleep = sleep
        self._chat_locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._last_sent: dict[str, float] = {}
        self._group_sent: defaultdict[str, deque[float]] = defaultdict(deque)
        self._global_sent: deque[float] = deque()
        self._global_lock = asyncio.Lock()

    @asynccontextmanager
    async def slot(self, chat_id: str, *, group: bool) -> AsyncIterator[None]:
        """`async with limiter.slot(chat): send(...)`: one send to `chat_id`, within the limits."""
        async with self._chat_locks[chat_id]:
            await self._wait_for_chat(chat_id, group=group)
            await self._wait_for_global()
            try:
                yield
            finally:
                self._last_sent[chat_id] = self._clock()

    async def _wait_for_chat(self, chat_id: str, *, group: bool) -> None:
        last = self._last_sent.get(chat_id)
        if last is not None:
            delay = last + self.limits.per_chat_interval - self._clock()
            if delay > 0:
                await self._sleep(delay)
        if group:
            await self._wait_for_window(
                self._group_sent[chat_id], self.limits.group_per_minute, 60.0
            )

    async def _wait_for_global(self) -> None:
        async with self._global_lock:
            await self._wait_for_window(self._global_sent, self.limits.global_per_second, 1.0)

    async def _wait_for_window(self, sent: deque[float], most: int, window: float) -> None:
        """Record one send in a sliding `window`, first waiting until fewer than `most` are in it."""
        while True:
            now = self._clock()
            while sent and sent[0] <= now - window:
                sent.popleft()
            if len(sent) < most:
                sent.append(now)
                return
            await self._sleep(sent[0] + window - now)
