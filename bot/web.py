"""The ASGI app for webhooks: it stores each update in the inbox, then answers 200."""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from datetime import UTC, datetime

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from bot.inbox import Inbox
from models.db import SessionFactory
from models.tables import PublicMedia

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


def telegram_webhook(inbox: Inbox, secret: str) -> Route:
    """The Telegram endpoint: no token in the path, the secret header checked on every call."""

    async def receive(request: Request) -> Response:
        if not _secret_matches(request, TELEGRAM_SECRET_HEADER, secret):
            return _refuse(request)
        try:
            payload = json.loads(await request.body())
            update_id = int(payload["update_id"])
        except (ValueError, KeyError, TypeError):
            return PlainTextResponse("not an update", status_code=400)
        # Stored before answering: if we crash now, Telegram's update is already safe.
        await inbox.put(str(update_id), payload)
        return JSONResponse({})

    return Route(TELEGRAM_PATH, receive, methods=["POST"])


def zalo_webhook(inbox: Inbox, secret: str) -> Route:
    """The Zalo endpoint: its own path and secret header; bare or wrapped updates."""
    from bot.channels.zalo import message_id_of

    async def receive(request: Request) -> Response:
        if not _secret_matches(request, ZALO_SECRET_HEADER, secret):
            return _refuse(request)
        try:
            payload = json.loads(await request.body())
            delivery_id = message_id_of(payload) if isinstance(payload, dict) else None
        except ValueError:
            return PlainTextResponse("not an update", status_code=400)
        if delivery_id is not None:
            await inbox.put(delivery_id, payload)
        return JSONResponse({"ok": True})

    return Route(ZALO_PATH, receive, methods=["POST"])


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


async def health(_request: Request) -> Response:
    return PlainTextResponse("ok")


def build_web_app(routes: list[Route]) -> Starlette:
    """The app uvicorn serves: the webhook routes given, and /healthz."""
    return Starlette(routes=[*routes, Route("/healthz", health)])
