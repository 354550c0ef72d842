"""Help, language, and the answers for messages the bot cannot place."""

from __future__ import annotations

from handlers.choices import SET_LANGUAGE, main_menu
from handlers.context import Context
from locales import LANGUAGES, N_
from models.enums import ChatKind, Role
from models.messages import Choice, Reply

# The command menu a messenger shows next to the text box (Telegram's setMyCommands).
MENU_COMMANDS: dict[str, list[tuple[str, str]]] = {
    "vi": [
        ("nhiemvu", N_("My unit's tasks")),
        ("baocao", N_("Report progress")),
        ("sua", N_("Correct a report")),
        ("huy", N_("Cancel what I am doing")),
        ("trogiup", N_("Help")),
        ("lang", N_("Language: Tiếng Việt / English")),
    ],
    "en": [
        ("tasks", N_("My unit's tasks")),
        ("report", N_("Report progress")),
        ("fix", N_("Correct a report")),
        ("cancel", N_("Cancel what I am doing")),
        ("help", N_("Help")),
        ("lang", N_("Language: Tiếng Việt / English")),
    ],
}


def help_text(ctx: Context) -> str:
    _ = ctx.t
    return "\n".join(
        [
            _("I help you report the progress of your unit's tasks."),
            "",
            _("/nhiemvu or /tasks: your unit's tasks, deadlines and status"),
            _("/baocao or /report: report progress step by step"),
            _("/baocao CODE 60% what was done: a quick report in one message"),
            _("/sua or /fix: correct your last report on a task"),
            _("/huy or /cancel: stop what you are doing (nothing is saved)"),
            _("/lang en or /lang vi: change the language"),
            _("/start CODE: link this chat with the invite code from the secretariat"),
            _("/tonghop or /digest: the progress digest with its chart"),
            _("/lienket: use Zalo and Telegram both; /kenh: where reminders go"),
            *(
                [
                    _("/xuatfile or /export: the figures as a spreadsheet (secretariat)"),
                    _("/manhom [UNIT] or /groupcode: a code to bind a group chat (secretariat)"),
                ]
                if ctx.has_role(Role.SECRETARIAT, Role.ADMIN)
                else []
            ),
        ]
    )


def show_help(ctx: Context, args: str = "") -> list[Reply]:
    """List what the bot can do, with the main menu in a linked private chat."""
    private = ctx.inbound.chat_kind == ChatKind.PRIVATE
    return [ctx.reply(help_text(ctx), main_menu(ctx) if ctx.officer and private else ())]


def set_language(ctx: Context, args: str = "") -> list[Reply]:
    """Switch this chat account's language, or offer the choice."""
    wanted = args.strip().lower()[:2]
    if wanted in LANGUAGES:
        ctx.account.language = wanted
        ctx.session.add(ctx.account)
        return [ctx.reply(ctx.t("I will speak English from now on."))]
    return [
        ctx.reply(
            ctx.t("Choose a language:"),
            [
                Choice(label="Tiếng Việt", data=f"{SET_LANGUAGE}vi"),
                Choice(label="English", data=f"{SET_LANGUAGE}en"),
            ],
        )
    ]


def not_linked(ctx: Context) -> list[Reply]:
    """Explain how to link an account that no officer owns yet."""
    return [
        ctx.reply(
            ctx.t(
                "This chat is not linked to an officer yet. Ask the secretariat for an invite "
                "code, then send /start CODE (for example /start K7M2QX9P)."
            )
        )
    ]


def not_understood(ctx: Context) -> list[Reply]:
    """Answer anything unexpected with what the bot can do."""
    return [
        ctx.reply(
            ctx.t("Sorry, I did not understand that.") + "\n\n" + help_text(ctx),
            main_menu(ctx) if ctx.officer else (),
        )
    ]


def nothing_to_cancel(ctx: Context, args: str = "") -> list[Reply]:
    return [ctx.reply(ctx.t("There is nothing to cancel."), main_menu(ctx) if ctx.officer else ())]
