"""Wiring, in one place: settings → engine and sessions → the conversations' configuration."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Engine

from bot.settings import Settings
from handlers.context import HandlerConfig
from locales import Translator
from models.db import SessionFactory, make_engine, migrate, session_factory
from reminders.calendar import WorkCalendar


@dataclass(frozen=True)
class App:
    settings: Settings
    engine: Engine
    open_session: SessionFactory
    config: HandlerConfig

    @property
    def translator(self) -> Translator:
        return Translator(self.settings.locale, self.settings.zone)


def build_app(settings: Settings, *, migrate_schema: bool = True) -> App:
    """Connect to the database (creating or upgrading its schema) and assemble the parts."""
    engine = make_engine(settings.database_url)
    if migrate_schema:
        migrate(engine)
    calendar = WorkCalendar(
        settings.zone,
        morning=settings.workday_start,
        closing=settings.workday_end,
        extra_days_off=settings.extra_days_off,
        working_saturdays=settings.working_saturdays,
    )
    config = HandlerConfig(
        calendar=calendar,
        zone=settings.zone,
        default_language=settings.locale,
        invite_ttl=timedelta(days=settings.invite_ttl_days),
        evidence_max_bytes=settings.evidence_max_bytes,
    )
    return App(
        settings=settings, engine=engine, open_session=session_factory(engine), config=config
    )
