"""Every slash command, declared once: its names in each language, where and by whom it may be
used, what answers it, its label in the messenger's command menu and its line in the help.

The dispatcher, the help text and Telegram's command list are all derived from `COMMANDS`, so
adding or renaming a command is one entry here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from handlers import (
    accounts,
    correction,
    general,
    groups,
    onboarding,
    quick_report,
    secretariat,
    tasks,
    web_login,
)
from handlers.choices import SHOW_HELP, SHOW_TASKS, START_CORRECTION, START_REPORT, main_menu
from handlers.context import Context
from handlers.flows import flow_of
from locales import LANGUAGES, N_
from models.enums import ChatKind, Role
from models.messages import Reply

CommandHandler = Callable[[Context, str], list[Reply]]
PRIVATE = frozenset({ChatKind.PRIVATE})
ANYWHERE = frozenset({ChatKind.PRIVATE, ChatKind.GROUP})
IN_GROUPS = frozenset({ChatKind.GROUP})
SECRETARIAT = frozenset({Role.SECRETARIAT, Role.ADMIN})


@dataclass(frozen=True)
class Command:
    """One slash command."""

    names: dict[str, tuple[str, ...]]  # per language; the first is the one shown
    handler: CommandHandler
    what: str | None  # message id: its line in the help (None: not listed)
    usage: str = ""  # message id of its arguments in the help, e.g. "CODE"
    more_help: tuple[str, ...] = ()  # further help lines, with {command} for its name
    menu: str | None = None  # message id: its label in the messenger's command menu
    button: str | None = None  # the main-menu button that runs it (handlers.choices)
    where: frozenset[ChatKind] = PRIVATE  # in a group, anything else points to the private chat
    linked: bool = True  # in a private chat, needs an account linked to an officer
    roles: frozenset[Role] | None = None  # None: every role

    def name_in(self, language: str) -> str:
        return self.names.get(language, next(iter(self.names.values())))[0]

    def allowed_for(self, ctx: Context) -> bool:
        return self.roles is None or ctx.has_role(*self.roles)


def cancel(ctx: Context, args: str = "") -> list[Reply]:
    """Stop the flow in progress (the flow's own Cancel catches it first, see dispatch)."""
    conversation = ctx.conversation()
    flow = flow_of(conversation) if conversation is not None else None
    if conversation is None or flow is None:
        return general.nothing_to_cancel(ctx)
    return flow.cancel(ctx, conversation)


def show_help(ctx: Context, args: str = "") -> list[Reply]:
    """List what the bot can do here, with the main menu in a linked private chat."""
    private = ctx.inbound.chat_kind == ChatKind.PRIVATE
    return [ctx.reply(help_text(ctx), main_menu(ctx) if ctx.officer and private else ())]


def not_understood(ctx: Context) -> list[Reply]:
    """Answer anything unexpected with what the bot can do."""
    return [
        ctx.reply(
            ctx.t("Sorry, I did not understand that.") + "\n\n" + help_text(ctx),
            main_menu(ctx) if ctx.officer else (),
        )
    ]


COMMANDS: tuple[Command, ...] = (
    Command(
        names={"vi": ("nhiemvu",), "en": ("tasks",)},
        handler=tasks.list_tasks,
        what=N_("your unit's tasks, deadlines and status"),
        menu=N_("My unit's tasks"),
        button=SHOW_TASKS,
    ),
    Command(
        names={"vi": ("baocao",), "en": ("report",)},
        handler=quick_report.report_command,
        what=N_("report progress step by step"),
        more_help=(
            N_("{command} CODE 60% what was done: a quick report in one message"),
            N_("{command} CODE 60% 620; what was done: with the value of the task's indicator"),
        ),
        menu=N_("Report progress"),
        button=START_REPORT,
    ),
    Command(
        names={"vi": ("sua",), "en": ("fix",)},
        handler=correction.correct_command,
        what=N_("correct your last report on a task"),
        menu=N_("Correct a report"),
        button=START_CORRECTION,
    ),
    Command(
        names={"vi": ("huy",), "en": ("cancel",)},
        handler=cancel,
        what=N_("stop what you are doing (nothing is saved)"),
        menu=N_("Cancel what I am doing"),
        linked=False,
    ),
    Command(
        names={"vi": ("trogiup", "help"), "en": ("help",)},
        handler=show_help,
        what=None,
        menu=N_("Help"),
        button=SHOW_HELP,
        where=ANYWHERE,
        linked=False,
    ),
    Command(
        names={"vi": ("lang", "ngonngu"), "en": ("lang",)},
        handler=general.set_language,
        what=N_("change the language"),
        usage="en | vi",
        menu=N_("Language: Tiếng Việt / English"),
        linked=False,
    ),
    Command(
        names={"vi": ("start",), "en": ("start",)},
        handler=onboarding.start,
        what=N_("link this chat with the invite code from the secretariat"),
        usage=N_("CODE"),
        linked=False,
    ),
    Command(
        names={"vi": ("tonghop",), "en": ("digest",)},
        handler=secretariat.digest,
        what=N_("the progress digest with its chart"),
        where=ANYWHERE,
    ),
    Command(
        names={"vi": ("lienket",), "en": ("linkcode",)},
        handler=accounts.link_code,
        what=N_("use Zalo and Telegram both"),
    ),
    Command(
        names={"vi": ("kenh",), "en": ("channel",)},
        handler=accounts.choose_channel,
        what=N_("choose the messenger reminders go to"),
    ),
    Command(
        names={"vi": ("web",), "en": ("web",)},
        handler=web_login.web_link,
        what=N_("a sign-in link to the web board"),
    ),
    Command(
        names={"vi": ("xuatfile",), "en": ("export",)},
        handler=secretariat.export,
        what=N_("the figures as a spreadsheet (secretariat)"),
        roles=SECRETARIAT,
    ),
    Command(
        names={"vi": ("manhom",), "en": ("groupcode",)},
        handler=groups.group_code,
        what=N_("a code to bind a group chat (secretariat)"),
        usage=N_("[UNIT]"),
        roles=SECRETARIAT,
    ),
    Command(
        names={"vi": ("bind", "ketnoi"), "en": ("bind",)},
        handler=groups.bind,
        what=N_("bind this group to the secretariat or to a unit"),
        usage=N_("CODE"),
        where=IN_GROUPS,
        linked=False,
    ),
)

BY_NAME: dict[str, Command] = {
    name: command for command in COMMANDS for names in command.names.values() for name in names
}
BY_BUTTON: dict[str, Command] = {c.button: c for c in COMMANDS if c.button is not None}


def help_text(ctx: Context) -> str:
    """What the bot can do in this chat, for this person, one line a command."""
    _ = ctx.t
    kind = ctx.inbound.chat_kind
    lines = [_("I help you report the progress of your unit's tasks."), ""]
    for command in COMMANDS:
        if command.what is None or kind not in command.where or not command.allowed_for(ctx):
            continue
        name = f"/{command.name_in(_.language)}"
        usage = f" {_(command.usage)}" if command.usage else ""
        lines.append(f"{name}{usage}: {_(command.what)}")
        lines += [_(line, command=name) for line in command.more_help]
    return "\n".join(lines)


def menu_commands(language: str) -> list[tuple[str, str]]:
    """The messenger's command menu in `language`: (name, message id of its label)."""
    assert language in LANGUAGES
    return [(c.name_in(language), c.menu) for c in COMMANDS if c.menu is not None]
