"""A fake Telegram Bot API server that checks every request against the official spec.

It runs aiohttp on 127.0.0.1 in a thread of the test process, so the real bot process talks to
it over HTTP. Every call is recorded; a call with an unknown method, an unknown parameter, a
missing required one or a value of the wrong type is answered with a Telegram-shaped 400 and
kept in `violations`, which the fixture turns into a failed test.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import math
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from tests.fake_server import LoopbackServer, WaitsForTexts

SPEC_PATH = Path(__file__).resolve().parent / "telegram_api" / "api.json"  # MIT, see its LICENSE
# aiogram targets a newer Bot API than the 10.1 page and may still send these (tests/telegram_api/README.md).
DRIFT_ALLOWED = {"reply_to_message_id", "allow_sending_without_reply", "disable_web_page_preview"}
SCALARS = {"Integer", "String", "Boolean", "Float", "True", "InputFile"}


def load_spec() -> dict[str, Any]:
    return json.loads(SPEC_PATH.read_text(encoding="utf-8"))


class SpecChecker:
    """Checks a call's parameters, as sent over HTTP, against the Bot API specification."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.methods: dict[str, Any] = spec["methods"]
        self.types: dict[str, Any] = spec["types"]

    def check(self, method: str, params: dict[str, Any], files: set[str]) -> list[str]:
        if method not in self.methods:
            return [f"unknown method {method}"]
        fields = {f["name"]: f for f in self.methods[method].get("fields", [])}
        problems = []
        for name, value in params.items():
            if name in files:
                continue  # the body of a file sent as attach://name
            if name not in fields:
                if name not in DRIFT_ALLOWED:
                    problems.append(f"{method}: unknown parameter {name}")
                continue
            if not any(self._form_value_fits(value, t, files) for t in fields[name]["types"]):
                problems.append(
                    f"{method}.{name}: {value!r} is not {' or '.join(fields[name]['types'])}"
                )
        for name, spec_field in fields.items():
            if spec_field["required"] and name not in params:
                problems.append(f"{method}: missing required parameter {name}")
        return problems

    def _form_value_fits(self, value: Any, type_name: str, files: set[str]) -> bool:
        """A top-level value: a string in a form (JSON for arrays and objects), or a file."""
        if isinstance(value, FilePart):
            return type_name == "InputFile"
        text = str(value)
        if type_name == "InputFile":
            return text.startswith("attach://") and text.removeprefix("attach://") in files
        if type_name == "String":
            return True
        if type_name == "Integer":
            return text.lstrip("-").isdigit()
        if type_name == "Float":
            try:
                float(text)
            except ValueError:
                return False
            return True
        if type_name in ("Boolean", "True"):
            return (
                text.lower() in ("true", "false")
                if type_name == "Boolean"
                else text.lower() == "true"
            )
        try:
            decoded = json.loads(text)
        except ValueError:
            return False
        return self._json_fits(decoded, type_name)

    def _json_fits(self, value: Any, type_name: str) -> bool:
        if type_name.startswith("Array of "):
            inner = type_name.removeprefix("Array of ")
            return isinstance(value, list) and all(self._json_fits(item, inner) for item in value)
        checks: dict[str, Callable[[Any], bool]] = {
            "Integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
            "Float": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
            "String": lambda v: isinstance(v, str),
            "Boolean": lambda v: isinstance(v, bool),
            "True": lambda v: v is True,
            "InputFile": lambda v: isinstance(v, str),
        }
        if type_name in checks:
            return checks[type_name](value)
        definition = self.types.get(type_name)
        if definition is None or not isinstance(value, dict):
            return False
        if definition.get("subtypes"):
            return any(self._json_fits(value, subtype) for subtype in definition["subtypes"])
        fields = {f["name"]: f for f in definition.get("fields", [])}
        if any(name not in fields for name in value):
            return False
        if any(f["required"] and name not in value for name, f in fields.items()):
            return False
        return all(
            any(self._json_fits(v, t) for t in fields[k]["types"]) for k, v in value.items()
        )


@dataclass(frozen=True)
class FilePart:
    filename: str
    data: bytes


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    at: float
    status: int = 0  # 0 while the fake has not answered yet (a hung call)
    content_type: str = ""  # how the parameters came: JSON, a form, a multipart form


@dataclass
class Fault:
    kind: str  # "429", "500", "hang", "403"
    count: int
    retry_after: int = 1
    seconds: float = 0.0


@dataclass(frozen=True)
class StrictLimits:
    """Telegram's published sending limits, enforced to the letter: a message that would make
    any sliding window hold more is answered 429 (and not counted)."""

    per_chat_interval: float = 1.0
    group_per_minute: int = 20
    global_per_second: int = 30


