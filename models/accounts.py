"""Chat accounts: created on first contact, marked unreachable when they block the bot."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, col, select

from models.conversations import ConversationState
from models.prepared import Prepared, Statement
from models.snapshots import (
    AccountSnapshot,
    OfficerSnapshot,
    UnitSnapshot,
    columns_of,
    from_row,
)
from models.sql import insert_ignoring_conflict
from models.tables import ChannelAccount, Conversation, MessengerAccount, Officer, Unit

LAST_SEEN_RESOLUTION = timedelta(minutes=1)

# Read on every update: built once, its values bound per call.
_SENDER = Prepared(
    sa.select(
        *columns_of(AccountSnapshot, "a_"),
        *columns_of(OfficerSnapshot, "o_"),
        *columns_of(UnitSnapshot, "u_"),
        *columns_of(ConversationState, "c_"),
    )
    .select_from(ChannelAccount)
    .outerjoin(Officer, sa.and_(col(Officer.id) == ChannelAccount.officer_id, col(Officer.active)))
    .outerjoin(Unit, col(Unit.id) == Officer.unit_id)
    .outerjoin(
        Conversation,
        sa.and_(
            col(Conversation.channel) == ChannelAccount.channel,
            col(Conversation.chat_id) == sa.bindparam("chat_id"),
            col(Conversation.account_id) == ChannelAccount.id,
        ),
    )
    .where(
        col(ChannelAccount.channel) == sa.bindparam("channel"),
        col(ChannelAccount.external_id) == sa.bindparam("external_id"),
    )
)
_UPDATE_ACCOUNT = sa.update(ChannelAccount).where(
    col(ChannelAccount.id) == sa.bindparam("account_id")
)


@dataclass(frozen=True)
class SenderAccount:
    """Who wrote: their chat account, and the active officer it is linked to, with their unit
    (None for an account not linked, or linked to an officer no longer active); and where
    the account stands in a guided flow in this chat (None: in none)."""

    account: AccountSnapshot
    officer: OfficerSnapshot | None
    unit: UnitSnapshot | None
    conversation: ConversationState | None


def sender_for(
    session: Session,
    *,
    channel: str,
    external_id: str,
    chat_id: str,
    display_name: str,
    at: datetime,
    language: str,
) -> SenderAccount:
    """The chat account for a messenger identity (created on first contact), with its
    officer, unit and conversation in the chat `chat_id`, in one query. Written only where
    something changed: a conversation's every step need not rewrite the account.

    The conversation is read without a row lock: the update that reads it holds its chat
    (`models.queue.take_delivery`), so no other update of the chat moves it meanwhile."""
    connection = session.connection()
    identity = {"channel": channel, "external_id": external_id}
    reading, parameters = sender_reading(channel=channel, external_id=external_id, chat_id=chat_id)
    found = reading.mapping(connection, parameters)
    if found is None:
        insert_ignoring_conflict(  # a conflict: their first message in another chat, just now
            session,
            ChannelAccount,
            **identity,
            display_name=display_name,
            language=language,
            created_at=at,
            last_seen_at=at,
        )
        found = reading.mapping(connection, parameters)
        assert found is not None, "the account was just stored"
    account = from_row(AccountSnapshot, found, "a_")
    assert account is not None
    changes: dict[str, object] = {}
    if display_name and account.display_name != display_name:
        changes["display_name"] = display_name
    # To the minute, for the same reason.
    if abs(at - account.last_seen_at) >= LAST_SEEN_RESOLUTION:
        changes["last_seen_at"] = at
    if account.unreachable_since is not None:
        changes["unreachable_since"] = None  # they wrote to us: they have not blocked the bot
    if changes:
        connection.execute(_UPDATE_ACCOUNT.values(**changes), {"account_id": account.id})
        account = replace(account, **changes)  # type: ignore[arg-type]
    officer = from_row(OfficerSnapshot, found, "o_")
    return SenderAccount(
        account,
        officer,
        from_row(UnitSnapshot, found, "u_") if officer else None,
        from_row(ConversationState, found, "c_"),
    )


def sender_reading(*, channel: str, external_id: str, chat_id: str) -> Statement:
    """The read of `sender_for` with its values: for a transaction that begins with it
    (`models.prepared.begin_with`)."""
    return _SENDER, {"channel": channel, "external_id": external_id, "chat_id": chat_id}


def set_language(session: Session, *, account_id: int, language: str) -> None:
    """The language this chat account is spoken to in."""
    session.connection().execute(
        _UPDATE_ACCOUNT.values(language=language), {"account_id": account_id}
    )


def link_account(session: Session, *, account_id: int, officer_id: int) -> None:
    """From now on this chat account speaks as `officer_id`."""
    session.connection().execute(
        _UPDATE_ACCOUNT.values(officer_id=officer_id), {"account_id": account_id}
    )


def mark_unreachable(session: Session, *, channel: str, external_id: str, at: datetime) -> None:
    """The person blocked the bot: stop writing to them until they write again."""
    session.execute(
        sa.update(ChannelAccount)
        .where(
            col(ChannelAccount.channel) == channel, col(ChannelAccount.external_id) == external_id
        )
        .values(unreachable_since=at)
    )


def remember_messenger(
    session: Session, *, channel: str, name: str, can_join_groups: bool, at: datetime
) -> None:
    """Keep what a messenger said of this bot at start."""
    account = session.get(MessengerAccount, channel) or MessengerAccount(channel=channel)
    account.name, account.can_join_groups, account.checked_at = name, can_join_groups, at
    session.add(account)


def messengers_without_groups(session: Session) -> set[str]:
    """The messengers on which this bot cannot be in group chats."""
    return set(
        session.exec(
            select(MessengerAccount.channel).where(
                col(MessengerAccount.can_join_groups).is_(False)
            )
        ).all()
    )
