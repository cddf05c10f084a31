"""bedside scan keeps whether the exceptional release was acknowledged at that scan

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26 01:40:00

A plain ADD COLUMN (no batch copy) so the append-only triggers on bedside_scan stay in place.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        'bedside_scan',
        sa.Column(
            'exceptional_acknowledged', sa.Boolean(), nullable=False, server_default=sa.false()
        ),
    )


def downgrade() -> None:
    with op.batch_alter_table('bedside_scan') as batch:
        batch.drop_column('exceptional_acknowledged')
