"""an update that came through the inbox is guarded by its handled mark: updates remembered as seen but left unmarked are marked

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 16:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # The handlers now take an inbox update by marking it handled (the mark is the guard
    # against handling it twice) and no longer remember it among the deliveries seen. One
    # that an older version handled but had not marked yet is marked here, so it is not
    # taken for new.
    op.execute(
        'UPDATE inboxupdate SET handled_at = received_at '
        'WHERE handled_at IS NULL AND EXISTS (SELECT 1 FROM seendelivery s '
        'WHERE s.channel = inboxupdate.channel AND s.delivery_id = inboxupdate.delivery_id)'
    )


def downgrade() -> None:
    # An older version guards by the deliveries seen: remember those the inbox marked.
    op.execute(
        'INSERT INTO seendelivery (channel, delivery_id, received_at) '
        'SELECT channel, delivery_id, received_at FROM inboxupdate '
        'WHERE handled_at IS NOT NULL AND NOT EXISTS (SELECT 1 FROM seendelivery s '
        'WHERE s.channel = inboxupdate.channel AND s.delivery_id = inboxupdate.delivery_id)'
    )
