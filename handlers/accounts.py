"""One officer, several messengers: a link code made from one chat for the other (`/lienket`),
and where reminders should go (`/kenh`)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from sqlmodel import col, select

from handlers.context import Context
from handlers.onboarding import create_invite
from models.messages import Choice, Reply
from models.officers import set_preferred_channel
from models.tables import ChannelAccount

LINK_CODE_TTL = timedelta(days=1)
SET_CHANNEL = "chan:"
CHANNEL_NAMES = {"telegram": "Telegram", "zalo": "Zalo", "console": "Terminal"}
AUTOMATIC = "auto"


def link_code(ctx: Context, args: str = "") -> list[Reply]:
    """A one-day code that links another messenger's account to this same officer."""
    _ = ctx.t
    invite = create_invite(ctx.session, officer=ctx.linked_officer, now=ctx.now, ttl=LINK_CODE_TTL)
    return [
        ctx.reply(
            _(
                "Link code: {code}\nFrom your other messenger (Zalo or Telegram), send /start {code} to this bot. The code works once, within a day.",
                code=invite.code,
            )
        )
    ]


def choose_channel(ctx: Context, args: str = "") -> list[Reply]:
    """Show or set the messenger reminders go to."""
    _ = ctx.t
    officer = ctx.linked_officer
    mine = sorted(
        set(
            ctx.session.exec(
                select(ChannelAccount.channel).where(col(ChannelAccount.officer_id) == officer.id)
            ).all()
        )
    )
    wanted = args.strip().lower()
    if wanted.startswith(SET_CHANNEL):
        wanted = wanted.removeprefix(SET_CHANNEL)
    if wanted == AUTOMATIC or (wanted in mine):
        preferred = None if wanted == AUTOMATIC else wanted
        set_preferred_channel(ctx.session, officer_id=officer.id, channel=preferred)
        ctx.officer = replace(officer, preferred_channel=preferred)
        if preferred is None:
            return [ctx.reply(_("Reminders will go to the messenger you used last."))]
        return [
            ctx.reply(
                _("Reminders will go to {channel}.", channel=CHANNEL_NAMES.get(wanted, wanted))
            )
        ]
    current = CHANNEL_NAMES.get(officer.preferred_channel or "", _("the messenger you used last"))
    choices = [Choice(label=CHANNEL_NAMES.get(c, c), data=f"{SET_CHANNEL}{c}") for c in mine]
    choices.append(Choice(label=_("The one I used last"), data=f"{SET_CHANNEL}{AUTOMATIC}"))
    text = _("Reminders now go to: {current}. Where should they go?", current=current)
    if len(mine) < 2:
        text += "\n" + _("To use Zalo and Telegram both, send /lienket here and follow the steps.")
    return [ctx.reply(text, choices)]
