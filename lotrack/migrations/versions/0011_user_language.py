"""user language: each account's preferred language (zh_CN or en; empty: the browser's, then the
site's default)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04 10:00:00

One ADD COLUMN with its named CHECK, the same statement on both databases (SQLite checks existing
rows and keeps the table and its triggers; PostgreSQL copies nothing). Downgrade copies the table
on SQLite (DROP COLUMN refuses a column with a CHECK), keeping its triggers as 0010 does.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

LANGUAGES = ('zh_CN', 'en')


def upgrade() -> None:
    values = ', '.join(repr(v) for v in LANGUAGES)
    op.execute(
        'ALTER TABLE user_account ADD COLUMN language VARCHAR(8)'
        f' CONSTRAINT ck_user_account_language CHECK (language IN ({values}))'
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != 'sqlite':
        op.drop_column('user_account', 'language')
        return
    spec = importlib.util.spec_from_file_location(
        'typed_states', Path(__file__).with_name('0010_typed_states.py')
    )
    typed_states = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(typed_states)
    def drop(batch) -> None:
        batch.drop_constraint(batch.f('ck_user_account_language'), type_='check')
        batch.drop_column('language')

    typed_states._copy('user_account', drop)
