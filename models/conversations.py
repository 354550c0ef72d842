"""Where a chat stands: the guided flow in progress, and the numbered menu shown last."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col

from models.prepared import Prepared
from models.sql import is_postgresql
from models.tables import ChatMenu, Conversation, Evidence


@dataclass
class ConversationState:
    """Where one account stands in a guided flow in one chat: a `Conversation` row as the
    handlers read and move it. Read with one Core statement and written back with one
    (`save_conversation`), not kept by the ORM: loading the row as an ORM object and its
    unit of work cost more than the step's own SQL."""

    channel: str
    chat_id: str
    account_id: int
    flow: str
    step: str
    token: str
    updated_at: datetime
    data: dict[str, Any] = field(default_factory=dict)
    id: int | None = None


# Read on every update: built once, its values bound per call.
_TABLE = Conversation.__table__  # type: ignore[attr-defined]
_SELECT_CONVERSATION = sa.select(*(_TABLE.c[f.name] for f in fields(ConversationState))).where(
    _TABLE.c.channel == sa.bindparam("channel"),
    _TABLE.c.chat_id == sa.bindparam("chat_id"),
    _TABLE.c.account_id == sa.bindparam("account_id"),
)
_CONVERSATION = Prepared(_SELECT_CONVERSATION)
_CONVERSATION_LOCKED = Prepared(_SELECT_CONVERSATION.with_for_update())


def conversation_for(
    session: Session, *, channel: str, chat_id: str, account_id: int, lock: bool = False
) -> ConversationState | None:
    """The account's conversation in this chat; with `lock`, held until the transaction ends
    (PostgreSQL), so two workers never move the same conversation at once."""
    query = _CONVERSATION_LOCKED if lock and is_postgresql(session) else _CONVERSATION
    params = {"channel": channel, "chat_id": chat_id, "account_id": account_id}
    row = query.mapping(session.connection(), params)
    return ConversationState(**row) if row is not None else None


def save_conversation(session: Session, conversation: ConversationState) -> None:
    """Write where a conversation stands now (its step, token, answers); a new one (no id
    yet: the chat has none for this account) is stored, and gets its id."""
    if conversation.id is None:
        values = {k: v for k, v in vars(conversation).items() if k != "id"}
        conversation.id = _OPEN.scalar(session.connection(), values)
        return
    _SAVE.rows(
        session.connection(),
        {
            "row_id": conversation.id,
            "step": conversation.step,
            "token": conversation.token,
            "data": conversation.data,
            "updated_at": conversation.updated_at,
        },
    )


def end_conversation(session: Session, conversation: ConversationState) -> None:
    """Forget a conversation and any evidence it staged but never saved."""
    connection = session.connection()
    _DROP_STAGED_EVIDENCE.rows(connection, {"conversation_id": conversation.id})
    _END.rows(connection, {"row_id": conversation.id})


# Written on every step of a flow: built once, their values bound per call.
_OPEN = Prepared(sa.insert(Conversation).returning(col(Conversation.id)))
_SAVE = Prepared(sa.update(Conversation).where(col(Conversation.id) == sa.bindparam("row_id")))
_END = Prepared(sa.delete(Conversation).where(col(Conversation.id) == sa.bindparam("row_id")))
_DROP_STAGED_EVIDENCE = Prepared(
    sa.delete(Evidence).where(
        col(Evidence.conversation_id) == sa.bindparam("conversation_id"),
        col(Evidence.report_id).is_(None),
    )
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
