"""Where a chat stands: the guided flow in progress, and the numbered menu shown last."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, col, select

from models.sql import is_postgresql
from models.tables import ChatMenu, Conversation, Evidence

# Read on every update: built once, its values bound per call.
_CONVERSATION = select(Conversation).where(
    col(Conversation.channel) == sa.bindparam("channel"),
    col(Conversation.chat_id) == sa.bindparam("chat_id"),
    col(Conversation.account_id) == sa.bindparam("account_id"),
)
_CONVERSATION_LOCKED = _CONVERSATION.with_for_update()


def conversation_for(
    session: Session, *, channel: str, chat_id: str, account_id: int, lock: bool = False
) -> Conversation | None:
    """The account's conversation in this chat; with `lock`, held until the transaction ends
    (PostgreSQL), so two workers never move the same conversation at once."""
    query = _CONVERSATION_LOCKED if lock and is_postgresql(session) else _CONVERSATION
    params = {"channel": channel, "chat_id": chat_id, "account_id": account_id}
    return session.exec(query, params=params).first()


def end_conversation(session: Session, conversation: Conversation) -> None:
    """Forget a conversation and any evidence it staged but never saved."""
    session.execute(
        sa.delete(Evidence).where(
            col(Evidence.conversation_id) == conversation.id, col(Evidence.report_id).is_(None)
        )
    )
    session.delete(conversation)
    session.flush()


def remember_menu(
    session: Session,
    *,
    channel: str,
    chat_id: str,
    choices: list[str],
    labels: list[str],
    at: datetime,
) -> None:
    """Keep the numbered menu just shown in a chat, replacing the one before."""
    menu = session.get(ChatMenu, (channel, chat_id)) or ChatMenu(channel=channel, chat_id=chat_id)
    menu.choices, menu.labels = choices, labels
    menu.updated_at = at
    session.add(menu)


def last_menu(session: Session, *, channel: str, chat_id: str) -> ChatMenu | None:
    """The numbered menu shown last in the chat, if any."""
    return session.get(ChatMenu, (channel, chat_id))
