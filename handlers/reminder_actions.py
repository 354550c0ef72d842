"""The buttons on a reminder: snooze it to the next working morning (reporting goes straight into
the guided report, see `handlers.dispatch`)."""

from __future__ import annotations

from handlers.context import Context
from handlers.text import row_id
from models.messages import Reply
from models.queue import AssignmentNotice, payload_of
from models.tables import Outbox
from reminders.planning import snooze_reminder


def snooze(ctx: Context, raw_id: str) -> list[Reply]:
    """Remind this account again on the next working morning; only its own reminders."""
    _ = ctx.t
    outbox_id = row_id(raw_id)
    row = ctx.session.get(Outbox, outbox_id) if outbox_id is not None else None
    reminder = payload_of(row) if row is not None else None
    if (
        row is None
        or not isinstance(reminder, AssignmentNotice)
        or not reminder.kind.snoozable
        or reminder.account_id != ctx.account.id
    ):
        return [ctx.reply(_("That reminder is not one of yours."))]
    again = snooze_reminder(
        ctx.session, row=row, reminder=reminder, now=ctx.now, calendar=ctx.config.calendar
    )
    return [
        ctx.reply(
            _("All right, I will remind you again at {time}.", time=_.datetime(again.due_at))
        )
    ]
