"""Choices as a numbered menu, for chats without buttons (Zalo, the terminal).

The menu shown last in a chat is kept in the database, so a typed number maps back to its
option after a restart or on another worker.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from locales import Translator
from models.conversations import last_menu, remember_menu
from models.db import SessionFactory, transaction
from models.messages import Reply


@dataclass(frozen=True)
class RenderedMenu:
    text: str
    numbered: list[str]  # the choice data behind 1, 2, 3, …
    labels: list[str] = field(default_factory=list)  # what 1, 2, 3, … read


@dataclass(frozen=True)
class Typed:
    """What a typed line means against the chat's last menu."""

    choice: str | None = None  # the option a number picked
    wrong_number: bool = False  # a number that picks no option of the menu


def render(reply: Reply) -> RenderedMenu:
    """The reply's text followed by its choices as `1. label` lines and a one-line hint.

    Where the reply asks for a number, choices with a command are shown as that command
    instead, so typing `60` means 60, not option 60.
    """
    if not reply.choices:
        return RenderedMenu(text=reply.text, numbered=[])
    _ = Translator(reply.language, ZoneInfo("UTC"))
    lines, numbered, labels, commands = [reply.text, ""], [], [], []
    for choice in reply.choices:
        if reply.expects_number and choice.command:
            commands.append(f"/{choice.command} — {choice.label}")
        else:
            numbered.append(choice.data)
            labels.append(choice.label)
            lines.append(f"{len(numbered)}. {choice.label}")
    if numbered:
        if len(numbered) == 1:
            lines.append(_("Reply 1 to choose."))
        else:
            lines.append(_("Reply with a number from 1 to {last}.", last=len(numbered)))
    if commands:
        lines.append(_("Or send:") + " " + " · ".join(commands))
    return RenderedMenu(
        text="\n".join(lines).strip(),
        numbered=numbered,
        labels=labels,
    )


def read_typed(open_session: SessionFactory, *, channel: str, chat_id: str, text: str) -> Typed:
    """What a typed line picks in the chat's last menu: an option, a wrong number, or nothing
    (it is not a number, or the last message asked for a number)."""
    typed = text.strip().rstrip(".")
    if not (typed.isascii() and typed.isdigit()) or len(typed) > 3:
        return Typed()
    with transaction(open_session) as session:
        menu = last_menu(session, channel=channel, chat_id=chat_id)
    if menu is None or not menu.choices:
        return Typed()
    number = int(typed)
    if 1 <= number <= len(menu.choices):
        return Typed(choice=menu.choices[number - 1])
    return Typed(wrong_number=True)


def remember(
    open_session: SessionFactory, *, channel: str, chat_id: str, menu: RenderedMenu, at: datetime
) -> None:
    """Keep `menu` as the chat's current one (an empty menu forgets the old numbers)."""
    with transaction(open_session) as session:
        remember_menu(
            session,
            channel=channel,
            chat_id=chat_id,
            choices=menu.numbered,
            labels=menu.labels,
            at=at,
        )
