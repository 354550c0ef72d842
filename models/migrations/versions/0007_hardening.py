"""updates set aside keep their error; wrong codes are counted; what messengers say of the bot

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24 13:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('inboxupdate', schema=None) as batch_op:
        batch_op.add_column(sa.Column('error', sa.String(length=500), nullable=True))
    op.create_table(
        'codeattempt',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('channel', sa.String(length=20), nullable=False),
        sa.Column('sender_id', sa.String(length=64), nullable=False),
        sa.Column('chat_id', sa.String(length=64), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('codeattempt', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_codeattempt_at'), ['at'], unique=False)
    op.create_table(
        'messengeraccount',
        sa.Column('channel', sa.String(length=20), nullable=False),
        sa.Column('name', sa.String(length=255), nullable=False),
        sa.Column('can_join_groups', sa.Boolean(), nullable=False),
        sa.Column('checked_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('channel'),
    )


def downgrade() -> None:
    op.drop_table('messengeraccount')
    with op.batch_alter_table('codeattempt', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_codeattempt_at'))
    op.drop_table('codeattempt')
    with op.batch_alter_table('inboxupdate', schema=None) as batch_op:
        batch_op.drop_column('error')
