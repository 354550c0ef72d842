"""`python -m bot run`: the Telegram bot, by long polling (default) or behind a webhook."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from datetime import timedelta

import uvicorn
from aiogram import Bot

from bot.app import App
from bot.channels.delivery import ChannelSender
from bot.channels.rate_limit import RateLimiter, RateLimits
from bot.channels.telegram import (
    ALLOWED_UPDATES,
    CHANNEL,
    TelegramChannel,
    chat_of_update,
    make_bot,
    poll,
)
from bot.inbox import Inbox
from bot.settings import Settings, SettingsError, require_telegram_token
from bot.web import build_web_app, telegram_webhook
from reminders.outbox import OutboxSender
from reminders.planning import Planner, ReminderPolicy
from reminders.render import OutboxRenderer
from reminders.scheduler import ReminderService, Schedule, build_scheduler

log = logging.getLogger(__name__)
DRAIN_SECONDS = 10.0


def reminder_service(app: App, sender: ChannelSender) -> ReminderService:
    """Planner and outbox sender, from the settings."""
    settings = app.settings
    grace = timedelta(minutes=settings.reminder_grace_minutes)
    planner = Planner(
        calendar=app.config.calendar,
        policy=ReminderPolicy(
            days_before=tuple(settings.reminder_days_before),
            overdue_nudges=settings.overdue_nudges,
            grace=grace,
        ),
    )
    outbox = OutboxSender(
        open_session=app.open_session,
        sender=sender,
        grace=grace,
        render=OutboxRenderer(calendar=app.config.calendar, language=settings.locale),
    )
    return ReminderService(open_session=app.open_session, planner=planner, outbox=outbox)


def rate_limits(settings: Settings) -> RateLimits:
    return RateLimits(
        per_chat_interval=settings.telegram_per_chat_interval,
        group_per_minute=settings.telegram_group_per_minute,
        global_per_second=settings.telegram_global_per_second,
    )


def webhook_secret(settings: Settings) -> str:
    if settings.webhook_secret is None:
        raise SettingsError(
            "BOT_WEBHOOK_SECRET: required in webhook mode (any long random string of letters, digits, _ or -)"
        )
    return settings.webhook_secret.get_secret_value()


async def run_telegram(app: App, *, webhook: bool, host: str, port: int) -> None:
    """Serve Telegram until SIGINT/SIGTERM; updates go through the inbox either way."""
    settings = app.settings
    token = require_telegram_token(settings)
    secret = webhook_secret(settings) if webhook else ""
    bot = make_bot(
        token=token,
        api_base=settings.telegram_api_base,
        limiter=RateLimiter(rate_limits(settings)),
        request_timeout=settings.telegram_request_timeout,
    )
    channel = TelegramChannel(
        bot=bot,
        open_session=app.open_session,
        config=app.config,
        typing_after=settings.telegram_typing_after,
    )
    inbox = Inbox(
        channel=CHANNEL,
        open_session=app.open_session,
        process=channel.process,
        chat_of=chat_of_update,
    )
    worker = asyncio.create_task(inbox.run())
    scheduler = build_scheduler(
        reminder_service(app, ChannelSender({CHANNEL: channel})),
        schedule=Schedule(
            interval_seconds=settings.reminder_interval_seconds,
            digest_days=settings.digest_days,
            digest_time=settings.digest_time,
        ),
        zone=settings.zone,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        # uvicorn re-raises the signal it stopped on once it is done: this handler takes it, so
        # the clean-up below still runs and the process exits 0.
        loop.add_signal_handler(sig, stop.set)
    try:
        me = await bot.get_me()
        log.info(
            "Telegram bot @%s starting (%s)", me.username, "webhook" if webhook else "long polling"
        )
        await channel.register_commands()
        if settings.scheduler_enabled:
            scheduler.start()
        if webhook:
            web = build_web_app([telegram_webhook(inbox, secret)])
            server = uvicorn.Server(uvicorn.Config(web, host=host, port=port, log_level="warning"))
            await server.serve()
        else:
            await bot.delete_webhook(drop_pending_updates=False)
            await _poll_until(stop, bot, inbox, settings.telegram_polling_timeout)
    finally:
        if scheduler.running:
            scheduler.shutdown(wait=False)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(inbox.drain(), DRAIN_SECONDS)
        worker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await worker
        await bot.session.close()
        log.info("Telegram bot stopped")


async def _poll_until(stop: asyncio.Event, bot: Bot, inbox: Inbox, polling_timeout: int) -> None:
    poller = asyncio.create_task(poll(bot, inbox, polling_timeout=polling_timeout, stop=stop))
    await stop.wait()
    poller.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await poller


async def set_telegram_webhook(settings: Settings, url: str) -> None:
    """Register `url` (ending in /telegram/webhook) with Telegram, with the secret header."""
    bot = make_bot(
        token=require_telegram_token(settings),
        api_base=settings.telegram_api_base,
        limiter=RateLimiter(rate_limits(settings)),
    )
    try:
        await bot.set_webhook(
            url=url, secret_token=webhook_secret(settings), allowed_updates=ALLOWED_UPDATES
        )
    finally:
        await bot.session.close()


async def telegram_username(settings: Settings) -> str | None:
    """The bot's @username, from settings or asked of Telegram; None without a token."""
    if settings.telegram_username:
        return settings.telegram_username.lstrip("@")
    if settings.telegram_token is None:
        return None
    bot = make_bot(
        token=require_telegram_token(settings),
        api_base=settings.telegram_api_base,
        limiter=RateLimiter(rate_limits(settings)),
    )
    try:
        return (await bot.get_me()).username
    finally:
        await bot.session.close()
