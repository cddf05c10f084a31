"""label print output: what each print produced, a PDF or ZPL for a thermal printer, and the dpi
the ZPL was laid out for

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-04 14:00:00

Two columns with their CHECK constraints; every print logged before this revision was a PDF (the
server default). Plain ADD COLUMN on both databases (on SQLite the constraints go with the
column, since SQLite adds a table constraint only by copying the table), so no row is copied and
no trigger is dropped. label_print's guard is then made again to cover the new columns: a print
never changes what it says it produced. The guarded columns are frozen here as they stand at
this revision.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from lotrack.migrations.guards import record_guard_statements, record_unguard_statements

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None

PRINTED = ('unit_id', 'printed_by_id', 'printed_at', 'reprint', 'reason', 'stock', 'lot_state')
GUARDS_0004 = {'label_print': (PRINTED, ())}
GUARDS_0018 = {'label_print': ((*PRINTED, 'output', 'dpi'), ())}
OUTPUT_CHECK = "output IN ('pdf', 'zpl')"
# NOT NULL spelled out: a CHECK whose condition is NULL passes.
DPI_CHECK = (
    "(output = 'pdf' AND dpi IS NULL)"
    " OR (output = 'zpl' AND dpi IS NOT NULL AND dpi IN (203, 300))"
)


def _guard(dialect: str, guards: dict) -> None:
    for statement in record_unguard_statements(dialect, ('label_print',)):
        op.execute(statement)
    for statement in record_guard_statements(dialect, ('label_print',), guards):
        op.execute(statement)


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == 'sqlite':
        op.execute(
            "ALTER TABLE label_print ADD COLUMN output VARCHAR(3) DEFAULT 'pdf' NOT NULL"
            f' CONSTRAINT ck_label_print_output CHECK ({OUTPUT_CHECK})'
        )
        op.execute(
            'ALTER TABLE label_print ADD COLUMN dpi INTEGER'
            f' CONSTRAINT ck_label_print_dpi_of_output CHECK ({DPI_CHECK})'
        )
    else:
        op.add_column(
            'label_print',
            sa.Column('output', sa.String(length=3), nullable=False, server_default='pdf'),
        )
        op.add_column('label_print', sa.Column('dpi', sa.Integer(), nullable=True))
        op.create_check_constraint(op.f('ck_label_print_output'), 'label_print', OUTPUT_CHECK)
        op.create_check_constraint(
            op.f('ck_label_print_dpi_of_output'), 'label_print', DPI_CHECK
        )
    _guard(dialect, GUARDS_0018)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    # The guard's trigger reads the columns (SQLite refuses to drop a column a trigger reads): it
    # goes first, then the columns with their constraints, then the guard as revision 0004 made it.
    for statement in record_unguard_statements(dialect, ('label_print',)):
        op.execute(statement)
    if dialect == 'sqlite':
        op.execute('ALTER TABLE label_print DROP COLUMN dpi')
        op.execute('ALTER TABLE label_print DROP COLUMN output')
    else:
        op.drop_constraint(op.f('ck_label_print_dpi_of_output'), 'label_print', type_='check')
        op.drop_constraint(op.f('ck_label_print_output'), 'label_print', type_='check')
        op.drop_column('label_print', 'dpi')
        op.drop_column('label_print', 'output')
    for statement in record_guard_statements(dialect, ('label_print',), GUARDS_0004):
        op.execute(statement)
