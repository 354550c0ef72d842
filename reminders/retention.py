"""Forgetting what is only kept for a while: delivery ids, handled raw updates, published images,
and finished outbox rows. Reports, tasks and assignments are never purged."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, col

from models.enums import OutboxState
from models.queue import OutboxKind
from models.tables import InboxUpdate, Outbox, PublicMedia, SeenDelivery

DELIVERY_MEMORY = timedelta(days=30)  # far longer than any messenger resends an update
OUTBOX_MEMORY = timedelta(days=180)  # a half-year of "was it sent?" for the secretariat
REPLY_MEMORY = timedelta(days=14)  # replies carry charts and spreadsheets: kept briefly
FINISHED = (OutboxState.SENT, OutboxState.DROPPED, OutboxState.FAILED, OutboxState.UNKNOWN)


def purge(session: Session, *, now: datetime) -> dict[str, int]:
    """Delete what has outlived its use; returns how many rows of each kind went."""

    def delete(table: type, condition: sa.ColumnElement[bool]) -> int:
        result = session.connection().execute(sa.delete(table).where(condition))
        return int(result.rowcount or 0)

    return {
        "deliveries": delete(SeenDelivery, col(SeenDelivery.received_at) < now - DELIVERY_MEMORY),
        "inbox": delete(InboxUpdate, col(InboxUpdate.handled_at) < now - DELIVERY_MEMORY),
        "media": delete(PublicMedia, col(PublicMedia.expires_at) < now),
        "outbox": delete(
            Outbox,
            sa.and_(
                col(Outbox.state).in_(FINISHED),
                sa.or_(
                    col(Outbox.created_at) < now - OUTBOX_MEMORY,
                    sa.and_(
                        col(Outbox.key).startswith(f"{OutboxKind.REPLY.value}:"),
                        col(Outbox.created_at) < now - REPLY_MEMORY,
                    ),
                ),
            ),
        ),
    }
