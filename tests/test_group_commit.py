"""The group commit the outbox's marks go through: few transactions under load, each caller
its own outcome, in order, and a failed batch told to each of its callers."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence

import pytest

from reminders.group_commit import GroupCommit


def test_callers_arriving_during_a_write_share_the_next_one_in_order() -> None:
    batches: list[list[int]] = []
    first_write_entered, let_first_write_finish = threading.Event(), threading.Event()

    def write(items: Sequence[int]) -> list[int]:
        if not batches:
            first_write_entered.set()
            let_first_write_finish.wait(5)
        batches.append(list(items))
        return [item * 10 for item in items]

    async def main() -> list[int]:
        commit = GroupCommit(write)
        first = asyncio.create_task(commit(1))
        await asyncio.to_thread(first_write_entered.wait, 5)
        others = [asyncio.create_task(commit(n)) for n in range(2, 7)]
        await asyncio.sleep(0)
        let_first_write_finish.set()
        return [await first, *[await task for task in others]]

    assert asyncio.run(main()) == [10, 20, 30, 40, 50, 60], "each caller gets its own outcome"
    assert batches == [[1], [2, 3, 4, 5, 6]], "those who waited went together, in order"


def test_a_failed_batch_is_told_to_each_of_its_callers_and_the_next_one_still_runs() -> None:
    def write(items: Sequence[str]) -> list[str]:
        if "bad" in items:
            raise RuntimeError("database away")
        return list(items)

    async def main() -> tuple[list[BaseException | str], str]:
        commit = GroupCommit(write)
        together = await asyncio.gather(commit("good"), commit("bad"), return_exceptions=True)
        return together, await commit("later")

    together, later = asyncio.run(main())
    assert [type(outcome) for outcome in together] == [RuntimeError, RuntimeError]
    assert later == "later"


def test_one_caller_alone_waits_for_its_own_write_only() -> None:
    async def main() -> str:
        return await GroupCommit(lambda items: [f"{item}!" for item in items])("alone")

    assert asyncio.run(main()) == "alone!"


@pytest.mark.parametrize("waiting", [1, 3])
def test_shutting_down_tells_every_waiting_caller(waiting: int) -> None:
    started = threading.Event()

    def write(items: Sequence[int]) -> list[int]:
        started.set()
        threading.Event().wait(0.2)
        return list(items)

    async def main() -> list[BaseException | int]:
        commit = GroupCommit(write)
        callers = [asyncio.create_task(commit(n)) for n in range(waiting)]
        await asyncio.to_thread(started.wait, 5)
        late = asyncio.create_task(commit(99))  # waits for the next batch
        await asyncio.sleep(0)
        assert commit._writer is not None
        commit._writer.cancel()
        return await asyncio.gather(*callers, late, return_exceptions=True)

    outcomes = asyncio.run(main())
    assert all(isinstance(outcome, asyncio.CancelledError) for outcome in outcomes)
