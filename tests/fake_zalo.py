"""A fake Zalo Bot API, built from the facts the platform documents: one update per getUpdates,
408 when there is nothing new, no buttons, text of 1 to 2,000 characters, 429 when the quota is
spent, 403 for its internal server errors, photos only by URL; getMe tells whether the bot can
join groups; with a webhook set, updates are POSTed to it with the secret token (8 to 256
characters) instead of waiting for getUpdates. It runs aiohttp on 127.0.0.1 in a thread of the
test process."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import ClientSession, web

from tests.fake_server import LoopbackServer, WaitsForTexts

_asking: contextvars.ContextVar[web.Request | None] = contextvars.ContextVar(
    "asking", default=None
)

# The parameters each method takes (from the platform's documentation).
METHODS: dict[str, tuple[set[str], set[str]]] = {  # method: (required, optional)
    "getMe": (set(), set()),
    "getUpdates": (set(), {"timeout"}),
    "setWebhook": ({"url", "secret_token"}, set()),
    "deleteWebhook": (set(), set()),
    "getWebhookInfo": (set(), set()),
    "sendMessage": ({"chat_id", "text"}, {"parse_mode"}),
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
    can_join_groups: bool = True
    webhook: tuple[str, str] | None = None  # (url, secret token)
    webhook_answers: list[int] = field(default_factory=list)  # what the bot answered

    def __post_init__(self) -> None:
        self._updates: list[dict[str, Any]] = []
        self._quota_failures = 0
        self._server_errors = 0
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
        """An event for the bot: to its webhook when one is set, else for getUpdates."""
        if self.webhook is not None:
            for _ in range(copies):
                asyncio.run_coroutine_threadsafe(self._post(update), self._server.loop).result(30)
            return
        with self._lock:
            self._updates.extend([update] * copies)
        self._server.loop.call_soon_threadsafe(self._new_update.set)

    def post_raw(self, body: bytes, *, secret: str | None = None) -> int:
        """Any body to the webhook, as an attacker would; the status the bot answered."""
        assert self.webhook is not None
        return asyncio.run_coroutine_threadsafe(
            self._post_bytes(body, secret if secret is not None else self.webhook[1]),
            self._server.loop,
        ).result(30)

    async def _post(self, update: dict[str, Any]) -> None:
        status = await self._post_bytes(
            json.dumps(update).encode(), self.webhook[1] if self.webhook else ""
        )
        self.webhook_answers.append(status)

    async def _post_bytes(self, body: bytes, secret: str) -> int:
        assert self.webhook is not None
        async with (
            ClientSession() as session,
            session.post(
                self.webhook[0],
                data=body,
                headers={"X-Bot-Api-Secret-Token": secret, "Content-Type": "application/json"},
            ) as answer,
        ):
            return answer.status

    def fail_with_server_error(self, count: int) -> None:
        """The next `count` sends answer 403, the platform's internal server error."""
        with self._lock:
            self._server_errors += count

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
        problems = self._check(method, params)
        if problems:
            self.violations.extend(problems)
            return self._error(call, 400, "; ".join(problems))
        if method in ("sendMessage", "sendPhoto") and (refusal := self._fault(call)):
            return refusal
        handler = getattr(self, f"_m_{method}", None)
        if handler is not None:
            token = _asking.set(request)
            try:
                return await handler(call, params)  # type: ignore[no-any-return]
            finally:
                _asking.reset(token)
        return self._sent()

    @staticmethod
    def _check(method: str, params: dict[str, Any]) -> list[str]:
        required, optional = METHODS[method]
        problems = [
            f"{method}: unknown parameter {k}" for k in params if k not in required | optional
        ]
        problems += [f"{method}: missing {k}" for k in required if k not in params]
        if method == "sendMessage" and not 1 <= len(str(params.get("text", ""))) <= 2000:
            problems.append(f"sendMessage: text of {len(str(params.get('text', '')))} characters")
        return problems

    def _fault(self, call: ZaloCall) -> web.Response | None:
        with self._lock:
            quota = self._quota_failures > 0
            self._quota_failures -= 1 if quota else 0
            broken = self._server_errors > 0 and not quota
            self._server_errors -= 1 if broken else 0
        if quota:
            return self._error(call, 429, "Quota exceeded")
        if broken:
            return self._error(call, 403, "Internal server error")
        return None

    def _sent(self) -> web.Response:
        return web.json_response(
            {
                "ok": True,
                "result": {
                    "message_id": f"out-{next(self._ids)}",
                    "date": int(time.time() * 1000),
                },
            }
        )

    async def _m_getMe(self, call: ZaloCall, params: dict[str, Any]) -> web.Response:
        return web.json_response(
            {
                "ok": True,
                "result": {
                    "id": "bot-1",
                    "account_name": "baocao_qn",
                    "account_type": "BASIC",
                    "can_join_groups": self.can_join_groups,
                },
            }
        )

    async def _m_getUpdates(self, call: ZaloCall, params: dict[str, Any]) -> web.Response:
        return await self._get_updates(call, float(params.get("timeout", 0) or 0))

    async def _m_setWebhook(self, call: ZaloCall, params: dict[str, Any]) -> web.Response:
        secret = str(params["secret_token"])
        if not 8 <= len(secret) <= 256:
            self.violations.append("setWebhook: secret_token must be 8-256 characters")
            return self._error(call, 400, "secret_token must be 8-256 characters")
        self.webhook = (str(params["url"]), secret)
        return self._webhook_info()

    async def _m_deleteWebhook(self, call: ZaloCall, params: dict[str, Any]) -> web.Response:
        self.webhook = None
        return self._webhook_info()

    async def _m_getWebhookInfo(self, call: ZaloCall, params: dict[str, Any]) -> web.Response:
        return self._webhook_info()

    async def _m_sendPhoto(self, call: ZaloCall, params: dict[str, Any]) -> web.Response:
        async with ClientSession() as session, session.get(params["photo"]) as answer:
            if answer.status != 200:
                self.violations.append(f"sendPhoto: the photo URL answered {answer.status}")
                return self._error(call, 400, "photo URL unreachable")
            self.fetched_photos.append(await answer.read())
        return self._sent()

    def _webhook_info(self) -> web.Response:
        url = self.webhook[0] if self.webhook else ""
        return web.json_response(
            {"ok": True, "result": {"url": url, "updated_at": int(time.time() * 1000)}}
        )

    def _error(self, call: ZaloCall, code: int, description: str) -> web.Response:
        call.ok = False
        # Zalo's HTTP status is not to be trusted: the envelope is what counts.
        return web.json_response(
            {"ok": False, "error_code": code, "description": description},
            status=200 if code != 408 else 408,
        )

    async def _get_updates(self, call: ZaloCall, wait: float) -> web.Response:
        deadline = time.monotonic() + wait
        request = _asking.get()
        while True:
            if request is not None and (
                request.transport is None or request.transport.is_closing()
            ):
                # The bot that asked has gone (stopped by a test): an update handed to it now
                # would be lost, which is Zalo's long polling, not what a test means to check.
                return self._error(call, 408, "Request timeout")
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


def zalo_event(user_id: str, event_name: str, **fields: Any) -> dict[str, Any]:
    """Any other event (stickers, voice, messages Zalo does not pass on)."""
    return {
        "event_name": event_name,
        "message": {
            "from": {"id": user_id, "display_name": "Thu Hà", "is_bot": False},
            "chat": {"id": user_id, "chat_type": "PRIVATE"},
            "message_id": f"msg-{next(_message_ids)}",
            "date": int(time.time() * 1000),
            **fields,
        },
    }
