"""numbered menus keep their labels, to be shown again after a wrong number

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24 12:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('chatmenu', schema=None) as batch_op:
        batch_op.add_column(sa.Column('labels', sa.JSON(), nullable=False, server_default='[]'))


def downgrade() -> None:
    with op.batch_alter_table('chatmenu', schema=None) as batch_op:
        batch_op.drop_column('labels')
