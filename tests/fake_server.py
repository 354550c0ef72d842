"""What the fake messenger APIs share: an aiohttp app on 127.0.0.1, served from a thread of the
test process so that synchronous tests can talk to the real bot process through it."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from typing import Any

from aiohttp import web


class LoopbackServer:
    def __init__(
        self, add_routes: Callable[[web.Application], None], *, max_body: int = 50 * 1024 * 1024
    ) -> None:
        self.add_routes = add_routes
        self.max_body = max_body
        self.loop = asyncio.new_event_loop()
        self.port = 0
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._runner: web.AppRunner | None = None

    def start(self) -> None:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self.loop).result(10)

    async def _start(self) -> None:
        app = web.Application(client_max_size=self.max_body)
        self.add_routes(app)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    def stop(self) -> None:
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(5)
        self.loop.close()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def wait_for(
    predicate: Callable[[], Any], *, timeout: float, what: str, violations: list[str]
) -> Any:
    """Poll `predicate` until it gives something true, or fail saying what was awaited."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}; violations={violations}")


class WaitsForTexts:
    """`wait_for` and `wait_for_text` for a fake that records the texts each chat was sent."""

    violations: list[str]

    def texts(self, chat_id: Any) -> list[str]:
        raise NotImplementedError

    def wait_for(
        self, predicate: Callable[[], Any], *, timeout: float = 30.0, what: str = ""
    ) -> Any:
        return wait_for(
            predicate, timeout=timeout, what=what or str(predicate), violations=self.violations
        )

    def wait_for_text(
        self, chat_id: Any, part: str, *, after: int = 0, timeout: float = 30.0
    ) -> str:
        """The first text containing `part` among those the chat saw after the first `after`."""
        return str(
            self.wait_for(
                lambda: next((t for t in self.texts(chat_id)[after:] if part in t), None),
                timeout=timeout,
                what=f"{part!r} in chat {chat_id}",
            )
        )
