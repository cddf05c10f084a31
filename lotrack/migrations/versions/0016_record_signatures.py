"""record signatures: the e-signature of a QA decision on a bank, specification, deviation or
investigation, append-only

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-04 10:00:00

A new table, its CHECK constraints and its guards; no other table changes. The values and the
guarded columns are frozen here as they stand at this revision (a later change needs its own).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from lotrack.migrations.guards import record_guard_statements, record_unguard_statements

revision = '0016'
down_revision = "0015"
branch_labels = None
depends_on = None

KINDS = ('cell_bank', 'spec_version', 'deviation', 'investigation')
MEANINGS = ('qualified', 'not qualified', 'approved', 'closed', 'concluded')
GUARDS = {
    'record_signature': (
        (
            'subject_kind',
            'subject_id',
            'meaning',
            'signer_id',
            'signer_name',
            'signer_username',
            'signed_at',
            'content_sha256',
            'reason',
        ),
        (),
    ),
}


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def upgrade() -> None:
    op.create_table(
        'record_signature',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('subject_kind', sa.String(length=20), nullable=False),
        sa.Column('subject_id', sa.Integer(), nullable=False),
        sa.Column('meaning', sa.String(length=20), nullable=False),
        sa.Column('signer_id', sa.Integer(), nullable=False),
        sa.Column('signer_name', sa.String(length=200), nullable=False),
        sa.Column('signer_username', sa.String(length=64), nullable=False),
        sa.Column('signed_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('content_sha256', sa.String(length=64), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.CheckConstraint(
            _one_of('subject_kind', KINDS), name=op.f('ck_record_signature_subject_kind')
        ),
        sa.CheckConstraint(_one_of('meaning', MEANINGS), name=op.f('ck_record_signature_meaning')),
        sa.ForeignKeyConstraint(
            ['signer_id'],
            ['user_account.id'],
            name=op.f('fk_record_signature_signer_id_user_account'),
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_record_signature')),
    )
    op.create_index(
        'ix_record_signature_subject', 'record_signature', ['subject_kind', 'subject_id']
    )
    op.create_index(op.f('ix_record_signature_signer_id'), 'record_signature', ['signer_id'])
    dialect = op.get_bind().dialect.name
    for statement in record_guard_statements(dialect, ('record_signature',), GUARDS):
        op.execute(statement)


def downgrade() -> None:
    for statement in record_unguard_statements(op.get_bind().dialect.name, ('record_signature',)):
        op.execute(statement)
    op.drop_index(op.f('ix_record_signature_signer_id'), 'record_signature')
    op.drop_index('ix_record_signature_subject', 'record_signature')
    op.drop_table('record_signature')
