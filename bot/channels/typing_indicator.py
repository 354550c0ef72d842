""" "typing…" in a chat while an answer takes longer than a moment.

Most answers are ready well before that moment, so nothing is started for them but a timer:
a task (and its requests) exists only once the moment has passed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

log = logging.getLogger(__name__)


@asynccontextmanager
async def typing_while_slow(
    show: Callable[[], Awaitable[object]], *, after: float, every: float | None = None
) -> AsyncIterator[None]:
    """Call `show` once the block has run for `after` seconds, then every `every` seconds (a
    messenger shows "typing…" for a few seconds) until it ends. A failing `show` is only
    logged: the answer matters, not the indicator."""

    async def keep_showing() -> None:
        while True:
            try:
                await show()
            except Exception as error:  # the indicator never stops the answer
                log.debug("typing indicator failed: %s", type(error).__name__)
            if every is None:
                return
            await asyncio.sleep(every)

    showing: asyncio.Task[None] | None = None

    def start() -> None:
        nonlocal showing
        showing = asyncio.create_task(keep_showing())

    timer = asyncio.get_running_loop().call_later(after, start)
    try:
        yield
    finally:
        timer.cancel()
        if showing is not None:
            showing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await showing
