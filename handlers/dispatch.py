"""The one entry point of every channel: an `Inbound` in, the replies out.

Routing, in order: a delivery seen before is dropped; commands (declared in `handlers.commands`;
they interrupt any flow, except the navigation commands of the flow itself); buttons that start
something (declared below); the answer to the current step of a guided flow (`handlers.flows`);
anything else gets help.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlmodel import Session

from handlers import accounts, correction, general, groups, reminder_actions, report
from handlers.choices import (
    CORRECT_ASSIGNMENT,
    REPORT_ASSIGNMENT,
    SET_LANGUAGE,
    SNOOZE_REMINDER,
    main_menu,
)
from handlers.commands import BY_BUTTON, BY_NAME, Command, not_understood, show_help
from handlers.context import Context, HandlerConfig
from handlers.flow import navigation_choice
from handlers.flows import flow_of
from handlers.text import ParsedCommand, parse_command, row_id
from locales import N_
from locales.text import clean_text
from models.accounts import sender_for, sender_reading
from models.assignments import AssignmentView, assignment_of_unit
from models.conversations import ConversationState, last_menu
from models.db import SessionFactory, transaction
from models.enums import ChatKind
from models.messages import Choice, Inbound, Reply
from models.prepared import begin_with
from models.queue import OutboxMessage, delivery_taking, queue_replies, take_delivery

CONVERSATION_TTL = timedelta(days=7)
ButtonHandler = Callable[[Context, str], list[Reply]]


def _report_assignment(ctx: Context, raw_id: str) -> list[Reply]:
    view = _own_assignment(ctx, raw_id)
    return report.begin(ctx, view=view) if view else _not_own_task(ctx)


def _correct_assignment(ctx: Context, raw_id: str) -> list[Reply]:
    view = _own_assignment(ctx, raw_id)
    return correction.correct_assignment(ctx, view) if view else _not_own_task(ctx)


# Buttons that start something, by the prefix of their data; the rest of the data is only a
# hint (an id), checked against the database by the handler.
BUTTONS: dict[str, ButtonHandler] = {
    REPORT_ASSIGNMENT: _report_assignment,
    CORRECT_ASSIGNMENT: _correct_assignment,
    SNOOZE_REMINDER: reminder_actions.snooze,
    accounts.SET_CHANNEL: accounts.choose_channel,
}


def handle(
    inbound: Inbound, *, open_session: SessionFactory, config: HandlerConfig
) -> list[Reply]:
    """Handle one delivery in one transaction: all of its effects are stored, or none."""
    with transaction(open_session) as session:
        return _replies_to(session, inbound, config)


def handle_queued(
    inbound: Inbound, *, open_session: SessionFactory, config: HandlerConfig
) -> list[OutboxMessage]:
    """Handle one delivery and store its replies as outbox rows in the same transaction: a
    crash after the change is committed delays the answer, never loses it. The inbox row of
    the update (if it came through the inbox) is marked handled in that transaction too.
    Returns the replies, which this process holds for a while to send them at once. The last
    reply's row goes to the database with the COMMIT (on PostgreSQL one round trip for both)."""
    with transaction(open_session) as session:
        return queue_replies(
            session,
            channel=inbound.channel,
            chat_id=inbound.chat_id,
            delivery=inbound.delivery_id,
            replies=_replies_to(session, inbound, config),
            answers_message=inbound.answers_message,
            now=datetime.now(UTC),
            held_for=config.reply_hold,
            commits=True,
        )


def _replies_to(session: Session, inbound: Inbound, config: HandlerConfig) -> list[Reply]:
    """The delivery's effects, in `session`, and its replies; none for a delivery seen before.

    The transaction begins with the delivery taken and its sender read (on PostgreSQL one
    round trip for both and the BEGIN, `models.prepared.begin_with`)."""
    channel, chat_id, delivery_id = inbound.channel, inbound.chat_id, inbound.delivery_id
    taken_at = datetime.now(UTC)
    begin_with(
        session.connection(),
        [
            delivery_taking(
                session, channel=channel, delivery_id=delivery_id, chat_id=chat_id, at=taken_at
            ),
            sender_reading(channel=channel, external_id=inbound.sender_id, chat_id=chat_id),
        ],
    )
    if not take_delivery(
        session,
        channel=channel,
        delivery_id=delivery_id,
        chat_id=chat_id,
        received_at=inbound.received_at,
        at=taken_at,
    ):
        return []
    return route(_context(session, inbound, config))


def _context(session: Session, inbound: Inbound, config: HandlerConfig) -> Context:
    sender = sender_for(
        session,
        channel=inbound.channel,
        external_id=inbound.sender_id,
        chat_id=inbound.chat_id,
        display_name=inbound.sender_name,
        at=inbound.received_at,
        language=config.default_language,
    )
    return Context(
        session=session,
        inbound=inbound,
        account=sender.account,
        officer=sender.officer,
        unit=sender.unit,
        config=config,
        current_conversation=sender.conversation,
    )


