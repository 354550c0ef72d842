"""The shared rate limiter and message splitting, on a controlled clock."""

from __future__ import annotations

import asyncio
import bisect
import heapq
import itertools
import random
from collections import defaultdict
from collections.abc import Awaitable
from dataclasses import replace

from bot.channels.rate_limit import RateLimiter, RateLimits
from bot.channels.text_split import split_text
from tests.conftest import configured


class Clock:
    """Time that moves only when someone sleeps."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += max(seconds, 0.0)
        await asyncio.sleep(0)


TELEGRAM = configured().telegram_limits  # the published limits, as the defaults say


def send_times(limits: RateLimits, chats: list[tuple[str, bool]]) -> list[tuple[str, float]]:
    clock = Clock()
    limiter = RateLimiter(limits, clock=clock, sleep=clock.sleep)
    sent: list[tuple[str, float]] = []

    async def send(chat: str, group: bool) -> None:
        async with limiter.slot(chat, group=group):
            sent.append((chat, clock()))

    async def main() -> None:
        await asyncio.gather(*(send(chat, group) for chat, group in chats))

    asyncio.run(main())
    return sent


def test_one_message_a_second_per_chat() -> None:
    sent = send_times(TELEGRAM, [("1", False)] * 5)
    assert [t for _, t in sent] == [0.0, 1.0, 2.0, 3.0, 4.0]


def test_twenty_a_minute_per_group() -> None:
    sent = send_times(replace(TELEGRAM, per_chat_interval=0.0), [("-100", True)] * 25)
    times = [t for _, t in sent]
    assert times[:20] == [0.0] * 20
    assert times[20] == 60.0
    assert all(sum(1 for t in times if start <= t < start + 60) <= 20 for start in times)


def test_thirty_a_second_overall_and_chats_do_not_wait_for_each_other() -> None:
    sent = send_times(TELEGRAM, [(str(n), False) for n in range(45)])
    times = sorted(t for _, t in sent)
    assert times.count(0.0) == 30
    assert max(times) == 1.0
    assert all(sum(1 for t in times if start <= t < start + 1) <= 30 for start in times)


class VirtualTime:
    """A clock for many tasks at once: time jumps to the next sleeper's wake-up only when every
    task is waiting, as a discrete-event simulation does."""

    def __init__(self) -> None:
        self.now = 0.0
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = itertools.count()

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        wake = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self.now + max(seconds, 0.0), next(self._order), wake))
        await wake

    async def run(self, work: Awaitable[object]) -> None:
        task = asyncio.ensure_future(work)
        while not task.done():
            for _ in range(100):  # let every task that can run reach its next wait
                await asyncio.sleep(0)
            while self._sleepers and self._sleepers[0][2].cancelled():
                heapq.heappop(self._sleepers)
            if self._sleepers and not task.done():
                wake_at, _, wake = heapq.heappop(self._sleepers)
                self.now = max(self.now, wake_at)
                wake.set_result(None)
        await task


def most_in_any_window(times: list[float], window: float) -> int:
    times = sorted(times)
    return max(bisect.bisect_left(times, t + window) - i for i, t in enumerate(times))


def test_no_window_of_the_server_holds_more_than_the_limit_whatever_the_network_delays() -> None:
    """The server counts a message when it arrives, somewhere between the slot and the answer;
    slow and uneven answers (a 429 retried inside the slot among them) never let more than the
    limit arrive in any sliding window, and the pace stays close to the limit."""
    clock = VirtualTime()
    limiter = RateLimiter(TELEGRAM, clock=clock, sleep=clock.sleep)
    delays = random.Random(12)
    arrivals: defaultdict[str, list[float]] = defaultdict(list)

    async def send(chat: str) -> None:
        async with limiter.slot(chat, group=chat.startswith("-")):
            answer_after = delays.choice([0.01, 0.05, 0.3, 0.9])
            arrives_after = answer_after * delays.random()
            await clock.sleep(arrives_after)
            arrivals[chat].append(clock())
            await clock.sleep(answer_after - arrives_after)

    chats = [str(n) for n in range(300)] + ["7"] * 12 + ["-100"] * 25
    random.Random(3).shuffle(chats)

    async def main() -> None:
        await clock.run(asyncio.gather(*(send(chat) for chat in chats)))

    asyncio.run(main())
    every = [t for times in arrivals.values() for t in times]
    assert len(every) == len(chats)
    assert most_in_any_window(every, 1.0) <= TELEGRAM.global_per_second
    assert all(b - a >= TELEGRAM.per_chat_interval for a, b in itertools.pairwise(arrivals["7"]))
    assert most_in_any_window(arrivals["-100"], 60.0) <= TELEGRAM.group_per_minute
    # A send holds its place in the window for its answer's time too (0.31 s on average): the
    # 300 chats of one message each go at about 30 / 1.31 a second, 13 s.
    single = [times[0] for chat, times in arrivals.items() if chat not in ("7", "-100")]
    assert max(single) < 15


def test_long_text_is_cut_between_lines_then_words() -> None:
    lines = [f"{n:03d} " + "Rà soát cơ sở dữ liệu " * 5 for n in range(300)]
    text = "\n".join(lines)
    parts = split_text(text, 4096)
    assert all(len(p) <= 4096 for p in parts)
    assert "\n".join(parts) == text
    one_line = "chữ " * 3000
    parts = split_text(one_line, 2000)
    assert all(len(p) <= 2000 for p in parts)
    assert " ".join(parts).split() == one_line.split()
    assert split_text("ngắn", 2000) == ["ngắn"]
