"""Turning an outbox row into the message it stands for, at send time."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import assert_never

from sqlmodel import Session

from locales import Translator
from models.messages import Reply
from models.queue import (
    DigestPayload,
    EscalationPayload,
    OutboxKind,
    OverduePayload,
    QuotaPayload,
    ReminderPayload,
    ReplyPayload,
    SnoozePayload,
    last_sent,
    payload_of,
)
from models.tables import Outbox
from reminders.calendar import WorkCalendar
from reminders.messages import render_notice


class OutboxRenderer:
    """Renders reminders in the recipient's language, group messages in the province's."""

    def __init__(self, *, calendar: WorkCalendar, language: str) -> None:
        self.calendar = calendar
        self.language = language

    def __call__(self, session: Session, row: Outbox, now: datetime) -> Reply | None:
        payload = payload_of(row)
        match payload:
            case None:
                return None
            case ReplyPayload():
                return payload.reply
            case ReminderPayload() | OverduePayload() | EscalationPayload() | SnoozePayload():
                return render_notice(
                    session, payload, row_id=row.id, now=now, calendar=self.calendar
                )
            case DigestPayload():
                since = last_sent(
                    session, kind=OutboxKind.DIGEST, channel=row.channel, chat_id=row.chat_id
                ) or now - timedelta(days=7)
                from reminders.digest import build_digest  # loaded by the first digest

                return build_digest(
                    session,
                    today=now.astimezone(self.calendar.zone).date(),
                    translator=self._group_language(),
                    since=since,
                    unit_id=payload.unit_id,
                )
            case QuotaPayload():
                _ = self._group_language()
                return Reply(
                    text=_(
                        "⚠️ The {messenger} bot has used up its message quota ({detail}). Messages to {messenger} wait and are retried; officers can still report on the other messenger.",
                        messenger=payload.exhausted.capitalize(),
                        detail=payload.description,
                    ),
                    language=_.language,
                )
            case _:
                assert_never(payload)

    def _group_language(self) -> Translator:
        return Translator(self.language, self.calendar.zone)
