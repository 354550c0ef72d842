"""The one entry point of every channel: an `Inbound` in, the replies out.

Routing, in order: a delivery seen before is dropped; commands (which interrupt any flow, except
the navigation commands of the flow itself); buttons that start something; the answer to the
current step of a guided flow; anything else gets help.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from sqlmodel import Session

from handlers import (
    accounts,
    correction,
    general,
    groups,
    onboarding,
    quick_report,
    reminder_actions,
    report,
    secretariat,
    tasks,
)
from handlers.choices import (
    CORRECT_ASSIGNMENT,
    REPORT_ASSIGNMENT,
    SET_LANGUAGE,
    SHOW_HELP,
    SHOW_TASKS,
    SNOOZE_REMINDER,
    START_CORRECTION,
    START_REPORT,
    main_menu,
)
from handlers.context import Context, HandlerConfig
from handlers.text import Command, clean_text, parse_command
from models.accounts import account_for
from models.assignments import assignment_of_unit
from models.conversations import conversation_for, end_conversation
from models.db import SessionFactory, transaction
from models.enums import ChatKind
from models.messages import Inbound, Reply
from models.queue import record_delivery
from models.tables import Conversation, Officer, Unit

CommandHandler = Callable[[Context, str], list[Reply]]
CONVERSATION_TTL = timedelta(days=7)


def _cancel(ctx: Context, args: str = "") -> list[Reply]:
    assert ctx.account.id is not None
    conversation = conversation_for(
        ctx.session,
        channel=ctx.inbound.channel,
        chat_id=ctx.inbound.chat_id,
        account_id=ctx.account.id,
    )
    if conversation is None:
        return general.nothing_to_cancel(ctx)
    return report.cancel(ctx, conversation)


# Commands anyone may use, linked or not.
OPEN_COMMANDS: dict[str, CommandHandler] = {
    "start": onboarding.start,
    "help": general.show_help,
    "trogiup": general.show_help,
    "lang": general.set_language,
    "ngonngu": general.set_language,
    "cancel": _cancel,
    "huy": _cancel,
    "bind": groups.bind,
    "ketnoi": groups.bind,
}

# Commands for an account linked to an officer.
OFFICER_COMMANDS: dict[str, CommandHandler] = {
    "tasks": tasks.list_tasks,
    "nhiemvu": tasks.list_tasks,
    "report": quick_report.report_command,
    "baocao": quick_report.report_command,
    "fix": correction.correct_command,
    "sua": correction.correct_command,
    "groupcode": groups.group_code,
    "manhom": groups.group_code,
    "linkcode": accounts.link_code,
    "lienket": accounts.link_code,
    "channel": accounts.choose_channel,
    "kenh": accounts.choose_channel,
    "digest": secretariat.digest,
    "tonghop": secretariat.digest,
    "export": secretariat.export,
    "xuatfile": secretariat.export,
}

# What the bot answers in a group chat; every other command points to the private chat.
GROUP_COMMANDS: dict[str, CommandHandler] = {
    "bind": groups.bind,
    "ketnoi": groups.bind,
    "help": general.show_help,
    "trogiup": general.show_help,
    "digest": secretariat.digest,
    "tonghop": secretariat.digest,
}


def handle(
    inbound: Inbound, *, open_session: SessionFactory, config: HandlerConfig
) -> list[Reply]:
    """Handle one delivery in one transaction: all of its effects are stored, or none."""
    with transaction(open_session) as session:
        if not record_delivery(
            session,
            channel=inbound.channel,
            delivery_id=inbound.delivery_id,
            at=inbound.received_at,
        ):
            return []
        return route(_context(session, inbound, config))


def _context(session: Session, inbound: Inbound, config: HandlerConfig) -> Context:
    account = account_for(
        session,
        channel=inbound.channel,
        external_id=inbound.sender_id,
        display_name=inbound.sender_name,
        at=inbound.received_at,
        language=config.default_language,
    )
    officer = session.get(Officer, account.officer_id) if account.officer_id else None
    if officer is not None and not officer.active:
        officer = None
    unit = session.get(Unit, officer.unit_id) if officer else None
    return Context(
        session=session,
        inbound=inbound,
        account=account,
        officer=officer,
        unit=unit,
        config=config,
    )


def route(ctx: Context) -> list[Reply]:
    """Decide who answers this delivery."""
    inbound = ctx.inbound
    command = parse_command(inbound.text) if inbound.choice is None else None
    if inbound.chat_kind == ChatKind.GROUP and command is None:
        return []  # ordinary group chatter is not for the bot
    assert ctx.account.id is not None
    conversation = conversation_for(
        ctx.session,
        channel=inbound.channel,
        chat_id=inbound.chat_id,
        account_id=ctx.account.id,
        lock=True,
    )
    if conversation is not None and conversation.updated_at < ctx.now - CONVERSATION_TTL:
        # A report left half-done for a week is set aside, not continued by a stray message.
        left_on = ctx.t.date(conversation.updated_at.astimezone(ctx.config.zone).date())
        end_conversation(ctx.session, conversation)
        notice = ctx.reply(
            ctx.t(
                "Your unfinished report of {date} was set aside (nothing was saved).", date=left_on
            )
        )
        return [notice, *route(ctx)]
    if command is not None:
        return _route_command(ctx, command, conversation)
    if inbound.choice is not None and inbound.choice.startswith(SET_LANGUAGE):
        return general.set_language(ctx, inbound.choice.removeprefix(SET_LANGUAGE))
    if ctx.officer is None:
        return general.not_linked(ctx)
    if inbound.choice is not None:
        started = _start_from_button(ctx, inbound.choice)
        if started is not None:
            return started
    if conversation is not None:
        return _continue(ctx, conversation, choice=inbound.choice)
    return _outside_any_flow(ctx)


def _route_command(
    ctx: Context, command: Command, conversation: Conversation | None
) -> list[Reply]:
    """Commands interrupt a flow, except the flow's own Back/Skip/Cancel."""
    if ctx.inbound.chat_kind == ChatKind.GROUP:
        return GROUP_COMMANDS.get(command.name, groups.private_only)(ctx, command.args)
    if conversation is not None and command.name in report.NAVIGATION_COMMANDS:
        choice = f"{conversation.token}:{report.NAVIGATION_COMMANDS[command.name]}"
        return _continue(ctx, conversation, choice=choice)
    if command.name in OPEN_COMMANDS:
        return OPEN_COMMANDS[command.name](ctx, command.args)
    if command.name in OFFICER_COMMANDS:
        if ctx.officer is None:
            return general.not_linked(ctx)
        return OFFICER_COMMANDS[command.name](ctx, command.args)
    return general.not_understood(ctx)


