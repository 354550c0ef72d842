"""`python -m bot run`: the bot on Telegram and/or Zalo, by long polling (default) or behind
webhooks, with the reminder scheduler."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import secrets
import signal
from collections.abc import Awaitable, Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import SQLAlchemyError

from bot.app import App, configure
from bot.channels.delivery import ChannelSender, NoticeChannel
from bot.channels.rate_limit import RateLimiter
from bot.inbox import Inbox
from bot.settings import Settings, SettingsError, require_telegram_token, require_zalo_token
from locales import N_
from models.accounts import remember_messenger
from models.db import transaction
from models.queue import OutboxKind
from reminders.outbox import OutboxSender, SendResult
from reminders.planning import Planner
from reminders.render import OutboxRenderer
from reminders.scheduler import ReminderService, build_scheduler

if TYPE_CHECKING:
    from aiogram import Bot
    from aiogram.types import Update
    from starlette.middleware import Middleware
    from starlette.routing import BaseRoute

    from bot.channels.zalo import ZaloUpdate
    from bot.web.board import BoardSite

log = logging.getLogger(__name__)
DRAIN_SECONDS = 10.0
REPLY_SWEEP_SECONDS = 5.0


def board_site(app: App, *, base_url: str) -> BoardSite:
    """The web board of this application, reached at `base_url`."""
    from bot.web.board import BoardSettings, BoardSite  # templates, spreadsheets: when served

    settings = app.settings
    key = settings.web_secret_key.get_secret_value() if settings.web_secret_key else None
    if key is None:
        log.warning("BOT_WEB_SECRET_KEY is not set: board sessions end when this process stops")
        key = secrets.token_urlsafe(32)
    return BoardSite(
        open_session=app.open_session,
        zone=settings.zone,
        settings=BoardSettings(
            secret_key=key,
            secure_cookie=base_url.startswith("https://"),
            base_url=base_url.rstrip("/"),
        ),
    )


def use_worker_threads(app: App) -> None:
    """The running loop's threads for blocking work (`asyncio.to_thread`), as many as the
    database wants; closed with the loop."""
    asyncio.get_running_loop().set_default_executor(
        ThreadPoolExecutor(max_workers=app.worker_threads, thread_name_prefix="worker")
    )


def web_base_url(settings: Settings, *, host: str, port: int) -> str:
    return settings.public_base_url or f"http://{host}:{port}"


@dataclass
class Running:
    """What the channels contribute: their senders, inboxes, webhook routes, pollers, clean-ups."""

    senders: dict[str, NoticeChannel] = field(default_factory=dict)
    inboxes: list[Inbox[Any]] = field(default_factory=list)
    routes: list[BaseRoute] = field(default_factory=list)
    pollers: list[Callable[[asyncio.Event], Coroutine[Any, Any, None]]] = field(
        default_factory=list
    )
    startups: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    closers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    middleware: list[Middleware] = field(default_factory=list)


def _remember_messenger(app: App, channel: str, name: str, can_join_groups: bool) -> None:
    with transaction(app.open_session) as session:
        remember_messenger(
            session,
            channel=channel,
            name=name,
            can_join_groups=can_join_groups,
            at=datetime.now(UTC),
        )


def outbox_sender(app: App, senders: dict[str, NoticeChannel]) -> OutboxSender:
    """The one sender of outbox rows (replies, reminders, digests), through the channels that
    run in this process."""
    config = app.config
    return OutboxSender(
        open_session=app.open_session,
        sender=ChannelSender(senders),
        grace=config.reminders.grace,
        render=OutboxRenderer(calendar=config.calendar, language=app.settings.locale),
    )


def reminder_service(app: App, outbox: OutboxSender) -> ReminderService:
    """Planner and outbox sender, from the settings."""
    planner = Planner(calendar=app.config.calendar, policy=app.config.reminders)
    return ReminderService(open_session=app.open_session, planner=planner, outbox=outbox)


@dataclass(frozen=True)
class TickResult:
    planned: int
    sent: SendResult


async def one_tick(app: App) -> TickResult:
    """`python -m bot tick`: one planning and sending pass through the messengers that have a
    token, then the clients are closed."""
    settings = app.settings
    if settings.telegram_token is None and settings.zalo_token is None:
        raise SettingsError("BOT_TELEGRAM_TOKEN", N_("set it, or BOT_ZALO_TOKEN, to run the bot"))
    use_worker_threads(app)
    running = Running()
    outbox = outbox_sender(app, running.senders)
    if settings.telegram_token is not None:
        _with_telegram(app, running, outbox, webhook=False)  # senders only: nothing polls
    if settings.zalo_token is not None:
        _with_zalo(app, running, outbox, webhook=False)
    service = reminder_service(app, outbox)
    try:
        now = datetime.now(UTC)
        planned = await asyncio.to_thread(service.plan_once, now)
        sent = await outbox.send_due(now=now)
    finally:
        for close in running.closers:
            await close()
    return TickResult(planned=planned, sent=sent)


async def send_waiting_replies(outbox: OutboxSender, stop: asyncio.Event) -> None:
    """Replies stored but not sent (their process died before sending) go out once their
    hold runs out, whether or not the scheduler runs here."""
    while not stop.is_set():
        try:
            await outbox.send_due(now=datetime.now(UTC), only=OutboxKind.REPLY)
        except SQLAlchemyError as error:
            log.warning("waiting replies unreadable (%s); again shortly", type(error).__name__)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), REPLY_SWEEP_SECONDS)


def webhook_secret(settings: Settings) -> str:
    if settings.webhook_secret is None:
        raise SettingsError(
            "BOT_WEBHOOK_SECRET",
            N_("required in webhook mode (any long random string of letters, digits, _ or -)"),
        )
    return settings.webhook_secret.get_secret_value()


def zalo_webhook_secret(settings: Settings) -> str:
    if settings.zalo_webhook_secret is None:
        raise SettingsError(
            "BOT_ZALO_WEBHOOK_SECRET", N_("required for the Zalo webhook (a long random string)")
        )
    return settings.zalo_webhook_secret.get_secret_value()


def _with_telegram(app: App, running: Running, outbox: OutboxSender, *, webhook: bool) -> None:
    from bot.channels import telegram  # aiogram: loaded only where Telegram is configured

    settings = app.settings
    token = require_telegram_token(settings)
    bot = telegram.make_bot(
        token=token,
        api_base=settings.telegram_api_base,
        limiter=RateLimiter(app.config.telegram_limits),
        request_timeout=settings.telegram_request_timeout,
    )
    channel = telegram.TelegramChannel(
        bot=bot,
        open_session=app.open_session,
        config=app.config.handlers,
        replies=outbox,
        typing_after=settings.telegram_typing_after,
    )
    inbox: Inbox[Update] = Inbox(
        channel=telegram.CHANNEL,
        open_session=app.open_session,
        process=channel.process,
        chat_of=telegram.chat_of_update,
    )
    running.senders[telegram.CHANNEL] = channel
    running.inboxes.append(inbox)

    async def start() -> None:
        me = await bot.get_me()
        log.info(
            "Telegram bot @%s starting (%s)", me.username, "webhook" if webhook else "long polling"
        )
        await asyncio.to_thread(
            _remember_messenger,
            app,
            telegram.CHANNEL,
            me.username or "",
            bool(me.can_join_groups) if me.can_join_groups is not None else True,
        )
        await channel.register_commands()
        if not webhook:
            await bot.delete_webhook(drop_pending_updates=False)
        elif settings.public_base_url:
            from bot.web.webhooks import TELEGRAM_PATH

            await bot.set_webhook(
                url=settings.public_base_url.rstrip("/") + TELEGRAM_PATH,
                secret_token=webhook_secret(settings),
                allowed_updates=telegram.ALLOWED_UPDATES,
            )

    running.startups.append(start)
    running.closers.append(bot.session.close)
    if webhook:
        from bot.web.webhooks import telegram_webhook  # Starlette: only a process that serves

        running.routes.append(telegram_webhook(inbox, webhook_secret(settings), bot))
    else:
        running.pollers.append(
            lambda stop: telegram.poll(
                bot, inbox, polling_timeout=settings.telegram_polling_timeout, stop=stop
            )
        )


def _with_zalo(app: App, running: Running, outbox: OutboxSender, *, webhook: bool) -> None:
    from bot.channels import zalo  # loaded only where Zalo is configured

    settings = app.settings
    client = zalo.ZaloClient(
        token=require_zalo_token(settings),
        api_base=settings.zalo_api_base,
        timeout=settings.zalo_request_timeout,
    )
    limiter = RateLimiter(app.config.zalo_limits)
    channel = zalo.ZaloChannel(
        client=client,
        open_session=app.open_session,
        config=app.config.handlers,
        limiter=limiter,
        replies=outbox,
        public_base_url=settings.public_base_url,
        typing_after=settings.zalo_typing_after,
    )
    inbox: Inbox[ZaloUpdate] = Inbox(
        channel=zalo.CHANNEL,
        open_session=app.open_session,
        process=channel.process,
        chat_of=zalo.chat_of_update,
    )
    running.senders[zalo.CHANNEL] = channel
    running.inboxes.append(inbox)

    async def start() -> None:
        me = zalo.BotInfo.model_validate(await client.call("getMe") or {})
        log.info(
            "Zalo bot %s starting (%s)", me.account_name, "webhook" if webhook else "long polling"
        )
        await asyncio.to_thread(
            _remember_messenger, app, zalo.CHANNEL, me.account_name, me.can_join_groups
        )
        if not me.can_join_groups:
            log.info(
                "this Zalo bot cannot join groups: digests go to groups on other messengers "
                "and, for units, to their leads in private"
            )
        if webhook and settings.public_base_url:
            from bot.web.webhooks import ZALO_PATH

            await client.call(
                "setWebhook",
                {
                    "url": settings.public_base_url.rstrip("/") + ZALO_PATH,
                    "secret_token": zalo_webhook_secret(settings),
                },
            )
        elif not webhook:
            await client.call("deleteWebhook")
            log.warning(
                "Zalo by long polling is for development: events can be missed. Set "
                "BOT_PUBLIC_BASE_URL (an HTTPS address) so Zalo delivers by webhook."
            )

    running.startups.append(start)
    running.closers.append(client.close)
    if webhook:
        from bot.web.webhooks import zalo_webhook

        running.routes.append(zalo_webhook(inbox, zalo_webhook_secret(settings)))
    else:
        running.pollers.append(
            lambda stop: zalo.poll(
                client, inbox, polling_timeout=settings.zalo_polling_timeout, stop=stop
            )
        )


async def run_bot(app: App, *, webhook: bool, host: str, port: int, web: bool = False) -> None:
    """Serve every configured messenger until SIGINT/SIGTERM; updates go through the inboxes."""
    settings = app.settings
    if settings.telegram_token is None and settings.zalo_token is None:
        raise SettingsError("BOT_TELEGRAM_TOKEN", N_("set it, or BOT_ZALO_TOKEN, to run the bot"))
    # Behind a public address the messengers deliver by webhook (Zalo's polling is for
    # development only: it can miss events).
    webhook = webhook or settings.public_base_url is not None
    use_worker_threads(app)
    running = Running()
    outbox = outbox_sender(app, running.senders)  # everything the bot says goes through it
    if settings.telegram_token is not None:
        _with_telegram(app, running, outbox, webhook=webhook)
    if settings.zalo_token is not None:
        _with_zalo(app, running, outbox, webhook=webhook)
    if settings.public_base_url:
        from bot.web.webhooks import public_media

        running.routes.append(public_media(app.open_session))
    if settings.web_enabled if settings.web_enabled is not None else (webhook or web):
        _with_board(app, running, base_url=web_base_url(settings, host=host, port=port))

    workers = [asyncio.create_task(inbox.run()) for inbox in running.inboxes]
    service = reminder_service(app, outbox)
    scheduler = (
        build_scheduler(service, schedule=app.config.schedule, zone=settings.zone)
        if settings.scheduler_enabled
        else None
    )
    stop = asyncio.Event()
    workers.append(asyncio.create_task(send_waiting_replies(outbox, stop)))
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        # uvicorn re-raises the signal it stopped on once it is done: this handler takes it, so
        # the clean-up below still runs and the process exits 0.
        loop.add_signal_handler(sig, stop.set)
    try:
        for start in running.startups:
            await start()
        # What start-up made lives as long as the process (aiogram's types, the mappers, the
        # catalogs: a quarter of a million objects): out of the collector's reach, a full
        # collection no longer walks them all, a tenth of a second each time.
        gc.collect()
        gc.freeze()
        if scheduler is not None:
            scheduler.start()
        await _serve_until(stop, running, host=host, port=port)
    finally:
        stop.set()
        if scheduler is not None and scheduler.running:
            # No new job starts; the one running finishes (a job cancelled halfway would be
            # logged as failed), then the scheduler goes.
            scheduler.pause()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(DRAIN_SECONDS):
                    await service.wait_idle()
            scheduler.shutdown(wait=False)
        await _shut_down(running, workers)
        log.info("bot stopped")


def _with_board(app: App, running: Running, *, base_url: str) -> None:
    site = board_site(app, base_url=base_url)
    running.routes.extend(site.routes())
    running.middleware.extend(site.middleware())
    log.info("web board at %s", base_url)


async def serve_board(app: App, *, host: str, port: int) -> None:
    """`python -m bot web`: the board alone, until SIGINT/SIGTERM."""
    use_worker_threads(app)
    running = Running()
    _with_board(app, running, base_url=web_base_url(app.settings, host=host, port=port))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await _serve_until(stop, running, host=host, port=port)


async def _serve_until(stop: asyncio.Event, running: Running, *, host: str, port: int) -> None:
    """Poll and/or serve webhooks and the board until `stop` is set."""
    pollers = [asyncio.create_task(poller(stop)) for poller in running.pollers]
    if running.routes:
        import uvicorn  # only a process that serves HTTP loads the server

        from bot.web import build_web_app

        server = uvicorn.Server(
            uvicorn.Config(
                build_web_app(running.routes, middleware=running.middleware),
                host=host,
                port=port,
                log_level="warning",
            )
        )
        serving = asyncio.create_task(server.serve())
        await stop.wait()
        server.should_exit = True
        await serving
    else:
        await stop.wait()
    for task in pollers:
        task.cancel()
    await asyncio.gather(*pollers, return_exceptions=True)


async def _shut_down(running: Running, workers: list[asyncio.Task[None]]) -> None:
    """Let updates being handled finish (for a while), then close the clients."""
    for inbox in running.inboxes:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(inbox.drain(), DRAIN_SECONDS)
    for worker in workers:
        worker.cancel()
    await asyncio.gather(*workers, return_exceptions=True)
    for close in running.closers:
        await close()


async def set_telegram_webhook(settings: Settings, url: str) -> None:
    """Register `url` (ending in /telegram/webhook) with Telegram, with the secret header."""
    from bot.channels import telegram  # aiogram: loaded only where Telegram is configured

    bot = telegram.make_bot(
        token=require_telegram_token(settings),
        api_base=settings.telegram_api_base,
        limiter=RateLimiter(configure(settings).telegram_limits),
    )
    try:
        await bot.set_webhook(
            url=url,
            secret_token=webhook_secret(settings),
            allowed_updates=telegram.ALLOWED_UPDATES,
        )
    finally:
        await bot.session.close()


async def set_zalo_webhook(settings: Settings, url: str) -> None:
    """Register `url` (ending in /zalo/webhook) with Zalo, with its secret token."""
    from bot.channels import zalo  # loaded only where Zalo is configured

    client = zalo.ZaloClient(token=require_zalo_token(settings), api_base=settings.zalo_api_base)
    try:
        await client.call(
            "setWebhook", {"url": url, "secret_token": zalo_webhook_secret(settings)}
        )
    finally:
        await client.close()


async def telegram_username(settings: Settings) -> str | None:
    """The bot's @username, from settings or asked of Telegram; None without a token."""
    from bot.channels import telegram  # aiogram: loaded only where Telegram is configured

    if settings.telegram_username:
        return settings.telegram_username.lstrip("@")
    if settings.telegram_token is None:
        return None
    bot: Bot = telegram.make_bot(
        token=require_telegram_token(settings),
        api_base=settings.telegram_api_base,
        limiter=RateLimiter(configure(settings).telegram_limits),
    )
    try:
        return (await bot.get_me()).username
    finally:
        await bot.session.close()