SENDING_METHODS = frozenset(
    ("sendMessage", "sendPhoto", "sendDocument", "editMessageText", "editMessageReplyMarkup")
)


@dataclass
class FakeTelegram(WaitsForTexts):
    token: str
    username: str = "QuangNinhBaoCaoBot"
    checker: SpecChecker = field(default_factory=lambda: SpecChecker(load_spec()))
    calls: list[Call] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    files: dict[str, bytes] = field(default_factory=dict)
    messages: dict[int, dict[str, Any]] = field(default_factory=dict)
    blocked_chats: set[int] = field(default_factory=set)
    strict: StrictLimits | None = None  # None: every message is accepted at once
    port: int = 0
    first_update_id: int = 1000  # above any a database kept from another run, if it has to be

    def __post_init__(self) -> None:
        self._updates: list[dict[str, Any]] = []
        self._confirmed = 0
        self._update_ids = itertools.count(self.first_update_id)
        self._message_ids = itertools.count(1)
        self._faults: dict[str, list[Fault]] = {}
        self._lock = threading.Lock()
        self._server = LoopbackServer(self._routes)
        self._new_update = asyncio.Event()
        self._accepted: deque[float] = deque()  # arrival times, the last second (strict mode)
        self._accepted_in_chat: defaultdict[str, deque[float]] = defaultdict(deque)

    # ---- life ------------------------------------------------------------------------------

    def start(self) -> FakeTelegram:
        self._server.start()
        self.port = self._server.port
        return self

    def _routes(self, app: web.Application) -> None:
        app.router.add_route("*", "/bot{token}/{method}", self._api)
        app.router.add_get("/file/bot{token}/{path:.*}", self._file)

    def stop(self) -> None:
        self._server.stop()

    @property
    def base(self) -> str:
        return self._server.base

    # ---- what tests do ---------------------------------------------------------------------

    def push(self, update: dict[str, Any], *, copies: int = 1) -> int:
        """Queue an update for getUpdates (`copies` > 1: Telegram resending it, as after a lost
        acknowledgement); returns its update_id."""
        update = {"update_id": next(self._update_ids), **update}
        with self._lock:
            self._updates.extend([update] * copies)
        self._server.loop.call_soon_threadsafe(self._new_update.set)
        return int(update["update_id"])

    def fail(
        self, method: str, kind: str, *, count: int = 1, retry_after: int = 1, seconds: float = 0
    ) -> None:
        """Answer the next `count` calls of `method` with 429, 500, 403, or hang for `seconds`."""
        with self._lock:
            self._faults.setdefault(method, []).append(Fault(kind, count, retry_after, seconds))

    def add_file(self, data: bytes) -> str:
        file_id = f"file-{len(self.files) + 1}"
        self.files[file_id] = data
        return file_id

    def sent(self, method: str = "sendMessage", chat_id: int | None = None) -> list[Call]:
        with self._lock:
            return [
                c
                for c in self.calls
                if c.method == method
                and c.status == 200
                and (chat_id is None or str(c.params.get("chat_id")) == str(chat_id))
            ]

    def texts(self, chat_id: int) -> list[str]:
        """Every text the chat has seen, sent or edited in, in order."""
        with self._lock:
            return [
                str(c.params["text"])
                for c in self.calls
                if c.method in ("sendMessage", "editMessageText")
                and c.status == 200
                and str(c.params.get("chat_id")) == str(chat_id)
            ]

    def button(self, chat_id: int, label_part: str) -> tuple[int, str]:
        """(message_id, callback_data) of the newest button in the chat whose label has `label_part`."""
        with self._lock:
            for message_id in sorted(self.messages, reverse=True):
                message = self.messages[message_id]
                if message["chat"]["id"] != chat_id or not message.get("reply_markup"):
                    continue
                for row in message["reply_markup"]["inline_keyboard"]:
                    for button in row:
                        if label_part.casefold() in button["text"].casefold():
                            return message_id, button["callback_data"]
        raise AssertionError(f"no button {label_part!r} in chat {chat_id}")

    def message(self, message_id: int) -> dict[str, Any]:
        with self._lock:
            return dict(self.messages[message_id])

    # ---- the API ---------------------------------------------------------------------------

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params, files = await self._params(request)
        call = Call(
            method=method, params=params, at=time.monotonic(), content_type=request.content_type
        )
        with self._lock:
            self.calls.append(call)
        if request.match_info["token"] != self.token:
            call.status = 401
            return web.json_response(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401
            )
        problems = self.checker.check(method, params, files)
        if problems:
            call.status = 400
            with self._lock:
                self.violations.extend(problems)
            return web.json_response(
                {
                    "ok": False,
                    "error_code": 400,
                    "description": "Bad Request: " + "; ".join(problems),
                },
                status=400,
            )
        if self.strict is not None and method in SENDING_METHODS:
            retry_after = self._over_limit(self.strict, str(params["chat_id"]), call.at)
            if retry_after:
                call.status = 429
                return web.json_response(
                    {
                        "ok": False,
                        "error_code": 429,
                        "description": f"Too Many Requests: retry after {retry_after}",
                        "parameters": {"retry_after": retry_after},
                    },
                    status=429,
                )
        fault = self._take_fault(method)
        if fault is not None:
            response = await self._fault(fault, params)
            if response is not None:
                call.status = response.status
                return response
        if method == "sendMessage" and int(params["chat_id"]) in self.blocked_chats:
            call.status = 403
            return web.json_response(
                {
                    "ok": False,
                    "error_code": 403,
                    "description": "Forbidden: bot was blocked by the user",
                },
                status=403,
            )
        handler = getattr(self, f"_m_{method}", None)
        result = await handler(params) if handler else True
        call.status = 200
        return web.json_response({"ok": True, "result": result})

    async def _params(self, request: web.Request) -> tuple[dict[str, Any], set[str]]:
        params: dict[str, Any] = dict(request.query)
        files: set[str] = set()
        if request.content_type == "application/json":
            body = await request.json()
            params.update({k: v if isinstance(v, str) else json.dumps(v) for k, v in body.items()})
        elif request.content_type == "multipart/form-data":
            reader = await request.multipart()
            async for part in reader:
                if part.filename:  # type: ignore[union-attr]
                    params[part.name or ""] = FilePart(part.filename, await part.read())  # type: ignore[union-attr]
                    files.add(part.name or "")
                else:
                    params[part.name or ""] = await part.text()  # type: ignore[union-attr]
        elif request.can_read_body:
            params.update(dict(await request.post()))
        return params, files

    def _over_limit(self, limits: StrictLimits, chat_id: str, now: float) -> int:
        """0 and the message counted if it fits every window; else the seconds to wait."""
        group = chat_id.startswith("-")
        with self._lock:
            everyone, chat = self._accepted, self._accepted_in_chat[chat_id]
            while everyone and everyone[0] <= now - 1.0:
                everyone.popleft()
            while chat and chat[0] <= now - 60.0:
                chat.popleft()
            if (
                len(everyone) >= limits.global_per_second
                or (chat and chat[-1] > now - limits.per_chat_interval)
                or (group and len(chat) >= limits.group_per_minute)
            ):
                waited = everyone[0] + 1.0 if len(everyone) >= limits.global_per_second else now
                if chat:
                    waited = max(waited, chat[-1] + limits.per_chat_interval)
                if group and len(chat) >= limits.group_per_minute:
                    waited = max(waited, chat[-limits.group_per_minute] + 60.0)
                return max(1, math.ceil(waited - now))
            everyone.append(now)
            chat.append(now)
            return 0

    def _take_fault(self, method: str) -> Fault | None:
        with self._lock:
            faults = self._faults.get(method) or []
            if not faults:
                return None
            fault = faults[0]
            fault.count -= 1
            if fault.count <= 0:
                faults.pop(0)
            return fault

    async def _fault(self, fault: Fault, params: dict[str, Any]) -> web.Response | None:
        if fault.kind == "429":
            return web.json_response(
                {
                    "ok": False,
                    "error_code": 429,
                    "description": f"Too Many Requests: retry after {fault.retry_after}",
                    "parameters": {"retry_after": fault.retry_after},
                },
                status=429,
            )
        if fault.kind == "500":
            return web.json_response(
                {"ok": False, "error_code": 500, "description": "Internal Server Error"},
                status=500,
            )
        if fault.kind == "403":
            return web.json_response(
                {
                    "ok": False,
                    "error_code": 403,
                    "description": "Forbidden: bot was blocked by the user",
                },
                status=403,
            )
        await asyncio.sleep(fault.seconds)  # "hang": the client gives up first
        return web.json_response(
            {"ok": False, "error_code": 500, "description": "Internal Server Error: hung"},
            status=500,
        )

    async def _m_getMe(self, params: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": 7000001,
            "is_bot": True,
            "first_name": "Báo cáo nhiệm vụ",
            "username": self.username,
        }

    async def _m_getUpdates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(params.get("offset", 0) or 0)
        timeout = float(params.get("timeout", 0) or 0)
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                if offset:
                    self._updates = [u for u in self._updates if u["update_id"] >= offset]
                ready = list(self._updates[: int(params.get("limit", 100) or 100)])
            if ready or time.monotonic() >= deadline:
                return ready
            self._new_update.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    self._new_update.wait(), timeout=max(0.01, deadline - time.monotonic())
                )

    def _message(self, params: dict[str, Any], **extra: Any) -> dict[str, Any]:
        chat_id = int(params["chat_id"])
        message = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": {
                "id": chat_id,
                "type": "private" if chat_id > 0 else "group",
                **({"title": "Nhóm"} if chat_id < 0 else {}),
            },
            "from": {"id": 7000001, "is_bot": True, "first_name": "Báo cáo nhiệm vụ"},
            **extra,
        }
        if "reply_markup" in params:
            message["reply_markup"] = json.loads(params["reply_markup"])
        with self._lock:
            self.messages[message["message_id"]] = message
        return message

    async def _m_sendMessage(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._message(params, text=params["text"])

    async def _m_sendPhoto(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._message(
            params, photo=[{"file_id": "sent", "file_unique_id": "sent", "width": 1, "height": 1}]
        )

    async def _m_editMessageText(self, params: dict[str, Any]) -> dict[str, Any]:
        message_id = int(params["message_id"])
        with self._lock:
            message = self.messages[message_id]
            message["text"] = params["text"]
            message.pop("reply_markup", None)
            if "reply_markup" in params:
                message["reply_markup"] = json.loads(params["reply_markup"])
            return dict(message)

    async def _m_editMessageReplyMarkup(self, params: dict[str, Any]) -> dict[str, Any]:
        message_id = int(params["message_id"])
        with self._lock:
            message = self.messages[message_id]
            message.pop("reply_markup", None)
            if "reply_markup" in params:
                message["reply_markup"] = json.loads(params["reply_markup"])
            return dict(message)

    async def _m_getFile(self, params: dict[str, Any]) -> dict[str, Any]:
        file_id = params["file_id"]
        return {
            "file_id": file_id,
            "file_unique_id": file_id,
            "file_size": len(self.files[file_id]),
            "file_path": f"photos/{file_id}.jpg",
        }

    async def _file(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.Response(status=401)
        file_id = Path(request.match_info["path"]).stem
        return web.Response(body=self.files[file_id])

    async def _m_getWebhookInfo(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"url": "", "has_custom_certificate": False, "pending_update_count": 0}


# ---- updates as Telegram sends them --------------------------------------------------------


def user(user_id: int, name: str = "Thu Hà") -> dict[str, Any]:
    return {"id": user_id, "is_bot": False, "first_name": name, "language_code": "vi"}


def text_update(
    user_id: int, text: str, *, chat_id: int | None = None, name: str = "Thu Hà"
) -> dict[str, Any]:
    chat = {
        "id": chat_id or user_id,
        "type": "private" if (chat_id or user_id) > 0 else "supergroup",
    }
    if chat["type"] != "private":
        chat["title"] = "Tổ giúp việc Ban Chỉ đạo"
    message: dict[str, Any] = {
        "message_id": int(time.time() * 1000) % 10**9,
        "date": int(time.time()),
        "chat": chat,
        "from": user(user_id, name),
        "text": text,
    }
    if text.startswith("/"):
        command = text.split(maxsplit=1)[0]
        message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
    return {"message": message}


def photo_update(user_id: int, file_id: str, size: int) -> dict[str, Any]:
    return {
        "message": {
            "message_id": int(time.time() * 1000) % 10**9,
            "date": int(time.time()),
            "chat": {"id": user_id, "type": "private"},
            "from": user(user_id),
            "photo": [
                {
                    "file_id": "thumb",
                    "file_unique_id": "thumb",
                    "width": 90,
                    "height": 90,
                    "file_size": 10,
                },
                {
                    "file_id": file_id,
                    "file_unique_id": f"u{file_id}",
                    "width": 1280,
                    "height": 960,
                    "file_size": size,
                },
            ],
        }
    }


def button_update(
    fake: FakeTelegram, user_id: int, label_part: str, *, data: str | None = None
) -> dict[str, Any]:
    """A press on the newest button whose label has `label_part` (or with forged `data`)."""
    message_id, callback_data = fake.button(user_id, label_part)
    message = fake.message(message_id)
    return {
        "callback_query": {
            "id": f"cq{time.monotonic_ns()}",
            "from": user(user_id),
            "chat_instance": "ci",
            "message": message,
            "data": data if data is not None else callback_data,
        }
    }
