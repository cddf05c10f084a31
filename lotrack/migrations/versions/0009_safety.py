"""one release rule and its lookback: exceptional releases name their patient and the blockers
they accept, lookback holds name their trigger, a unit is on one shipment ever and its state
follows where it is, the infusion witness signs

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 17:00:00

Plain ADD COLUMN and CREATE INDEX (no batch copy), so the append-only triggers stay in place; the
infusion guard is re-created to cover the witness signature.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from lotrack.migrations.guards import (
    RECORD_GUARDS,
    record_guard_statements,
    record_unguard_statements,
)

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

INFUSION_0005 = {"infusion": RECORD_GUARDS["infusion"]}
# The witness's signature is written with the infusion and never changes afterwards.
INFUSION_0009 = {
    "infusion": (
        (*RECORD_GUARDS["infusion"][0], "witness_meaning", "witness_signed_at"),
        RECORD_GUARDS["infusion"][1],
    )
}

# A unit's state from the records that already say where it is (latest first).
UNIT_STATES = (
    ("infused", "EXISTS (SELECT 1 FROM infusion i WHERE i.unit_id = unit.id)"),
    ("thawed", "EXISTS (SELECT 1 FROM thaw t WHERE t.unit_id = unit.id)"),
    ("received", "EXISTS (SELECT 1 FROM shipment_unit su WHERE su.unit_id = unit.id AND su.received)"),
    ("missing", "EXISTS (SELECT 1 FROM shipment_unit su WHERE su.unit_id = unit.id AND NOT su.received)"),
    (
        "in_transit",
        "EXISTS (SELECT 1 FROM shipment_unit su JOIN shipment s ON s.id = su.shipment_id"
        " WHERE su.unit_id = unit.id AND s.status = 'in_transit')",
    ),
)


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    fk = 'fk_exceptional_release_patient_id_patient'
    if dialect == 'sqlite':
        # ADD COLUMN ... REFERENCES: SQLite takes a foreign key this way without copying the
        # table (Alembic offers only the copy, which would drop the append-only triggers' kin).
        op.execute(
            'ALTER TABLE exceptional_release ADD COLUMN patient_id INTEGER'
            f' CONSTRAINT {fk} REFERENCES patient (id)'
        )
    else:
        op.add_column(
            'exceptional_release',
            sa.Column('patient_id', sa.Integer(), sa.ForeignKey('patient.id', name=fk)),
        )
    op.add_column(
        'exceptional_release',
        sa.Column('blocker_keys', sa.Text(), nullable=False, server_default='[]'),
    )
    op.create_index('ix_exceptional_release_patient_id', 'exceptional_release', ['patient_id'])
    # The request's patient as typed: its record where the wristband names one.
    op.execute(
        "UPDATE exceptional_release SET patient_id ="
        " (SELECT p.id FROM patient p WHERE p.wristband = exceptional_release.patient)"
    )
    op.add_column('containment', sa.Column('trigger_entity', sa.String(40), nullable=True))
    op.add_column('containment', sa.Column('trigger_id', sa.String(40), nullable=True))
    op.add_column('infusion', sa.Column('witness_meaning', sa.String(40), nullable=True))
    op.add_column(
        'infusion', sa.Column('witness_signed_at', sa.DateTime(timezone=True), nullable=True)
    )
    for statement in record_unguard_statements(dialect, ("infusion",)):
        op.execute(statement)
    for statement in record_guard_statements(dialect, ("infusion",), INFUSION_0009):
        op.execute(statement)
    op.drop_index('ix_shipment_unit_unit_id', table_name='shipment_unit')
    op.create_index('ix_shipment_unit_unit_id', 'shipment_unit', ['unit_id'], unique=True)
    for state, condition in UNIT_STATES:
        op.execute(
            f"UPDATE unit SET state = '{state}' WHERE state = 'stored' AND {condition}"  # noqa: S608
        )


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.execute(
        "UPDATE unit SET state = 'stored' WHERE state IN"
        " ('in_transit', 'received', 'missing', 'thawed', 'infused')"
    )
    op.drop_index('ix_shipment_unit_unit_id', table_name='shipment_unit')
    op.create_index('ix_shipment_unit_unit_id', 'shipment_unit', ['unit_id'], unique=False)
    for statement in record_unguard_statements(dialect, ("infusion",)):
        op.execute(statement)
    with op.batch_alter_table('infusion') as batch:
        batch.drop_column('witness_signed_at')
        batch.drop_column('witness_meaning')
    for statement in record_guard_statements(dialect, ("infusion",), INFUSION_0005):
        op.execute(statement)
    with op.batch_alter_table('containment') as batch:
        batch.drop_column('trigger_id')
        batch.drop_column('trigger_entity')
    if dialect == 'postgresql':
        op.drop_constraint(
            'fk_exceptional_release_patient_id_patient', 'exceptional_release', type_='foreignkey'
        )
    op.drop_index('ix_exceptional_release_patient_id', table_name='exceptional_release')
    with op.batch_alter_table('exceptional_release') as batch:
        batch.drop_column('blocker_keys')
        batch.drop_column('patient_id')
