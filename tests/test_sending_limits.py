"""The shared rate limiter and message splitting, on a controlled clock."""

from __future__ import annotations

import asyncio
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
