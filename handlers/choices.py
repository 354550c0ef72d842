"""The data carried by buttons that start something, and the main menu built from them.

Buttons inside a guided flow carry the flow's token instead (see `handlers.flow`), so a button
from an old message is recognised as such.
"""

from __future__ import annotations

from handlers.context import Context
from models.messages import Choice

SHOW_TASKS = "go:tasks"
START_REPORT = "go:report"
START_CORRECTION = "go:fix"
SHOW_HELP = "go:help"
REPORT_ASSIGNMENT = "rep:"
CORRECT_ASSIGNMENT = "fix:"
SET_LANGUAGE = "lang:"
SNOOZE_REMINDER = "snooze:"  # on reminders (reminders.messages builds those buttons)


def main_menu(ctx: Context) -> list[Choice]:
    _ = ctx.t
    return [
        Choice(label=_("📋 My tasks"), data=SHOW_TASKS),
        Choice(label=_("📝 Report progress"), data=START_REPORT),
        Choice(label=_("✏️ Correct a report"), data=START_CORRECTION),
        Choice(label=_("❓ Help"), data=SHOW_HELP),
    ]
