"""Language, and the answers for an account that is not linked or has nothing to cancel."""

from __future__ import annotations

from dataclasses import replace

from handlers.choices import SET_LANGUAGE, main_menu
from handlers.context import Context
from locales import LANGUAGES
from models.accounts import set_language as set_language_of
from models.messages import Choice, Reply


def set_language(ctx: Context, args: str = "") -> list[Reply]:
    """Switch this chat account's language, or offer the choice."""
    wanted = args.strip().lower()[:2]
    if wanted in LANGUAGES:
        set_language_of(ctx.session, account_id=ctx.account.id, language=wanted)
        ctx.account = replace(ctx.account, language=wanted)
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


def nothing_to_cancel(ctx: Context, args: str = "") -> list[Reply]:
    return [ctx.reply(ctx.t("There is nothing to cancel."), main_menu(ctx) if ctx.officer else ())]
