"""A fake Zalo Bot API, built from the facts the platform documents: one update per getUpdates,
408 when there is nothing new, no buttons, text of 1 to 2,000 characters, 429 when the quota is
spent, photos only by URL. It runs aiohttp on 127.0.0.1 in a thread of the test process."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import ClientSession, web

from tests.fake_server import LoopbackServer, WaitsForTexts

# The parameters each method takes (from the platform's documentation).
METHODS: dict[str, tuple[set[str], set[str]]] = {  # method: (required, optional)
    "getMe": (set(), set()),
    "getUpdates": (set(), {"timeout"}),
    "setWebhook": ({"url", "secret_token"}, set()),
    "deleteWebhook": (set(), set()),
    "getWebhookInfo": (set(), set()),
    "sendMessage": ({"chat_id", "text"}, set()),
    "sendPhoto": ({"chat_id", "photo"}, {"caption"}),
    "sendSticker": ({"chat_id", "sticker"}, set()),
    "sendChatAction": ({"chat_id", "action"}, set()),
}


@dataclass
class ZaloCall:
    method: str
    params: dict[str, Any]
    at: float
    ok: bool = True


@dataclass
class FakeZalo(WaitsForTexts):
    token: str
    calls: list[ZaloCall] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    images: dict[str, bytes] = field(default_factory=dict)
    fetched_photos: list[bytes] = field(default_factory=list)
    port: int = 0

    def __post_init__(self) -> None:
        self._updates: list[dict[str, Any]] = []
        self._quota_failures = 0
        self._lock = threading.Lock()
        self._server = LoopbackServer(self._routes)
        self._new_update = asyncio.Event()
        self._ids = itertools.count(1)

    def start(self) -> FakeZalo:
        self._server.start()
        self.port = self._server.port
        return self

    def _routes(self, app: web.Application) -> None:
        app.router.add_post("/bot{token}/{method}", self._api)
        app.router.add_get("/img/{name}", self._image)

    def stop(self) -> None:
        self._server.stop()

    @property
    def base(self) -> str:
        return self._server.base

    # ---- what tests do ---------------------------------------------------------------------

    def push(self, update: dict[str, Any], *, copies: int = 1) -> None:
        with self._lock:
            self._updates.extend([update] * copies)
        self._server.loop.call_soon_threadsafe(self._new_update.set)

    def spend_quota(self, count: int) -> None:
        """The next `count` sends answer 429 (quota exceeded)."""
        with self._lock:
            self._quota_failures += count

    def add_image(self, data: bytes) -> str:
        name = f"anh-{len(self.images) + 1}.jpg"
        self.images[name] = data
        return f"{self.base}/img/{name}"

    def texts(self, chat_id: str) -> list[str]:
        with self._lock:
            return [
                c.params["text"]
                for c in self.calls
                if c.method == "sendMessage" and c.ok and c.params.get("chat_id") == chat_id
            ]

    # ---- the API ---------------------------------------------------------------------------

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        try:
            params = await request.json() if request.can_read_body else {}
        except ValueError:
            params = dict(await request.post())
        call = ZaloCall(method, dict(params), time.monotonic())
        with self._lock:
            self.calls.append(call)
        if request.match_info["token"] != self.token:
            return self._error(call, 401, "Unauthorized")
        if method not in METHODS:
            self.violations.append(f"unknown method {method}")
            return self._error(call, 404, "Method not found")
        required, optional = METHODS[method]
        problems = [
            f"{method}: unknown parameter {k}" for k in params if k not in required | optional
        ]
        problems += [f"{method}: missing {k}" for k in required if k not in params]
        if method == "sendMessage" and not 1 <= len(str(params.get("text", ""))) <= 2000:
            problems.append(f"sendMessage: text of {len(str(params.get('text', '')))} characters")
        if problems:
            self.violations.extend(problems)
            return self._error(call, 400, "; ".join(problems))
        if method in ("sendMessage", "sendPhoto"):
            with self._lock:
                quota = self._quota_failures > 0
                self._quota_failures -= 1 if quota else 0
            if quota:
                return self._error(call, 429, "Quota exceeded")
        if method == "getUpdates":
            return await self._get_updates(call, float(params.get("timeout", 0) or 0))
        if method == "sendPhoto":
            async with ClientSession() as session, session.get(params["photo"]) as answer:
                if answer.status != 200:
                    self.violations.append(f"sendPhoto: the photo URL answered {answer.status}")
                    return self._error(call, 400, "photo URL unreachable")
                self.fetched_photos.append(await answer.read())
        if method == "getMe":
            return web.json_response(
                {
                    "ok": True,
                    "result": {
                        "id": "bot-1",
                        "account_name": "baocao_qn",
                        "display_name": "Báo cáo nhiệm vụ",
                    },
                }
            )
        if method.startswith("send"):
            return web.json_response(
                {
                    "ok": True,
                    "result": {
                        "message_id": f"out-{next(self._ids)}",
                        "date": int(time.time() * 1000),
                    },
                }
            )
        return web.json_response({"ok": True, "result": True})

    def _error(self, call: ZaloCall, code: int, description: str) -> web.Response:
        call.ok = False
        # Zalo's HTTP status is not to be trusted: the envelope is what counts.
        return web.json_response(
            {"ok": False, "error_code": code, "description": description},
            status=200 if code != 408 else 408,
        )

    async def _get_updates(self, call: ZaloCall, wait: float) -> web.Response:
        deadline = time.monotonic() + wait
        while True:
            with self._lock:
                update = self._updates.pop(0) if self._updates else None
            if update is not None:
                return web.json_response({"ok": True, "result": update})
            if time.monotonic() >= deadline:
                return self._error(call, 408, "Request timeout")
            self._new_update.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    self._new_update.wait(), timeout=max(0.01, deadline - time.monotonic())
                )

    async def _image(self, request: web.Request) -> web.Response:
        return web.Response(
            body=self.images[request.match_info["name"]], content_type="image/jpeg"
        )


_message_ids = itertools.count(1)


def zalo_text(
    user_id: str,
    text: str,
    *,
    name: str = "Thu Hà",
    group: str | None = None,
    message_id: str | None = None,
) -> dict[str, Any]:
    return {
        "event_name": "message.text.received",
        "message": {
            "from": {"id": user_id, "display_name": name, "is_bot": False},
            "chat": {"id": group or user_id, "chat_type": "GROUP" if group else "PRIVATE"},
            "text": text,
            "message_id": message_id or f"msg-{next(_message_ids)}",
            "date": int(time.time() * 1000),
        },
    }


def zalo_image(user_id: str, url: str, *, caption: str = "") -> dict[str, Any]:
    return {
        "event_name": "message.image.received",
        "message": {
            "from": {"id": user_id, "display_name": "Thu Hà", "is_bot": False},
            "chat": {"id": user_id, "chat_type": "PRIVATE"},
            "photo_url": url,
            "caption": caption,
            "message_id": f"msg-{next(_message_ids)}",
            "date": int(time.time() * 1000),
        },
    }
