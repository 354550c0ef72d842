"""Turning an outbox row into the message it stands for, at send time."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session

from locales import Translator
from models.messages import Reply
from models.tables import Outbox
from reminders.calendar import WorkCalendar
from reminders.digest import build_digest, last_digest_time
from reminders.messages import render_notice

DIGEST_KINDS = ("digest",)


class OutboxRenderer:
    """Renders reminders in the recipient's language and digests in the province's."""

    def __init__(self, *, calendar: WorkCalendar, language: str) -> None:
        self.calendar = calendar
        self.language = language

    def __call__(self, session: Session, row: Outbox, now: datetime) -> Reply | None:
        if row.payload.get("kind") in DIGEST_KINDS:
            translator = Translator(self.language, self.calendar.zone)
            since = last_digest_time(
                session, channel=row.channel, chat_id=row.chat_id
            ) or now - timedelta(days=7)
            return build_digest(
                session,
                today=now.astimezone(self.calendar.zone).date(),
                translator=translator,
                since=since,
                unit_id=row.payload.get("unit_id"),
            )
        if row.payload.get("kind") == "zalo_quota":
            _ = Translator(self.language, self.calendar.zone)
            return Reply(
                text=_(
                    "⚠️ The Zalo bot has used up its message quota ({detail}). Reminders to Zalo wait and are retried; officers can still report on Telegram.",
                    detail=row.payload.get("description", ""),
                ),
                language=_.language,
            )
        return render_notice(session, row, now, calendar=self.calendar)
