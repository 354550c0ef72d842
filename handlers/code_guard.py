"""Invite and group codes are 8 characters: guessing them is stopped by counting wrong ones,
per chat account and across the bot, with a clear "wait N minutes"."""

from __future__ import annotations

import logging
import math
from datetime import datetime, timedelta

from handlers.context import Context
from models.attempts import record_wrong_code, wrong_codes_since
from models.messages import Reply

log = logging.getLogger(__name__)

WINDOW = timedelta(minutes=15)
PER_ACCOUNT = 5  # wrong codes one chat account may type in the window
OVERALL = 50  # wrong codes the whole bot takes in the window (many accounts guessing)


def _minutes_until(oldest: datetime, now: datetime) -> int:
    return max(1, math.ceil((oldest + WINDOW - now).total_seconds() / 60))


def refusal(ctx: Context) -> Reply | None:
    """A reply refusing any code for now, or None when codes may be tried."""
    since = ctx.now - WINDOW
    mine = wrong_codes_since(
        ctx.session, since=since, channel=ctx.inbound.channel, sender_id=ctx.inbound.sender_id
    )
    if len(mine) >= PER_ACCOUNT:
        minutes = _minutes_until(mine[-PER_ACCOUNT], ctx.now)
        return ctx.reply(
            ctx.t(
                "Too many wrong codes from this account. Please wait {minutes} minutes, then check the code with the secretariat.",
                minutes=minutes,
            )
        )
    everyone = wrong_codes_since(ctx.session, since=since)
    if len(everyone) >= OVERALL:
        minutes = _minutes_until(everyone[-OVERALL], ctx.now)
        return ctx.reply(
            ctx.t(
                "Too many wrong codes have been tried recently, so codes are not accepted for {minutes} minutes. Please try again later.",
                minutes=minutes,
            )
        )
    return None


def wrong_code(ctx: Context, kind: str) -> None:
    """Count a wrong `kind` ("invite", "group") code from this account, and log it."""
    record_wrong_code(
        ctx.session,
        channel=ctx.inbound.channel,
        sender_id=ctx.inbound.sender_id,
        chat_id=ctx.inbound.chat_id,
        kind=kind,
        at=ctx.now,
    )
    log.warning(
        "wrong %s code from %s account %s (chat %s)",
        kind,
        ctx.inbound.channel,
        ctx.inbound.sender_id,
        ctx.inbound.chat_id,
    )
