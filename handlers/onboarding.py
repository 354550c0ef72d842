"""Linking a chat account to an officer with a one-time invite code (`/start CODE`)."""

from __future__ import annotations

import secrets
from dataclasses import replace
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from handlers import code_guard
from handlers.choices import main_menu
from handlers.context import Context
from handlers.general import not_linked
from models.accounts import link_account
from models.messages import Reply
from models.snapshots import Identified, OfficerSnapshot, UnitSnapshot, snapshot_of
from models.tables import Invite, Officer, Unit

# No 0/O, 1/I/L: codes are read off paper and typed on small keyboards.
INVITE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
INVITE_LENGTH = 8


def new_invite_code() -> str:
    return "".join(secrets.choice(INVITE_ALPHABET) for _ in range(INVITE_LENGTH))


def create_invite(
    session: Session, *, officer: Identified, now: datetime, ttl: timedelta
) -> Invite:
    """A fresh invite for `officer`, valid for `ttl`."""
    assert officer.id is not None
    while True:
        code = new_invite_code()
        if session.exec(select(Invite.id).where(Invite.code == code)).first() is None:
            break
    invite = Invite(code=code, officer_id=officer.id, created_at=now, expires_at=now + ttl)
    session.add(invite)
    session.flush()
    return invite


def start(ctx: Context, args: str = "") -> list[Reply]:
    """Link this account with the invite code in `args`, or greet it."""
    _ = ctx.t
    code = "".join(args.split()).upper()
    if not code:
        if ctx.officer is None:
            return [
                ctx.reply(
                    _("Welcome! I am the task-reporting assistant of the steering committee.")
                )
            ] + not_linked(ctx)
        return [ctx.reply(_("Hello {name}!", name=ctx.officer.full_name), main_menu(ctx))]
    refused = code_guard.refusal(ctx)
    if refused is not None:
        return [refused]
    invite = ctx.session.exec(select(Invite).where(col(Invite.code) == code)).first()
    if invite is None:
        code_guard.wrong_code(ctx, "invite")
        return [
            ctx.reply(
                _(
                    "The code {code} is not valid. Check it and try again, or ask the secretariat for a new one.",
                    code=code[:16],
                )
            )
        ]
    if invite.used_at is not None:
        if invite.used_by_account_id == ctx.account.id:
            return [ctx.reply(_("This chat is already linked with that code."), main_menu(ctx))]
        code_guard.wrong_code(ctx, "invite")
        return [
            ctx.reply(
                _(
                    "The code {code} has already been used. Ask the secretariat for a new one.",
                    code=code,
                )
            )
        ]
    if invite.expires_at <= ctx.now:
        code_guard.wrong_code(ctx, "invite")
        return [
            ctx.reply(
                _(
                    "The code {code} expired on {date}. Ask the secretariat for a new one.",
                    code=code,
                    date=ctx.t.date(invite.expires_at.astimezone(ctx.config.zone).date()),
                )
            )
        ]
    officer = ctx.session.get(Officer, invite.officer_id)
    if officer is None or not officer.active:
        code_guard.wrong_code(ctx, "invite")
        return [
            ctx.reply(
                _(
                    "The code {code} is not valid. Check it and try again, or ask the secretariat for a new one.",
                    code=code,
                )
            )
        ]
    invite.used_at = ctx.now
    invite.used_by_account_id = ctx.account.id
    ctx.session.add(invite)
    ctx.officer = snapshot_of(OfficerSnapshot, officer)
    link_account(ctx.session, account_id=ctx.account.id, officer_id=ctx.officer.id)
    ctx.account = replace(ctx.account, officer_id=ctx.officer.id)
    unit = ctx.session.get(Unit, officer.unit_id)
    ctx.unit = snapshot_of(UnitSnapshot, unit) if unit else None
    unit_name = unit.name if unit else ""
    return [
        ctx.reply(
            _(
                "Linked! Hello {name} ({unit}). You can now see and report your unit's tasks.",
                name=officer.full_name,
                unit=unit_name,
            ),
            main_menu(ctx),
        )
    ]
