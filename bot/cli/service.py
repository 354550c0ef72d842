"""Running the bot, registering webhooks, and chatting with it in a terminal (or the demo)."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from pathlib import Path
from typing import Annotated

import typer
from sqlmodel import col, select

from bot.app import App
from bot.cli.common import _, command, fail, fail_with, load, now, one_unit, open_app
from bot.settings import SettingsError
from models.db import transaction


@command(
    help=_(
        "Run the bot on Telegram and/or Zalo (whichever has a token): long polling by default, or a webhook server (paths /telegram/webhook and /zalo/webhook)."
    )
)
def run(
    webhook: Annotated[
        bool, typer.Option(help=_("Serve a webhook instead of long polling"))
    ] = False,
    host: Annotated[
        str, typer.Option(help=_("Address to listen on (webhooks, web board)"))
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help=_("Port to listen on (webhooks, web board)"))] = 8080,
    web: Annotated[bool, typer.Option(help=_("Serve the web board too"))] = False,
) -> None:
    from aiogram.exceptions import TelegramUnauthorizedError

    from bot.runner import run_bot

    app = open_app()
    _ = app.translator
    logging.getLogger().setLevel(logging.INFO)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # it would log every poll
    try:
        asyncio.run(run_bot(app, webhook=webhook, host=host, port=port, web=web))
    except SettingsError as error:
        fail_with(error)
    except TelegramUnauthorizedError:
        fail(_("error: BOT_TELEGRAM_TOKEN: Telegram refused this token"))


@command(
    "set-webhook",
    help=_(
        "Register the webhook URL with Telegram or Zalo, with the secret header it must carry."
    ),
)
def set_webhook(
    url: Annotated[
        str,
        typer.Argument(help=_("Public HTTPS URL ending in /telegram/webhook or /zalo/webhook")),
    ],
    channel: Annotated[str, typer.Option(help=_("telegram or zalo"))] = "telegram",
) -> None:
    from aiogram.exceptions import TelegramAPIError

    from bot.channels.zalo import ZaloError, ZaloNetworkError
    from bot.runner import set_telegram_webhook, set_zalo_webhook

    settings = load()
    register = {"telegram": set_telegram_webhook, "zalo": set_zalo_webhook}.get(channel)
    if register is None:
        fail(_("error: --channel must be telegram or zalo"))
    try:
        asyncio.run(register(settings, url))
    except SettingsError as error:
        fail_with(error)
    except TelegramAPIError as error:
        fail(_("error: Telegram refused the webhook: {reason}", reason=error.message))
    except (ZaloError, ZaloNetworkError) as error:
        fail(_("error: Zalo refused the webhook: {reason}", reason=str(error)))
    typer.echo(url)


@command(help=_("Serve the web board alone (the secretariat's view of the province)."))
def web(
    host: Annotated[
        str, typer.Option(help=_("Address to listen on (webhooks, web board)"))
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help=_("Port to listen on (webhooks, web board)"))] = 8080,
) -> None:
    from bot.runner import serve_board, web_base_url

    app = open_app()
    logging.getLogger().setLevel(logging.INFO)
    typer.echo(
        app.translator(
            "The web board is at {url}; sign in with a link from /web in the bot, or from `login-link`.",
            url=web_base_url(app.settings, host=host, port=port),
        )
    )
    asyncio.run(serve_board(app, host=host, port=port))


@command(
    help=_("Chat with the bot in this terminal, as the chat account USER (piped input works too).")
)
def chat(
    user: Annotated[str, typer.Option(help=_("The chat account to speak as (any name)"))],
) -> None:
    from bot.channels.console import ConsoleChat

    app = open_app()
    ConsoleChat(
        user=user.strip()[:64] or "console",
        open_session=app.open_session,
        config=app.config.handlers,
    ).run()


@command(
    help=_(
        "Create a demo province (Quảng Ninh, its 54 communes and wards, tasks, officers, reports) and open the terminal chat as an officer who is already linked."
    )
)
def demo(
    user: Annotated[str, typer.Option(help=_("The chat account to speak as"))] = "demo",
    database: Annotated[Path, typer.Option(help=_("SQLite file of the demo"))] = Path(
        "data/demo.db"
    ),
    reset: Annotated[bool, typer.Option(help=_("Start again from a fresh demo database"))] = False,
    web: Annotated[
        bool, typer.Option(help=_("Open the web board on the demo data instead of the chat"))
    ] = False,
    port: Annotated[int, typer.Option(help=_("Port of the web board"))] = 8080,
) -> None:
    from bot.channels.console import ConsoleChat
    from bot.demo import seed_demo

    if reset:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{database}{suffix}").unlink(missing_ok=True)
    database.parent.mkdir(parents=True, exist_ok=True)
    settings = load().model_copy(update={"database_url": f"sqlite:///{database}"})
    app = open_app(settings)
    with transaction(app.open_session) as session:
        summary = seed_demo(
            session, now=now(), zone=app.settings.zone, chat_user=user, link=user == "demo"
        )
    typer.echo(summary.describe(app.translator))
    if web:
        _open_demo_board(app, port=port)
        return
    ConsoleChat(user=user, open_session=app.open_session, config=app.config.handlers).run()


def _open_demo_board(app: App, *, port: int) -> None:
    """The board on the demo data, signed in as the demo's secretariat officer."""
    from bot.runner import serve_board, web_base_url
    from models.enums import Role
    from models.tables import Officer
    from models.web_access import create_login_link

    base = web_base_url(app.settings, host="127.0.0.1", port=port)
    with transaction(app.open_session) as session:
        officer = session.exec(
            select(Officer).where(Officer.role == Role.SECRETARIAT, col(Officer.active))
        ).first()
        assert officer is not None
        token = create_login_link(session, officer=officer, now=now())
        name = officer.full_name
    typer.echo(
        app.translator(
            "The web board of the demo, signed in as {name} (secretariat). Open this link within 15 minutes; Ctrl-C stops:",
            name=name,
        )
    )
    typer.echo(f"{base}/login/{token}")
    logging.getLogger().setLevel(logging.INFO)
    asyncio.run(serve_board(app, host="127.0.0.1", port=port))


@command(
    help=_(
        "Plan and send what is due now, once, and exit: for deployments driven by cron or a job runner (the outbox keeps several runners from sending twice)."
    )
)
def tick() -> None:
    from bot.runner import one_tick

    app = open_app()
    logging.getLogger().setLevel(logging.INFO)
    try:
        result = asyncio.run(one_tick(app))
    except SettingsError as error:
        fail_with(error)
    typer.echo(
        app.translator(
            "{planned} planned; {sent} sent, {retried} to retry, {failed} failed, {unknown} unknown, {dropped} dropped.",
            planned=result.planned,
            sent=result.sent.sent,
            retried=result.sent.retried,
            failed=result.sent.failed,
            unknown=result.sent.unknown,
            dropped=result.sent.dropped,
        )
    )


@command(help=_("Print the progress digest (of the province, or of one unit) to the terminal."))
def digest(
    unit: Annotated[str | None, typer.Option(help=_("Unit code or name"))] = None,
) -> None:
    from reminders.digest import digest_figures, digest_text

    app = open_app()
    moment = now()
    with transaction(app.open_session) as session:
        unit_id = one_unit(session, unit, app.translator).id if unit else None
        figures = digest_figures(
            session,
            today=moment.astimezone(app.settings.zone).date(),
            zone=app.settings.zone,
            since=moment - timedelta(days=7),
            unit_id=unit_id,
        )
    typer.echo(digest_text(figures, app.translator))
