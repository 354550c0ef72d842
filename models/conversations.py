"""Where a chat stands: the guided flow in progress, and the numbered menu shown last."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col

from models.prepared import Prepared
from models.tables import ChatMenu, Conversation, Evidence


@dataclass
class ConversationState:
    """Where one account stands in a guided flow in one chat: a `Conversation` row as the
    handlers read and move it. Read in the sender's Core statement, as the snapshots are
    (`models.accounts.sender_for`), and written back with one (`save_conversation`), not
    kept by the ORM: loading the row as an ORM object and its unit of work cost more than the
    step's own SQL."""

    channel: str
    chat_id: str
    account_id: int
    flow: str
    step: str
    token: str
    updated_at: datetime
    data: dict[str, Any] = field(default_factory=dict)
    id: int | None = None


def save_conversation(session: Session, conversation: ConversationState) -> None:
    """Write where a conversation stands now (its flow, step, token, answers); a new one (no
    id yet: the chat has none for this account) is stored, and gets its id."""
    if conversation.id is None:
        values = {k: v for k, v in vars(conversation).items() if k != "id"}
        conversation.id = _OPEN.scalar(session.connection(), values)
        return
    _SAVE.later(  # with the next statement (PostgreSQL: `Prepared.later`)
        session.connection(),
        {
            "row_id": conversation.id,
            "flow": conversation.flow,
            "step": conversation.step,
            "token": conversation.token,
            "data": conversation.data,
            "updated_at": conversation.updated_at,
        },
    )


def end_conversation(session: Session, conversation: ConversationState) -> None:
    """Forget a conversation and any evidence it staged but never saved."""
    drop_staged_evidence(session, conversation)
    _END.later(session.connection(), {"row_id": conversation.id})


def drop_staged_evidence(session: Session, conversation: ConversationState) -> None:
    """Forget the files a conversation staged but never saved (it ends, or starts over)."""
    _DROP_STAGED_EVIDENCE.later(session.connection(), {"conversation_id": conversation.id})


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
