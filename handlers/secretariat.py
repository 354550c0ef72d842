"""The secretariat's chat commands: `/digest` (`/tonghop`) and `/export` (`/xuatfile`)."""

from __future__ import annotations

from datetime import timedelta
from io import BytesIO

from sqlmodel import select

from handlers.context import Context
from models.enums import ChatKind, GroupPurpose, Role
from models.messages import Attachment, Reply
from models.queue import OutboxKind, last_sent
from models.tables import GroupBinding

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def digest(ctx: Context, args: str = "") -> list[Reply]:
    """The digest with its chart: the province's for the secretariat (or its group), a unit's
    for that unit's group and its own officers."""
    _ = ctx.t
    unit_id = _digest_scope(ctx)
    if unit_id is False:
        return [
            ctx.reply(
                _("Only the secretariat, or the unit's own officers, can ask for this digest.")
            )
        ]
    since = last_sent(
        ctx.session,
        kind=OutboxKind.DIGEST,
        channel=ctx.inbound.channel,
        chat_id=ctx.inbound.chat_id,
    ) or ctx.now - timedelta(days=7)
    from reminders.digest import build_digest  # its figures and collation: loaded when asked

    reply = build_digest(
        ctx.session, today=ctx.today, translator=ctx.t, since=since, unit_id=unit_id
    )
    return [reply]


def _digest_scope(ctx: Context) -> int | None | bool:
    """None: the whole province; a unit id; False: not allowed."""
    if ctx.inbound.chat_kind == ChatKind.GROUP:
        binding = ctx.session.exec(
            select(GroupBinding).where(
                GroupBinding.channel == ctx.inbound.channel,
                GroupBinding.chat_id == ctx.inbound.chat_id,
            )
        ).first()
        if binding is None:
            return False
        return None if binding.purpose == GroupPurpose.SECRETARIAT else binding.unit_id
    if ctx.has_role(Role.SECRETARIAT, Role.ADMIN):
        return None
    return ctx.unit_id if ctx.officer is not None else False


def export(ctx: Context, args: str = "") -> list[Reply]:
    """The progress spreadsheet, as a file in the chat (the secretariat's: see `handlers.commands`)."""
    # openpyxl is loaded by the first export, not by every bot process
    from reminders.spreadsheets.export import ExportContext, write_export

    _ = ctx.t
    buffer = BytesIO()
    context = ExportContext(
        translator=ctx.t,
        today=ctx.today,
        cut_off=ctx.now,
        exported_by=ctx.linked_officer.full_name,
    )
    count = write_export(ctx.session, buffer, context=context)
    name = f"tien-do-{ctx.today.isoformat()}.xlsx"
    attachment = Attachment(
        kind="document", file_name=name, content_type=XLSX, data=buffer.getvalue()
    )
    return [
        Reply(
            text=_("{count} rows: one per task and unit, with the latest report.", count=count),
            attachments=(attachment,),
            language=ctx.t.language,
        )
    ]
