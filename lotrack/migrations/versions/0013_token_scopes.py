"""API token scopes and expiry: what a token may do (read, write, sign) and until when

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04 15:00:00

Two ADD COLUMNs (no table copy: the triggers stay). Tokens issued before keep what they could do
(read, write, sign) and expire 90 days after they were issued, as new ones do by default.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        'api_token',
        sa.Column('scopes', sa.String(40), nullable=False, server_default='read,write,sign'),
    )
    op.add_column('api_token', sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True))
    if op.get_bind().dialect.name == 'sqlite':
        op.execute("UPDATE api_token SET expires_at = datetime(created_at, '+90 days')")
    else:
        op.execute("UPDATE api_token SET expires_at = created_at + interval '90 days'")


def downgrade() -> None:
    with op.batch_alter_table('api_token') as batch:
        batch.drop_column('expires_at')
        batch.drop_column('scopes')
