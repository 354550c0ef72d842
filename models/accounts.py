"""Chat accounts: created on first contact, marked unreachable when they block the bot."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, col, select

from models.tables import ChannelAccount, MessengerAccount, Officer, Unit

LAST_SEEN_RESOLUTION = timedelta(minutes=1)

# Read on every update: built once, its values bound per call.
_ACCOUNT_WITH_OFFICER = (
    select(ChannelAccount, Officer, Unit)
    .outerjoin(Officer, sa.and_(col(Officer.id) == ChannelAccount.officer_id, col(Officer.active)))
    .outerjoin(Unit, col(Unit.id) == Officer.unit_id)
    .where(
        col(ChannelAccount.channel) == sa.bindparam("channel"),
        col(ChannelAccount.external_id) == sa.bindparam("external_id"),
    )
)


@dataclass(frozen=True)
class SenderAccount:
    """Who wrote: their chat account, and the active officer it is linked to, with their unit
    (None for an account not linked, or linked to an officer no longer active)."""

    account: ChannelAccount
    officer: Officer | None
    unit: Unit | None


def sender_for(
    session: Session,
    *,
    channel: str,
    external_id: str,
    display_name: str,
    at: datetime,
    language: str,
) -> SenderAccount:
    """The chat account for a messenger identity (created on first contact), with its
    officer and unit, in one query. Written only where something changed: a conversation's
    every step need not rewrite the account."""
    found = session.exec(
        _ACCOUNT_WITH_OFFICER, params={"channel": channel, "external_id": external_id}
    ).first()
    account, officer, unit = found if found is not None else (None, None, None)
    if account is None:
        account = ChannelAccount(
            channel=channel,
            external_id=external_id,
            display_name=display_name,
            language=language,
            created_at=at,
        )
        session.add(account)
    elif display_name and account.display_name != display_name:
        account.display_name = display_name
    # To the minute, for the same reason.
    if account.last_seen_at is None or abs(at - account.last_seen_at) >= LAST_SEEN_RESOLUTION:
        account.last_seen_at = at
    if account.unreachable_since is not None:
        account.unreachable_since = None  # they wrote to us, so they have not blocked the bot
    session.flush()
    return SenderAccount(account, officer, unit if officer is not None else None)


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
