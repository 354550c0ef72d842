"""The web face of the bot, served by one Starlette app: the messengers' webhooks, the public
images Zalo fetches, and the secretariat's board (`bot.web.board`)."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from bot.web.webhooks import (
    TELEGRAM_PATH,
    ZALO_PATH,
    public_media,
    telegram_webhook,
    zalo_webhook,
)

__all__ = [
    "TELEGRAM_PATH",
    "ZALO_PATH",
    "build_web_app",
    "public_media",
    "telegram_webhook",
    "zalo_webhook",
]


async def health(_request: Request) -> Response:
    return PlainTextResponse("ok")


def build_web_app(
    routes: list[BaseRoute], *, middleware: list[Middleware] | None = None
) -> Starlette:
    """The app uvicorn serves: the routes given (webhooks, board), and /healthz."""
    return Starlette(routes=[*routes, Route("/healthz", health)], middleware=middleware or [])
