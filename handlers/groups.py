"""Group chats: binding a secretariat or unit group with a code (`/bind CODE`), and the short
answer for private-only commands asked in a group."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from handlers import code_guard
from handlers.context import Context
from handlers.onboarding import new_invite_code
from models.accounts import messengers_without_groups
from models.enums import ChatKind, GroupPurpose
from models.messages import Reply
from models.provinces import UnitDirectory
from models.tables import BindCode, GroupBinding, Unit

BIND_CODE_TTL = timedelta(days=7)


def create_bind_code(
    session: Session, *, purpose: GroupPurpose, unit: Unit | None, now: datetime
) -> BindCode:
    """A one-time code that binds the group it is sent in to the secretariat or to `unit`."""
    while True:
        code = new_invite_code()
        if session.exec(select(BindCode.id).where(BindCode.code == code)).first() is None:
            break
    bind_code = BindCode(
        code=code,
        purpose=purpose,
        unit_id=unit.id if unit else None,
        created_at=now,
        expires_at=now + BIND_CODE_TTL,
    )
    session.add(bind_code)
    session.flush()
    return bind_code


def group_code(ctx: Context, args: str = "") -> list[Reply]:
    """`/groupcode [UNIT]` (secretariat): a code to bind the secretariat's group, or a unit's."""
    _ = ctx.t
    unit = None
    if args.strip():
        found = UnitDirectory(ctx.session.exec(select(Unit)).all()).find(args)
        if len(found) != 1:
            return [ctx.reply(_("No unit is called “{name}”.", name=args.strip()[:64]))]
        unit = found[0]
    purpose = GroupPurpose.UNIT if unit else GroupPurpose.SECRETARIAT
    code = create_bind_code(ctx.session, purpose=purpose, unit=unit, now=ctx.now).code
    target = unit.name if unit else _("the secretariat")
    text = _(
        "Group code for {target}: {code}\nAdd me to the group, then send /bind {code} there. The code works once, for 7 days.",
        target=target,
        code=code,
    )
    if ctx.inbound.channel in messengers_without_groups(ctx.session):
        text += "\n\n" + _no_group_digests(ctx)
    return [ctx.reply(text)]


def _no_group_digests(ctx: Context) -> str:
    return ctx.t(
        "Note: on {messenger} this bot cannot be in group chats, so no digest goes to a {messenger} group. Bind a group on the other messenger (Telegram); meanwhile each unit's digest goes to its lead in a private chat.",
        messenger=ctx.inbound.channel.capitalize(),
    )


def bind(ctx: Context, args: str = "") -> list[Reply]:
    """`/bind CODE` in a group: from now on the group belongs to the secretariat or a unit."""
    _ = ctx.t
    if ctx.inbound.chat_kind != ChatKind.GROUP:
        return [ctx.reply(_("Send /bind CODE in the group chat you want to bind, not here."))]
    code = "".join(args.split()).upper()
    refused = code_guard.refusal(ctx)
    if refused is not None:
        return [refused]
    bind_code = (
        ctx.session.exec(select(BindCode).where(col(BindCode.code) == code)).first()
        if code
        else None
    )
    if bind_code is None or bind_code.used_at is not None or bind_code.expires_at <= ctx.now:
        code_guard.wrong_code(ctx, "group")
        return [
            ctx.reply(
                _(
                    "That group code is not valid (it may be used or expired). Ask the secretariat for a new one."
                )
            )
        ]
    binding = ctx.session.exec(
        select(GroupBinding).where(
            GroupBinding.channel == ctx.inbound.channel,
            GroupBinding.chat_id == ctx.inbound.chat_id,
        )
    ).first() or GroupBinding(
        channel=ctx.inbound.channel, chat_id=ctx.inbound.chat_id, purpose=bind_code.purpose
    )
    binding.purpose, binding.unit_id = bind_code.purpose, bind_code.unit_id
    binding.bound_by_account_id, binding.bound_at = ctx.account.id, ctx.now
    bind_code.used_at = ctx.now
    ctx.session.add_all([binding, bind_code])
    if ctx.inbound.channel in messengers_without_groups(ctx.session):
        return [ctx.reply(_no_group_digests(ctx))]
    if bind_code.unit_id is not None:
        unit = ctx.session.get(Unit, bind_code.unit_id)
        return [
            ctx.reply(
                _(
                    "Done: this is now the group of {unit}. Its digests will be posted here.",
                    unit=unit.name if unit else "",
                )
            )
        ]
    return [
        ctx.reply(_("Done: this is now the secretariat's group. Digests will be posted here."))
    ]


def private_only(ctx: Context, args: str = "") -> list[Reply]:
    """Point a private command asked in a group to the private chat."""
    return [
        ctx.reply(
            ctx.t(
                "Please send this to me in a private chat: tap my name, then “Send message”. In groups I only answer /bind and /help."
            )
        )
    ]
