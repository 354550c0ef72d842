"""The webhook endpoints: each update is stored in the inbox, then answered 200; and the
public images messengers fetch by URL."""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import math
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from bot.inbox import Inbox, Parsed
from models.db import SessionFactory
from models.tables import PublicMedia

if TYPE_CHECKING:
    from aiogram import Bot
    from aiogram.types import Update

    from bot.channels.zalo import ZaloUpdate

MAX_BODY_BYTES = 1024 * 1024  # an update is a few kilobytes; files come by reference
DRAIN_BYTES = 8 * MAX_BODY_BYTES
TELEGRAM_PATH = "/telegram/webhook"
TELEGRAM_SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
ZALO_PATH = "/zalo/webhook"
ZALO_SECRET_HEADER = "X-Bot-Api-Secret-Token"

log = logging.getLogger(__name__)


def _secret_matches(request: Request, header: str, secret: str) -> bool:
    given = request.headers.get(header, "")
    return hmac.compare_digest(given.encode(), secret.encode())


def _refuse(request: Request) -> Response:
    log.warning(
        "webhook call with a wrong secret from %s", request.client.host if request.client else "?"
    )
    return PlainTextResponse("forbidden", status_code=403)


class BodyTooLarge(Exception):
    pass


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # 1e309
        raise ValueError("a number too large")
    return value


async def json_object(request: Request) -> dict[str, Any] | None:
    """The body as a JSON object, or None for anything else (not JSON, not an object, nested
    beyond reason, numbers JSON has no room for). `BodyTooLarge` past MAX_BODY_BYTES."""
    body = bytearray()
    received = 0
    async for chunk in request.stream():
        received += len(chunk)
        if received > DRAIN_BYTES:  # past this, the sender may hear a reset instead of 413
            break
        if received <= MAX_BODY_BYTES:
            body += chunk
    if received > MAX_BODY_BYTES:
        raise BodyTooLarge
    try:
        value = json.loads(bytes(body), parse_constant=_no_constant, parse_float=_finite)
    except (ValueError, RecursionError):
        return None
    return value if isinstance(value, dict) else None


def webhook(
    path: str,
    *,
    inbox: Inbox[Parsed],
    header: str,
    secret: str,
    read: Callable[[dict[str, Any]], tuple[str, Parsed] | None],
    answer: dict[str, Any],
) -> Route:
    """A messenger's endpoint: the secret header checked on every call; a body that is not
    one of its updates gets 400 (nothing stored, no traceback); an update is stored before
    the 200, so a crash right after loses nothing."""

    async def receive(request: Request) -> Response:
        if not _secret_matches(request, header, secret):
            return _refuse(request)
        try:
            payload = await json_object(request)
        except BodyTooLarge:
            return PlainTextResponse("too large", status_code=413)
        update = read(payload) if payload is not None else None
        if payload is None or update is None:
            log.info("%s: a body that is not an update was refused", path)
            return PlainTextResponse("not an update", status_code=400)
        delivery_id, parsed = update
        await inbox.put(delivery_id, payload, parsed)
        return JSONResponse(answer)

    return Route(path, receive, methods=["POST"])


def telegram_webhook(inbox: Inbox[Update], secret: str, bot: Bot) -> Route:
    """The Telegram endpoint: no token in the path."""
    from bot.channels.telegram import update_reader

    return webhook(
        TELEGRAM_PATH,
        inbox=inbox,
        header=TELEGRAM_SECRET_HEADER,
        secret=secret,
        read=update_reader(bot),
        answer={},
    )


def zalo_webhook(inbox: Inbox[ZaloUpdate], secret: str) -> Route:
    """The Zalo endpoint: its own path and secret header; bare or wrapped updates."""
    from bot.channels.zalo import read_update

    return webhook(
        ZALO_PATH,
        inbox=inbox,
        header=ZALO_SECRET_HEADER,
        secret=secret,
        read=read_update,
        answer={"ok": True},
    )


def public_media(open_session: SessionFactory) -> Route:
    """Images (digest charts) at unguessable URLs, for messengers that take photos by URL."""

    async def serve(request: Request) -> Response:
        media_id = request.path_params["name"].split(".")[0]
        media = await asyncio.to_thread(_load_media, open_session, media_id)
        if media is None:
            return PlainTextResponse("not found", status_code=404)
        return Response(media.data, media_type=media.content_type)

    return Route("/media/{name}", serve, methods=["GET"])


def _load_media(open_session: SessionFactory, media_id: str) -> PublicMedia | None:
    with open_session() as session:
        media = session.get(PublicMedia, media_id)
        if media is None or media.expires_at <= datetime.now(UTC):
            return None
        return media
