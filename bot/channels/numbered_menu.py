"""Choices as a numbered menu, for chats without buttons (Zalo, the terminal).

The menu shown last in a chat is kept in the database, so a typed number maps back to its
option after a restart or on another worker.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from locales import Translator
from models.conversations import menu_choice, remember_menu
from models.db import SessionFactory, transaction
from models.messages import Reply


@dataclass(frozen=True)
class RenderedMenu:
    text: str
    numbered: list[str]  # the choice data behind 1, 2, 3, …


def render(reply: Reply) -> RenderedMenu:
    """The reply's text followed by its choices as `1. label` lines and a one-line hint.

    Where the reply asks for a number, choices with a command are shown as that command
    instead, so typing `60` means 60, not option 60.
    """
    if not reply.choices:
        return RenderedMenu(text=reply.text, numbered=[])
    _ = Translator(reply.language, ZoneInfo("UTC"))
    lines, numbered, commands = [reply.text, ""], [], []
    for choice in reply.choices:
        if reply.expects_number and choice.command:
            commands.append(f"/{choice.command} — {choice.label}")
        else:
            numbered.append(choice.data)
            lines.append(f"{len(numbered)}. {choice.label}")
    if numbered:
        if len(numbered) == 1:
            lines.append(_("Reply 1 to choose."))
        else:
            lines.append(_("Reply with a number from 1 to {last}.", last=len(numbered)))
    if commands:
        lines.append(_("Or send:") + " " + " · ".join(commands))
    return RenderedMenu(text="\n".join(lines).strip(), numbered=numbered)


def chosen(open_session: SessionFactory, *, channel: str, chat_id: str, text: str) -> str | None:
    """The option a typed number picks in the chat's last menu, or None if it picks none."""
    typed = text.strip().rstrip(".")
    if not (typed.isascii() and typed.isdigit()) or len(typed) > 3:
        return None
    with transaction(open_session) as session:
        return menu_choice(session, channel=channel, chat_id=chat_id, number=int(typed))


def remember(
    open_session: SessionFactory, *, channel: str, chat_id: str, menu: RenderedMenu, at: datetime
) -> None:
    """Keep `menu` as the chat's current one (an empty menu forgets the old numbers)."""
    with transaction(open_session) as session:
        remember_menu(session, channel=channel, chat_id=chat_id, choices=menu.numbered, at=at)
