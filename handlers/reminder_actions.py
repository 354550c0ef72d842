"""The buttons on a reminder: snooze it to the next working morning (reporting goes straight into
the guided report, see `handlers.dispatch`)."""

from __future__ import annotations

from handlers.context import Context
from models.messages import Reply
from models.tables import Outbox
from reminders.planning import SNOOZABLE, snooze_reminder


def snooze(ctx: Context, raw_id: str) -> list[Reply]:
    """Remind this account again on the next working morning; only its own reminders."""
    _ = ctx.t
    row = ctx.session.get(Outbox, int(raw_id)) if raw_id.isdigit() else None
    if (
        row is None
        or row.payload.get("account_id") != ctx.account.id
        or row.payload.get("kind") not in SNOOZABLE
    ):
        return [ctx.reply(_("That reminder is not one of yours."))]
    again = snooze_reminder(ctx.session, row=row, now=ctx.now, calendar=ctx.config.calendar)
    return [
        ctx.reply(
            _("All right, I will remind you again at {time}.", time=_.datetime(again.due_at))
        )
    ]
