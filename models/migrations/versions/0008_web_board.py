"""one-time login links and sessions of the web board; when an assignment was done

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-24 14:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('assignment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('done_at', sa.DateTime(timezone=True), nullable=True))
    # Done before this version: since the first report that said so.
    op.execute(
        "UPDATE assignment SET done_at = (SELECT MIN(report.created_at) FROM report"
        " WHERE report.assignment_id = assignment.id AND report.status = 'done')"
        " WHERE assignment.status = 'done'"
    )
    op.create_table(
        'weblogin',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('officer_id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['officer_id'], ['officer.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('weblogin', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_weblogin_officer_id'), ['officer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_weblogin_token_hash'), ['token_hash'], unique=True)
    op.create_table(
        'websession',
        sa.Column('id', sa.String(length=64), nullable=False),
        sa.Column('officer_id', sa.Integer(), nullable=False),
        sa.Column('csrf', sa.String(length=64), nullable=False),
        sa.Column('language', sa.String(length=5), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['officer_id'], ['officer.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('websession', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_websession_officer_id'), ['officer_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('websession', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_websession_officer_id'))
    op.drop_table('websession')
    with op.batch_alter_table('weblogin', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_weblogin_token_hash'))
        batch_op.drop_index(batch_op.f('ix_weblogin_officer_id'))
    op.drop_table('weblogin')
    with op.batch_alter_table('assignment', schema=None) as batch_op:
        batch_op.drop_column('done_at')
