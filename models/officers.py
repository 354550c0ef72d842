"""Officers as the secretariat manages them: found by name or id, listed with their messengers
and their last report."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, col, select

from models.provinces import fold
from models.tables import ChannelAccount, Officer, Report, Unit
from models.types import as_utc


def find_officers(session: Session, text: str, *, unit_id: int | None = None) -> list[Officer]:
    """The officers `text` names: an id, or a full name however it is typed (in a unit)."""
    query = select(Officer)
    if unit_id is not None:
        query = query.where(Officer.unit_id == unit_id)
    wanted = text.strip()
    if wanted.isdigit():
        return list(session.exec(query.where(Officer.id == int(wanted))).all())
    folded = fold(wanted)
    return [o for o in session.exec(query).all() if fold(o.full_name) == folded]


@dataclass
class OfficerOverview:
    officer: Officer
    unit: Unit
    messengers: list[str] = field(default_factory=list)  # "telegram", "zalo (unreachable)"
    last_report: datetime | None = None


def officer_overview(session: Session, *, unit_id: int | None = None) -> list[OfficerOverview]:
    """Every officer (of one unit), with their chat accounts and last report, in two queries."""
    last_report = (
        sa.select(col(Report.officer_id), sa.func.max(Report.created_at).label("at"))
        .group_by(col(Report.officer_id))
        .subquery()
    )
    query = (
        sa.select(Officer, Unit, last_report.c.at)
        .join(Unit, col(Unit.id) == Officer.unit_id)
        .outerjoin(last_report, last_report.c.officer_id == Officer.id)
        .order_by(col(Unit.name), col(Officer.full_name))
    )
    if unit_id is not None:
        query = query.where(col(Officer.unit_id) == unit_id)
    overview = {
        officer.id: OfficerOverview(officer=officer, unit=unit, last_report=as_utc(at))
        for officer, unit, at in session.execute(query).all()
    }
    accounts = session.exec(
        select(ChannelAccount)
        .where(col(ChannelAccount.officer_id).in_(list(overview)))
        .order_by(col(ChannelAccount.channel))
    ).all()
    for account in accounts:
        entry = overview[account.officer_id]
        entry.messengers.append(
            account.channel if account.unreachable_since is None else f"{account.channel} ✗"
        )
    return list(overview.values())


def set_preferred_channel(session: Session, *, officer_id: int, channel: str | None) -> None:
    """Where the officer's reminders go (None: the messenger they used last)."""
    session.connection().execute(
        sa.update(Officer).where(col(Officer.id) == officer_id).values(preferred_channel=channel)
    )
