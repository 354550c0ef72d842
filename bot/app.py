"""Wiring, in one place: settings → every part's configuration → engine and sessions.

`configure` is the only place a setting becomes a configuration object: the conversations', the
reminders', the scheduler's and the messengers' sending limits. None of those objects has
defaults of its own, so a setting cannot be forgotten on one path and honoured on another.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Engine

from bot.channels.rate_limit import RateLimits
from bot.settings import Settings
from handlers.context import HandlerConfig
from locales import Translator
from models.db import (
    SessionFactory,
    check_connection,
    database_threads,
    make_engine,
    migrate,
    session_factory,
)
from reminders.calendar import WorkCalendar
from reminders.planning import ReminderPolicy
from reminders.scheduler import Schedule


@dataclass(frozen=True)
class Configuration:
    """What each part needs from the settings."""

    calendar: WorkCalendar
    handlers: HandlerConfig
    reminders: ReminderPolicy
    schedule: Schedule
    telegram_limits: RateLimits
    zalo_limits: RateLimits


def configure(settings: Settings) -> Configuration:
    """Every configuration object, from the settings."""
    calendar = WorkCalendar(
        settings.zone,
        morning=settings.workday_start,
        closing=settings.workday_end,
        extra_days_off=settings.extra_days_off,
        working_saturdays=settings.working_saturdays,
    )
    return Configuration(
        calendar=calendar,
        handlers=HandlerConfig(
            calendar=calendar,
            default_language=settings.locale,
            invite_ttl=timedelta(days=settings.invite_ttl_days),
            evidence_max_bytes=settings.evidence_max_bytes,
            reply_hold=timedelta(seconds=settings.reply_hold_seconds),
            web_base_url=settings.public_base_url,
        ),
        reminders=ReminderPolicy(
            days_before=tuple(settings.reminder_days_before),
            overdue_nudges=settings.overdue_nudges,
            grace=timedelta(minutes=settings.reminder_grace_minutes),
        ),
        schedule=Schedule(
            interval_seconds=settings.reminder_interval_seconds,
            digest_days=settings.digest_days,
            digest_time=settings.digest_time,
        ),
        telegram_limits=RateLimits(
            per_chat_interval=settings.telegram_per_chat_interval,
            group_per_minute=settings.telegram_group_per_minute,
            global_per_second=settings.telegram_global_per_second,
        ),
        zalo_limits=RateLimits(
            per_chat_interval=settings.zalo_per_chat_interval,
            group_per_minute=settings.zalo_group_per_minute,
            global_per_second=settings.zalo_global_per_second,
        ),
    )


@dataclass(frozen=True)
class App:
    settings: Settings
    config: Configuration
    engine: Engine
    open_session: SessionFactory

    @property
    def translator(self) -> Translator:
        return Translator(self.settings.locale, self.settings.zone)

    @property
    def worker_threads(self) -> int:
        """How many threads do the process's blocking work (its database work, above all):
        as many as the database's pool has connections (`database_threads`)."""
        return database_threads(self.engine.dialect.name)


def build_app(settings: Settings, *, migrate_schema: bool = True) -> App:
    """Connect to the database (creating or upgrading its schema) and assemble the parts."""
    engine = make_engine(settings.database_url)
    check_connection(engine)
    if migrate_schema:
        migrate(engine)
    return App(
        settings=settings,
        config=configure(settings),
        engine=engine,
        open_session=session_factory(engine),
    )
