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
    (PostgreSQL), so two workers never move the same conversation at once.

    It is not kept by the session: a step changes one row, written by `save_conversation`
    with one statement, not by the ORM's unit of work (a fifth of a step's cost)."""
    query = _CONVERSATION_LOCKED if lock and is_postgresql(session) else _CONVERSATION
    params = {"channel": channel, "chat_id": chat_id, "account_id": account_id}
    conversation = session.exec(query, params=params).first()
    if conversation is not None:
        session.expunge(conversation)
    return conversation


def open_conversation(session: Session, conversation: Conversation) -> Conversation:
    """Store a new conversation (the chat has none for this account); it gets its id."""
    values = conversation.model_dump(exclude={"id"})
    conversation.id = session.connection().execute(_OPEN, values).scalar_one()
    return conversation


def save_conversation(session: Session, conversation: Conversation) -> None:
    """Write where a conversation stands now (its step, token, answers)."""
    session.connection().execute(
        _SAVE,
        {
            "row_id": conversation.id,
            "step": conversation.step,
            "token": conversation.token,
            "data": conversation.data,
            "updated_at": conversation.updated_at,
        },
    )


def end_conversation(session: Session, conversation: Conversation) -> None:
    """Forget a conversation and any evidence it staged but never saved."""
    connection = session.connection()
    connection.execute(_DROP_STAGED_EVIDENCE, {"conversation_id": conversation.id})
    connection.execute(_END, {"row_id": conversation.id})


# Written on every step of a flow: built once, their values bound per call.
_OPEN = sa.insert(Conversation).returning(col(Conversation.id))
_SAVE = sa.update(Conversation).where(col(Conversation.id) == sa.bindparam("row_id"))
_END = sa.delete(Conversation).where(col(Conversation.id) == sa.bindparam("row_id"))
_DROP_STAGED_EVIDENCE = sa.delete(Evidence).where(
    col(Evidence.conversation_id) == sa.bindparam("conversation_id"),
    col(Evidence.report_id).is_(None),
)


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
