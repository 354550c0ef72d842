"""The "typing…" indicator: nothing for a quick answer, repeated for a slow one, never in the way."""

from __future__ import annotations

import asyncio

from bot.channels.typing_indicator import typing_while_slow


def test_a_quick_answer_shows_nothing_and_leaves_no_task_behind() -> None:
    shown: list[float] = []

    async def main() -> None:
        loop = asyncio.get_running_loop()

        async def show() -> None:
            shown.append(loop.time())

        before = len(asyncio.all_tasks())
        async with typing_while_slow(show, after=0.2, every=0.05):
            assert len(asyncio.all_tasks()) == before, "a timer, not a task"
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.3)  # the moment passes after the answer: still nothing

    asyncio.run(main())
    assert shown == []


def test_a_slow_answer_shows_typing_until_it_is_ready_even_if_showing_fails() -> None:
    shown: list[float] = []

    async def main() -> None:
        loop = asyncio.get_running_loop()
        started = loop.time()

        async def show() -> None:
            shown.append(loop.time() - started)
            raise ConnectionError("the messenger is away")

        async with typing_while_slow(show, after=0.05, every=0.1):
            await asyncio.sleep(0.5)
        count = len(shown)
        await asyncio.sleep(0.25)
        assert len(shown) == count, "it stops with the answer"

    asyncio.run(main())
    assert 3 <= len(shown) <= 5  # at 0.05, 0.15, 0.25, 0.35, 0.45 s, less if the loop is busy
    assert shown[0] >= 0.05


def test_once_when_the_messenger_shows_it_until_the_answer() -> None:
    shown: list[int] = []

    async def main() -> None:
        async def show() -> None:
            shown.append(1)

        async with typing_while_slow(show, after=0.01):
            await asyncio.sleep(0.2)

    asyncio.run(main())
    assert shown == [1]
