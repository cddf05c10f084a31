"""mail outbox: e-mail notices of holds, recalls, OOS, exceptional releases, adverse-event report
clocks and calibrations due, and each user's e-mail address

Revision ID: 0023
Revises: 0021
Create Date: 2026-12-04 16:30:00

A new table and one nullable column; no recorded row is rewritten. The outbox is a delivery log
(its status, attempts and last error change as it is sent), not a GMP record: no guard.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None

EVENTS = (
    'hold',
    'recall',
    'oos_opened',
    'exceptional_requested',
    'exceptional_signed',
    'ae_report_due',
    'ae_report_overdue',
    'calibration_due',
)
STATUSES = ('queued', 'sending', 'sent', 'failed', 'in_app', 'no_address')


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def upgrade() -> None:
    op.add_column('user_account', sa.Column('email', sa.String(length=254), nullable=True))
    op.create_table(
        'mail_outbox',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('key', sa.String(length=200), nullable=False),
        sa.Column('event', sa.String(length=24), nullable=False),
        sa.Column('subject_id', sa.Integer(), nullable=False),
        sa.Column('number', sa.String(length=40), nullable=False),
        sa.Column('recipient_id', sa.Integer(), nullable=True),
        sa.Column('address', sa.String(length=254), nullable=False),
        sa.Column('language', sa.String(length=8), nullable=True),
        sa.Column('subject', sa.String(length=400), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('status', sa.String(length=12), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('last_error', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('last_attempt_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(_one_of('event', EVENTS), name=op.f('ck_mail_outbox_event')),
        sa.CheckConstraint(_one_of('status', STATUSES), name=op.f('ck_mail_outbox_status')),
        sa.ForeignKeyConstraint(
            ['recipient_id'], ['user_account.id'],
            name=op.f('fk_mail_outbox_recipient_id_user_account'),
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_mail_outbox')),
        sa.UniqueConstraint('key', name=op.f('uq_mail_outbox_key')),
    )
    for column in ('event', 'number', 'recipient_id', 'status', 'created_at'):
        op.create_index(op.f(f'ix_mail_outbox_{column}'), 'mail_outbox', [column])


def downgrade() -> None:
    op.drop_table('mail_outbox')
    # A plain column with no constraint: SQLite drops it in place, keeping the table's triggers.
    op.drop_column('user_account', 'email')