def route(ctx: Context) -> list[Reply]:
    """Decide who answers this delivery."""
    inbound = ctx.inbound
    command = parse_command(inbound.text) if inbound.choice is None else None
    if inbound.chat_kind == ChatKind.GROUP and command is None:
        return []  # ordinary group chatter is not for the bot
    conversation = ctx.conversation()
    if conversation is not None and conversation.updated_at < ctx.now - CONVERSATION_TTL:
        # A report left half-done for a week is set aside, not continued by a stray message.
        left_on = ctx.t.date(conversation.updated_at.astimezone(ctx.config.zone).date())
        ctx.end_conversation(conversation)
        notice = ctx.reply(
            ctx.t(
                "Your unfinished report of {date} was set aside (nothing was saved).", date=left_on
            )
        )
        return [notice, *route(ctx)]
    if command is not None:
        return _route_command(ctx, command, conversation)
    if inbound.wrong_number:
        return _wrong_number(ctx, conversation)
    if inbound.unreadable is not None:
        return _unreadable(ctx, conversation)
    if inbound.choice is not None and inbound.choice.startswith(SET_LANGUAGE):
        return general.set_language(ctx, inbound.choice.removeprefix(SET_LANGUAGE))  # unlinked too
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
    ctx: Context, parsed: ParsedCommand, conversation: ConversationState | None
) -> list[Reply]:
    """Commands interrupt a flow, except the flow's own Back/Skip/Cancel."""
    command = BY_NAME.get(parsed.name)
    if ctx.inbound.chat_kind == ChatKind.GROUP:
        if command is None or ChatKind.GROUP not in command.where:
            return groups.private_only(ctx)
        return _run(ctx, command, parsed.args)
    if conversation is not None and (choice := navigation_choice(conversation, parsed.name)):
        return _continue(ctx, conversation, choice=choice)
    if command is None:
        return not_understood(ctx)
    if command.linked and ctx.officer is None:
        return general.not_linked(ctx)
    return _run(ctx, command, parsed.args)


def _run(ctx: Context, command: Command, args: str) -> list[Reply]:
    """Run a command the person may use; the role is checked against the database."""
    if not command.allowed_for(ctx):
        return [
            ctx.reply(
                ctx.t(
                    "Only the secretariat can use /{command}.",
                    command=command.name_in(ctx.t.language),
                )
            )
        ]
    return command.handler(ctx, args)


def _wrong_number(ctx: Context, conversation: ConversationState | None) -> list[Reply]:
    """A number that picks no option: say so, and show the same menu again."""
    menu = last_menu(ctx.session, channel=ctx.inbound.channel, chat_id=ctx.inbound.chat_id)
    size = len(menu.choices) if menu else 0
    notice = ctx.reply(
        ctx.t(
            "There is no option {number} here: reply with a number from 1 to {last}.",
            number=ctx.inbound.text.strip()[:4],
            last=size,
        )
    )
    flow = flow_of(conversation) if conversation is not None else None
    if conversation is not None and flow is not None and ctx.officer is not None:
        return [notice, *flow.ask_again(ctx, conversation)]
    if menu is None or not menu.choices:
        return [notice]
    choices = tuple(
        Choice(label=label, data=data)
        for label, data in zip(menu.labels, menu.choices, strict=False)
    )
    # The options again, not their message: that may have said "Saved ✅" once already.
    again = ctx.t("The options were:")
    return [notice, Reply(text=again, choices=choices, language=ctx.t.language)]


UNREADABLE_ANSWERS = {
    "sticker": N_("Thank you 🙂 I read text, numbers and photos, but not stickers."),
    "voice": N_("I cannot listen to voice messages: please type your answer, or send a photo."),
    "unsupported": N_(
        "Your message did not reach me in a form I can read (the messenger does not pass on some messages, for example from protected accounts). Please type it as text."
    ),
}


def _unreadable(ctx: Context, conversation: ConversationState | None) -> list[Reply]:
    """A sticker, a voice message, a message the messenger did not pass on: a polite word,
    and the question again if a flow is waiting for an answer."""
    assert ctx.inbound.unreadable is not None
    notice = ctx.reply(ctx.t(UNREADABLE_ANSWERS[ctx.inbound.unreadable]))
    flow = flow_of(conversation) if conversation is not None else None
    if conversation is not None and flow is not None and ctx.officer is not None:
        return [notice, *flow.ask_again(ctx, conversation)]
    return [notice]


def _outside_any_flow(ctx: Context) -> list[Reply]:
    """A button, a file or text when no flow is waiting for an answer."""
    _ = ctx.t
    if ctx.inbound.choice is not None:
        stale = ctx.reply(_("That button belongs to an earlier message that is no longer active."))
        return [stale, *show_help(ctx)]
    if ctx.inbound.attachments:
        return [
            ctx.reply(
                _(
                    "Photos and documents go with a report: send /baocao, then attach them at any step."
                ),
                main_menu(ctx),
            )
        ]
    return not_understood(ctx)


def _continue(ctx: Context, conversation: ConversationState, *, choice: str | None) -> list[Reply]:
    flow = flow_of(conversation)
    if flow is None:  # stored by a version that had a flow this one has not
        ctx.end_conversation(conversation)
        return not_understood(ctx)
    return flow.resume(
        ctx,
        conversation,
        text=clean_text(ctx.inbound.text),
        choice=choice,
        attachments=ctx.inbound.attachments,
    )


def _start_from_button(ctx: Context, data: str) -> list[Reply] | None:
    """Buttons that start something; None if `data` is not one of them."""
    if data in BY_BUTTON:
        return _run(ctx, BY_BUTTON[data], "")
    for prefix, handler in BUTTONS.items():
        if data.startswith(prefix):
            return handler(ctx, data.removeprefix(prefix))
    return None


def _own_assignment(ctx: Context, raw_id: str) -> AssignmentView | None:
    # The id in the button is only a hint: the permission rule is checked against the database.
    assignment_id = row_id(raw_id)
    if assignment_id is None:
        return None
    return assignment_of_unit(ctx.session, unit_id=ctx.unit_id, assignment_id=assignment_id)


def _not_own_task(ctx: Context) -> list[Reply]:
    return [ctx.reply(ctx.t("That task is not one of {unit}'s tasks.", unit=ctx.unit_name))]
