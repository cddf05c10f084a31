"""audit checkpoints: signed statements of the chain's head, append-only like the events

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04 14:30:00

A new table and its guards; no other table changes.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from lotrack.migrations.guards import (
    checkpoint_guard_statements,
    checkpoint_unguard_statements,
)

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    big = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
    op.create_table(
        'audit_checkpoint',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('seq', big, nullable=False),
        sa.Column('head_hash', sa.String(64), nullable=False),
        sa.Column('made_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('key_id', sa.String(16), nullable=False),
        sa.Column('signature', sa.String(128), nullable=False),
    )
    op.create_index('ix_audit_checkpoint_seq', 'audit_checkpoint', ['seq'])
    for statement in checkpoint_guard_statements(op.get_bind().dialect.name):
        op.execute(statement)


def downgrade() -> None:
    for statement in checkpoint_unguard_statements(op.get_bind().dialect.name):
        op.execute(statement)
    op.drop_index('ix_audit_checkpoint_seq', 'audit_checkpoint')
    op.drop_table('audit_checkpoint')
