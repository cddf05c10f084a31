"""number sequences: record numbers issued by a guarded counter, not by max + 1

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25 23:18:33.010923
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('number_sequence',
    sa.Column('prefix', sa.String(length=8), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('last', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('prefix', 'year', name=op.f('pk_number_sequence'))
    )


def downgrade() -> None:
    op.drop_table('number_sequence')
