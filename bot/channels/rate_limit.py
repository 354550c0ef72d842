"""One rate limiter for everything a bot sends: per chat, per group and overall.

Telegram publishes about one message a second per chat, 20 a minute per group and 30 a second
overall; Zalo's quota is smaller. The limiter also keeps the messages to one chat in order:
a chat's sends go one at a time, in the order they asked for a slot.
"""

from __future__ import annotations

import asyncio
import math
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
    """Waits until a message may go out, then holds the chat until it has gone.

    The messenger counts a message when its request arrives, which is some time after the slot
    was given and before the answer comes back. So a send counts against a window from the
    moment its slot is given (while in flight) until one window after its answer (its finish
    time, never earlier than its arrival): then no window of the server's can hold more than
    the limit, whatever the network's delays, and a 429 retry inside the slot counts once.
    """

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
        self._global_sent: deque[float] = deque()  # finish times of recent sends
        self._in_flight = 0
        self._finished = asyncio.Event()  # set when a send in flight finishes
        self._global_lock = asyncio.Lock()

    @asynccontextmanager
    async def slot(self, chat_id: str, *, group: bool) -> AsyncIterator[None]:
        """`async with limiter.slot(chat): send(...)`: one send to `chat_id`, within the limits."""
        async with self._chat_locks[chat_id]:
            await self._wait_for_chat(chat_id, group=group)
            await self._wait_for_global()
            self._in_flight += 1
            try:
                yield
            finally:
                finished = self._clock()
                self._in_flight -= 1
                self._global_sent.append(finished)
                self._last_sent[chat_id] = finished
                if group:
                    self._group_sent[chat_id].append(finished)
                self._finished.set()

    async def _wait_for_chat(self, chat_id: str, *, group: bool) -> None:
        # One send to a chat at a time (the chat's lock): nothing of this chat is in flight.
        last = self._last_sent.get(chat_id)
        if last is not None:
            delay = last + self.limits.per_chat_interval - self._clock()
            if delay > 0:
                await self._sleep(delay)
        if group:
            sent = self._group_sent[chat_id]
            while (delay := self._delay(sent, 0, self.limits.group_per_minute, 60.0)) > 0:
                await self._sleep(delay)

    async def _wait_for_global(self) -> None:
        async with self._global_lock:
            while True:
                delay = self._delay(
                    self._global_sent, self._in_flight, self.limits.global_per_second, 1.0
                )
                if delay == 0:
                    return
                if delay == math.inf:  # only sends in flight fill the window
                    self._finished.clear()
                    await self._finished.wait()
                    continue
                self._finished.clear()
                await self._first_of(self._finished.wait(), self._sleep(delay))

    def _delay(self, finished: deque[float], in_flight: int, most: int, window: float) -> float:
        """0 if one more send fits in the window; else how long until the oldest finished send
        leaves it (inf if the sends in flight alone fill it: wait for one to finish)."""
        now = self._clock()
        while finished and finished[0] <= now - window:
            finished.popleft()
        if in_flight + len(finished) < most:
            return 0.0
        if in_flight >= most or not finished:
            return math.inf
        return max(finished[0] + window - now, 0.0) or 1e-3

    @staticmethod
    async def _first_of(*waits: Awaitable[object]) -> None:
        tasks = [asyncio.ensure_future(w) for w in waits]
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
