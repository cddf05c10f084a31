"""certificates of analysis and label prints

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 22:26:27.282675
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from lotrack.migrations.guards import (
    RECORD_GUARDS,
    record_guard_statements,
    record_unguard_statements,
)

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

DOCUMENT_GUARDS = ("certificate", "label_print")
# The guarded columns as they stand at this revision (0017 adds label_print's output and dpi).
GUARDS_0004 = {
    "certificate": RECORD_GUARDS["certificate"],
    "label_print": (
        ("unit_id", "printed_by_id", "printed_at", "reprint", "reason", "stock", "lot_state"),
        (),
    ),
}


def upgrade() -> None:
    op.create_table('certificate',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('lot_id', sa.Integer(), nullable=False),
    sa.Column('document_number', sa.String(length=40), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('snapshot', sa.Text(), nullable=False),
    sa.Column('pdf', sa.LargeBinary(), nullable=False),
    sa.Column('pdf_sha256', sa.String(length=64), nullable=False),
    sa.Column('token', sa.String(length=200), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('issued_by_id', sa.Integer(), nullable=False),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('superseded_by_id', sa.Integer(), nullable=True),
    sa.Column('superseded_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['issued_by_id'], ['user_account.id'], name=op.f('fk_certificate_issued_by_id_user_account')),
    sa.ForeignKeyConstraint(['lot_id'], ['lot.id'], name=op.f('fk_certificate_lot_id_lot')),
    sa.ForeignKeyConstraint(['superseded_by_id'], ['certificate.id'], name=op.f('fk_certificate_superseded_by_id_certificate')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_certificate')),
    sa.UniqueConstraint('lot_id', 'version', name=op.f('uq_certificate_lot_id_version')),
    sa.UniqueConstraint('pdf_sha256', name=op.f('uq_certificate_pdf_sha256'))
    )
    with op.batch_alter_table('certificate', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_certificate_document_number'), ['document_number'], unique=False)
        batch_op.create_index(batch_op.f('ix_certificate_lot_id'), ['lot_id'], unique=False)

    op.create_table('label_print',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('printed_by_id', sa.Integer(), nullable=False),
    sa.Column('printed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reprint', sa.Boolean(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('stock', sa.String(length=20), nullable=False),
    sa.Column('lot_state', sa.String(length=24), nullable=False),
    sa.ForeignKeyConstraint(['printed_by_id'], ['user_account.id'], name=op.f('fk_label_print_printed_by_id_user_account')),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_label_print_unit_id_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_label_print'))
    )
    with op.batch_alter_table('label_print', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_label_print_unit_id'), ['unit_id'], unique=False)

    for statement in record_guard_statements(
        op.get_bind().dialect.name, DOCUMENT_GUARDS, GUARDS_0004
    ):
        op.execute(statement)


def downgrade() -> None:
    for statement in record_unguard_statements(op.get_bind().dialect.name, DOCUMENT_GUARDS):
        op.execute(statement)
    with op.batch_alter_table('label_print', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_label_print_unit_id'))

    op.drop_table('label_print')
    with op.batch_alter_table('certificate', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_certificate_lot_id'))
        batch_op.drop_index(batch_op.f('ix_certificate_document_number'))

    op.drop_table('certificate')
