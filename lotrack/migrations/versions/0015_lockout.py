"""lockout per account and address: known login addresses, per-address login throttles, and a
signing lock apart from the login lock

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-04 10:00:00

Two plain ADD COLUMNs on user_account (no table copy: its triggers stay) and two new tables.
Downgrade drops the columns with ALTER TABLE DROP COLUMN, which SQLite (3.35+) and PostgreSQL
both do in place for a column without constraints.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0015'
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        'user_account',
        sa.Column('failed_signings', sa.Integer(), nullable=False, server_default='0'),
    )
    op.add_column(
        'user_account', sa.Column('signing_locked_until', sa.DateTime(timezone=True), nullable=True)
    )
    op.create_table(
        'login_address',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('address', sa.String(64), nullable=False),
        sa.Column('last_login_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ['user_id'], ['user_account.id'], name=op.f('fk_login_address_user_id_user_account')
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_login_address')),
        sa.UniqueConstraint('user_id', 'address', name=op.f('uq_login_address_user_id_address')),
    )
    op.create_index(op.f('ix_login_address_user_id'), 'login_address', ['user_id'])
    op.create_table(
        'login_throttle',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('username', sa.String(64), nullable=False),
        sa.Column('address', sa.String(64), nullable=False),
        sa.Column('failures', sa.Integer(), nullable=False),
        sa.Column('last_failure_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('wait_until', sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_login_throttle')),
        sa.UniqueConstraint(
            'username', 'address', name=op.f('uq_login_throttle_username_address')
        ),
    )
    op.create_index(
        op.f('ix_login_throttle_last_failure_at'), 'login_throttle', ['last_failure_at']
    )


def downgrade() -> None:
    op.drop_index(op.f('ix_login_throttle_last_failure_at'), table_name='login_throttle')
    op.drop_table('login_throttle')
    op.drop_index(op.f('ix_login_address_user_id'), table_name='login_address')
    op.drop_table('login_address')
    op.execute('ALTER TABLE user_account DROP COLUMN signing_locked_until')
    op.execute('ALTER TABLE user_account DROP COLUMN failed_signings')
