"""the newest blockers and proposals are found through partial indexes of the reports that have one

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-24 16:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NOTES = ('blockers', 'proposals')


def upgrade() -> None:
    for column in NOTES:
        condition = sa.text(f'{column} IS NOT NULL')
        op.create_index(
            f'ix_report_{column}_created_at',
            'report',
            ['created_at'],
            unique=False,
            sqlite_where=condition,
            postgresql_where=condition,
        )


def downgrade() -> None:
    for column in NOTES:
        op.drop_index(f'ix_report_{column}_created_at', table_name='report')
