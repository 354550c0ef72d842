"""The ASGI app for webhooks: it stores each update in the inbox, then answers 200."""

from __future__ import annotations

import hmac
import json
import logging

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from bot.inbox import Inbox

TELEGRAM_PATH = "/telegram/webhook"
TELEGRAM_SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"

log = logging.getLogger(__name__)


def telegram_webhook(inbox: Inbox, secret: str) -> Route:
    """The Telegram endpoint: no token in the path, the secret header checked on every call."""

    async def receive(request: Request) -> Response:
        given = request.headers.get(TELEGRAM_SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), secret.encode()):
            log.warning(
                "webhook call with a wrong secret from %s",
                request.client.host if request.client else "?",
            )
            return PlainTextResponse("forbidden", status_code=403)
        try:
            payload = json.loads(await request.body())
            update_id = int(payload["update_id"])
        except (ValueError, KeyError, TypeError):
            return PlainTextResponse("not an update", status_code=400)
        # Stored before answering: if we crash now, Telegram's update is already safe.
        await inbox.put(str(update_id), payload)
        return JSONResponse({})

    return Route(TELEGRAM_PATH, receive, methods=["POST"])


async def health(_request: Request) -> Response:
    return PlainTextResponse("ok")


def build_web_app(routes: list[Route]) -> Starlette:
    """The app uvicorn serves: the webhook routes given, and /healthz."""
    return Starlette(routes=[*routes, Route("/healthz", health)])
