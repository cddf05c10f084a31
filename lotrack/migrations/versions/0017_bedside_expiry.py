"""bedside scan keeps the label's expiry bar code (005) as scanned; its guard now also fixes that
column and whether an exceptional release was acknowledged

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-04 13:40:00

A plain ADD COLUMN (no batch copy), then the bedside_scan guard is replaced by one that names the
new column and `exceptional_acknowledged` (added by 0007 without a guard, so a scan's
acknowledgement could have been changed afterwards). The guarded columns are frozen here as they
stand at this revision.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from lotrack.migrations.guards import record_guard_statements, record_unguard_statements

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None

BEFORE = (
    'site_id',
    'patient_text',
    'scan_text',
    'method',
    'patient_id',
    'unit_id',
    'go',
    'reasons',
    'scanned_by_id',
    'scanned_at',
)
AFTER = (*BEFORE, 'expiry_text', 'exceptional_acknowledged')  # guards.py LATER_GUARDS


def _guard(columns: tuple[str, ...]) -> None:
    dialect = op.get_bind().dialect.name
    for statement in record_unguard_statements(dialect, ('bedside_scan',)):
        op.execute(statement)
    guards = {'bedside_scan': (columns, ())}
    for statement in record_guard_statements(dialect, ('bedside_scan',), guards):
        op.execute(statement)


def upgrade() -> None:
    op.add_column(
        'bedside_scan',
        sa.Column('expiry_text', sa.String(length=200), nullable=False, server_default=''),
    )
    _guard(AFTER)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for statement in record_unguard_statements(dialect, ('bedside_scan',)):
        op.execute(statement)
    with op.batch_alter_table('bedside_scan') as batch:
        batch.drop_column('expiry_text')
    _guard(BEFORE)
