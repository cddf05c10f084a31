"""enrolment: accounts whose owner sets the password (one-time enrolment codes), a forced change
for a password someone else chose, and role grants approved by a second administrator

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04 10:00:00

Two ADD COLUMNs on user_account (no table copy: its triggers stay) and two new tables. Accounts
that exist already chose or were given their password before this: they count as enrolled since
they were created, and are not forced to change it (the demo logins keep working).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

ROLES = ('technician', 'qa', 'medical_director', 'clinical', 'admin')
GRANT_STATES = ('pending', 'approved', 'refused')


def _one_of(column: str, values: tuple[str, ...], name: str) -> sa.CheckConstraint:
    listed = ', '.join(repr(v) for v in values)
    return sa.CheckConstraint(f'{column} IN ({listed})', name=op.f(name))


def upgrade() -> None:
    op.add_column('user_account', sa.Column('enrolled_at', sa.DateTime(timezone=True)))
    op.add_column(
        'user_account',
        sa.Column(
            'must_change_password', sa.Boolean(), nullable=False, server_default=sa.false()
        ),
    )
    op.execute('UPDATE user_account SET enrolled_at = created_at')
    user = 'user_account.id'
    op.create_table(
        'enrolment',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('token_hash', sa.String(64), nullable=False),
        sa.Column('issued_by_id', sa.Integer(), nullable=True),
        sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ['user_id'], [user], name=op.f('fk_enrolment_user_id_user_account')
        ),
        sa.ForeignKeyConstraint(
            ['issued_by_id'], [user], name=op.f('fk_enrolment_issued_by_id_user_account')
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_enrolment')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_enrolment_token_hash')),
    )
    op.create_index(op.f('ix_enrolment_user_id'), 'enrolment', ['user_id'])
    op.create_table(
        'role_grant',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('role', sa.String(20), nullable=False),
        sa.Column('previous_role', sa.String(20), nullable=True),
        sa.Column('state', sa.String(10), nullable=False),
        sa.Column('requested_by_id', sa.Integer(), nullable=False),
        sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('decided_by_id', sa.Integer(), nullable=True),
        sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('decision_reason', sa.Text(), nullable=False),
        _one_of('role', ROLES, 'ck_role_grant_role'),
        _one_of('previous_role', ROLES, 'ck_role_grant_previous_role'),
        _one_of('state', GRANT_STATES, 'ck_role_grant_state'),
        sa.ForeignKeyConstraint(
            ['user_id'], [user], name=op.f('fk_role_grant_user_id_user_account')
        ),
        sa.ForeignKeyConstraint(
            ['requested_by_id'], [user], name=op.f('fk_role_grant_requested_by_id_user_account')
        ),
        sa.ForeignKeyConstraint(
            ['decided_by_id'], [user], name=op.f('fk_role_grant_decided_by_id_user_account')
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_role_grant')),
    )
    op.create_index(op.f('ix_role_grant_user_id'), 'role_grant', ['user_id'])


def downgrade() -> None:
    op.drop_index(op.f('ix_role_grant_user_id'), table_name='role_grant')
    op.drop_table('role_grant')
    op.drop_index(op.f('ix_enrolment_user_id'), table_name='enrolment')
    op.drop_table('enrolment')
    # Plain DROP COLUMN on both databases: a batch copy would drop user_account's triggers.
    op.execute('ALTER TABLE user_account DROP COLUMN must_change_password')
    op.execute('ALTER TABLE user_account DROP COLUMN enrolled_at')
