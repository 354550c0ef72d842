"""Many small writes in few transactions: what callers hand in while a batch is being written
waits, and goes in the next batch together (a group commit)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

Item = TypeVar("Item")
Outcome = TypeVar("Outcome")


class GroupCommit(Generic[Item, Outcome]):
    """Hands items to `write` (run in a thread; one transaction for its whole batch) and gives
    each caller its item's outcome once the batch is committed. Alone, a caller waits for its
    own write only; under load, many share a transaction. Items are written in the order they
    were handed in. If a batch fails, each of its callers gets the error."""

    def __init__(self, write: Callable[[Sequence[Item]], Sequence[Outcome]]) -> None:
        self._write = write
        self._waiting: list[tuple[Item, asyncio.Future[Outcome]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def __call__(self, item: Item) -> Outcome:
        future: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
        self._waiting.append((item, future))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_waiting())
        return await future

    async def _write_waiting(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting, []
            try:
                outcomes = await asyncio.to_thread(self._write, [item for item, _ in batch])
            except BaseException as error:
                cancelled = not isinstance(error, Exception)  # shutting down: nothing more
                if cancelled:
                    batch, self._waiting = batch + self._waiting, []
                for _, future in batch:
                    if not future.done():
                        future.set_exception(error)
                if cancelled:
                    raise
                continue
            for (_, future), outcome in zip(batch, outcomes, strict=True):
                if not future.done():
                    future.set_result(outcome)
