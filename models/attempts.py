"""Wrong invite and group codes: counted per chat account and overall, to stop guessing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, col, select

from models.tables import CodeAttempt
from models.types import as_utc


def record_wrong_code(
    session: Session, *, channel: str, sender_id: str, chat_id: str, kind: str, at: datetime
) -> None:
    session.add(
        CodeAttempt(channel=channel, sender_id=sender_id, chat_id=chat_id, kind=kind, at=at)
    )
    session.flush()


def wrong_codes_since(
    session: Session, *, since: datetime, channel: str | None = None, sender_id: str | None = None
) -> list[datetime]:
    """When wrong codes were typed since `since` (by one account, if given), oldest first."""
    query = select(CodeAttempt.at).where(col(CodeAttempt.at) >= since)
    if channel is not None and sender_id is not None:
        query = query.where(CodeAttempt.channel == channel, CodeAttempt.sender_id == sender_id)
    return [as_utc(at) for at in session.exec(query.order_by(col(CodeAttempt.at))).all()]


@dataclass(frozen=True)
class WrongCodes:
    """What the secretariat is shown: how many, from how many chat accounts, the latest."""

    count: int
    accounts: int
    latest: datetime | None


def wrong_codes_summary(session: Session, *, since: datetime) -> WrongCodes:
    accounts = sa.func.count(
        sa.distinct(col(CodeAttempt.channel) + sa.literal(":") + col(CodeAttempt.sender_id))
    )
    count, distinct, latest = session.execute(
        sa.select(sa.func.count(), accounts, sa.func.max(CodeAttempt.at)).where(
            col(CodeAttempt.at) >= since
        )
    ).one()
    return WrongCodes(count=int(count), accounts=int(distinct), latest=as_utc(latest))