def _outside_any_flow(ctx: Context) -> list[Reply]:
    """A button, a file or text when no flow is waiting for an answer."""
    _ = ctx.t
    if ctx.inbound.choice is not None:
        stale = ctx.reply(_("That button belongs to an earlier message that is no longer active."))
        return [stale, *general.show_help(ctx)]
    if ctx.inbound.attachments:
        return [
            ctx.reply(
                _(
                    "Photos and documents go with a report: send /baocao, then attach them at any step."
                ),
                main_menu(ctx),
            )
        ]
    return general.not_understood(ctx)


def _continue(ctx: Context, conversation: Conversation, *, choice: str | None) -> list[Reply]:
    return report.resume(
        ctx,
        conversation,
        text=clean_text(ctx.inbound.text),
        choice=choice,
        attachments=ctx.inbound.attachments,
    )


def _start_from_button(ctx: Context, data: str) -> list[Reply] | None:
    """Buttons that start something; None if `data` is not one of them."""
    simple: dict[str, CommandHandler] = {
        SHOW_TASKS: tasks.list_tasks,
        START_REPORT: quick_report.report_command,
        START_CORRECTION: correction.correct_command,
        SHOW_HELP: general.show_help,
    }
    if data in simple:
        return simple[data](ctx, "")
    if data.startswith(accounts.SET_CHANNEL):
        return accounts.choose_channel(ctx, data)
    if data.startswith(SNOOZE_REMINDER):
        return reminder_actions.snooze(ctx, data.removeprefix(SNOOZE_REMINDER))
    for prefix in (REPORT_ASSIGNMENT, CORRECT_ASSIGNMENT):
        if data.startswith(prefix):
            return _start_for_assignment(ctx, prefix, data.removeprefix(prefix))
    return None


def _start_for_assignment(ctx: Context, prefix: str, raw_id: str) -> list[Reply]:
    # The id in the button is only a hint: the permission rule is checked against the database.
    view = (
        assignment_of_unit(ctx.session, unit_id=ctx.unit_id, assignment_id=int(raw_id))
        if raw_id.isdigit()
        else None
    )
    if view is None:
        return [ctx.reply(ctx.t("That task is not one of {unit}'s tasks.", unit=ctx.unit_name))]
    if prefix == CORRECT_ASSIGNMENT:
        return correction.correct_assignment(ctx, view)
    return report.begin(ctx, view=view)
