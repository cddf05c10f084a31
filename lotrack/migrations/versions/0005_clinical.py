"""clinical sites: patients, prescriptions, shipments, bedside scans, infusions, adverse events

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25 23:02:38.364380
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from lotrack.migrations.guards import record_guard_statements, record_unguard_statements

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

CLINICAL_GUARDS = ("bedside_scan", "infusion", "thaw")


def upgrade() -> None:
    op.create_table('patient',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('subject_code', sa.String(length=32), nullable=False),
    sa.Column('wristband', sa.String(length=64), nullable=False),
    sa.Column('weight_kg', sa.Numeric(precision=6, scale=2), nullable=False),
    sa.Column('indication', sa.String(length=24), nullable=False),
    sa.Column('cohort', sa.String(length=24), nullable=False),
    sa.Column('consent_date', sa.Date(), nullable=True),
    sa.Column('eligibility', sa.Text(), nullable=False),
    sa.Column('eligibility_by_id', sa.Integer(), nullable=True),
    sa.Column('eligibility_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('weight_kg > 0', name=op.f('ck_patient_weight_positive')),
    sa.ForeignKeyConstraint(['eligibility_by_id'], ['user_account.id'], name=op.f('fk_patient_eligibility_by_id_user_account')),
    sa.ForeignKeyConstraint(['site_id'], ['site.id'], name=op.f('fk_patient_site_id_site')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_patient')),
    sa.UniqueConstraint('site_id', 'subject_code', name=op.f('uq_patient_site_id_subject_code')),
    sa.UniqueConstraint('wristband', name=op.f('uq_patient_wristband'))
    )
    with op.batch_alter_table('patient', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_patient_site_id'), ['site_id'], unique=False)

    op.create_table('shipment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=20), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('shipped_by_id', sa.Integer(), nullable=False),
    sa.Column('shipped_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('received_by_id', sa.Integer(), nullable=True),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('condition', sa.Text(), nullable=True),
    sa.Column('temperature_record', sa.Text(), nullable=True),
    sa.Column('discrepancy', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['received_by_id'], ['user_account.id'], name=op.f('fk_shipment_received_by_id_user_account')),
    sa.ForeignKeyConstraint(['shipped_by_id'], ['user_account.id'], name=op.f('fk_shipment_shipped_by_id_user_account')),
    sa.ForeignKeyConstraint(['site_id'], ['site.id'], name=op.f('fk_shipment_site_id_site')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_shipment')),
    sa.UniqueConstraint('number', name=op.f('uq_shipment_number'))
    )
    with op.batch_alter_table('shipment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_shipment_site_id'), ['site_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_shipment_status'), ['status'], unique=False)

    op.create_table('follow_up',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('visit_on', sa.Date(), nullable=False),
    sa.Column('response', sa.String(length=12), nullable=False),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['patient_id'], ['patient.id'], name=op.f('fk_follow_up_patient_id_patient')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['user_account.id'], name=op.f('fk_follow_up_recorded_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_follow_up')),
    sa.UniqueConstraint('patient_id', name=op.f('uq_follow_up_patient_id'))
    )
    op.create_table('prescription',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('dose_per_kg', sa.BigInteger(), nullable=False),
    sa.Column('weight_kg', sa.Numeric(precision=6, scale=2), nullable=False),
    sa.Column('cells_needed', sa.BigInteger(), nullable=False),
    sa.Column('tolerance', sa.Numeric(precision=4, scale=2), nullable=False),
    sa.Column('planned_on', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('prescribed_by_id', sa.Integer(), nullable=False),
    sa.Column('prescribed_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('cells_needed > 0', name=op.f('ck_prescription_cells_positive')),
    sa.ForeignKeyConstraint(['patient_id'], ['patient.id'], name=op.f('fk_prescription_patient_id_patient')),
    sa.ForeignKeyConstraint(['prescribed_by_id'], ['user_account.id'], name=op.f('fk_prescription_prescribed_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_prescription'))
    )
    with op.batch_alter_table('prescription', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_prescription_patient_id'), ['patient_id'], unique=False)

    op.create_table('allocation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('prescription_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('allocated_by_id', sa.Integer(), nullable=False),
    sa.Column('allocated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['allocated_by_id'], ['user_account.id'], name=op.f('fk_allocation_allocated_by_id_user_account')),
    sa.ForeignKeyConstraint(['prescription_id'], ['prescription.id'], name=op.f('fk_allocation_prescription_id_prescription')),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_allocation_unit_id_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_allocation')),
    sa.UniqueConstraint('unit_id', name=op.f('uq_allocation_unit_id'))
    )
    with op.batch_alter_table('allocation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_allocation_prescription_id'), ['prescription_id'], unique=False)

    op.create_table('bedside_scan',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=True),
    sa.Column('patient_text', sa.String(length=200), nullable=False),
    sa.Column('scan_text', sa.String(length=400), nullable=False),
    sa.Column('method', sa.String(length=12), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=True),
    sa.Column('unit_id', sa.Integer(), nullable=True),
    sa.Column('go', sa.Boolean(), nullable=False),
    sa.Column('reasons', sa.Text(), nullable=False),
    sa.Column('scanned_by_id', sa.Integer(), nullable=False),
    sa.Column('scanned_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['patient_id'], ['patient.id'], name=op.f('fk_bedside_scan_patient_id_patient')),
    sa.ForeignKeyConstraint(['scanned_by_id'], ['user_account.id'], name=op.f('fk_bedside_scan_scanned_by_id_user_account')),
    sa.ForeignKeyConstraint(['site_id'], ['site.id'], name=op.f('fk_bedside_scan_site_id_site')),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_bedside_scan_unit_id_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bedside_scan'))
    )
    with op.batch_alter_table('bedside_scan', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bedside_scan_patient_id'), ['patient_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_bedside_scan_site_id'), ['site_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_bedside_scan_unit_id'), ['unit_id'], unique=False)

    op.create_table('shipment_unit',
    sa.Column('shipment_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('received', sa.Boolean(), nullable=True),
    sa.ForeignKeyConstraint(['shipment_id'], ['shipment.id'], name=op.f('fk_shipment_unit_shipment_id_shipment')),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_shipment_unit_unit_id_unit')),
    sa.PrimaryKeyConstraint('shipment_id', 'unit_id', name=op.f('pk_shipment_unit'))
    )
    with op.batch_alter_table('shipment_unit', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_shipment_unit_unit_id'), ['unit_id'], unique=False)

    op.create_table('thaw',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('thawed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['user_account.id'], name=op.f('fk_thaw_recorded_by_id_user_account')),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_thaw_unit_id_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_thaw')),
    sa.UniqueConstraint('unit_id', name=op.f('uq_thaw_unit_id'))
    )
    op.create_table('infusion',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('prescription_id', sa.Integer(), nullable=False),
    sa.Column('scan_id', sa.Integer(), nullable=False),
    sa.Column('thawed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('stopped_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('volume_ml', sa.Numeric(precision=8, scale=2), nullable=True),
    sa.Column('operator_id', sa.Integer(), nullable=False),
    sa.Column('witness_id', sa.Integer(), nullable=False),
    sa.Column('premedication', sa.Text(), nullable=False),
    sa.Column('vital_signs', sa.Text(), nullable=False),
    sa.Column('immediate_reactions', sa.Text(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('witness_id <> operator_id', name=op.f('ck_infusion_witness_is_another_person')),
    sa.ForeignKeyConstraint(['operator_id'], ['user_account.id'], name=op.f('fk_infusion_operator_id_user_account')),
    sa.ForeignKeyConstraint(['patient_id'], ['patient.id'], name=op.f('fk_infusion_patient_id_patient')),
    sa.ForeignKeyConstraint(['prescription_id'], ['prescription.id'], name=op.f('fk_infusion_prescription_id_prescription')),
    sa.ForeignKeyConstraint(['scan_id'], ['bedside_scan.id'], name=op.f('fk_infusion_scan_id_bedside_scan')),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_infusion_unit_id_unit')),
    sa.ForeignKeyConstraint(['witness_id'], ['user_account.id'], name=op.f('fk_infusion_witness_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_infusion')),
    sa.UniqueConstraint('unit_id', name=op.f('uq_infusion_unit_id'))
    )
    with op.batch_alter_table('infusion', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_infusion_patient_id'), ['patient_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_infusion_prescription_id'), ['prescription_id'], unique=False)

    op.create_table('adverse_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('infusion_id', sa.Integer(), nullable=True),
    sa.Column('term', sa.String(length=120), nullable=False),
    sa.Column('meddra', sa.String(length=12), nullable=False),
    sa.Column('grade', sa.Integer(), nullable=False),
    sa.Column('onset_on', sa.Date(), nullable=False),
    sa.Column('attribution', sa.String(length=12), nullable=False),
    sa.Column('serious', sa.Boolean(), nullable=False),
    sa.Column('seriousness', sa.Text(), nullable=False),
    sa.Column('report_due_on', sa.Date(), nullable=True),
    sa.Column('outcome', sa.String(length=24), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('reported_by_id', sa.Integer(), nullable=False),
    sa.Column('reported_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('grade BETWEEN 1 AND 5', name=op.f('ck_adverse_event_grade_range')),
    sa.ForeignKeyConstraint(['infusion_id'], ['infusion.id'], name=op.f('fk_adverse_event_infusion_id_infusion')),
    sa.ForeignKeyConstraint(['patient_id'], ['patient.id'], name=op.f('fk_adverse_event_patient_id_patient')),
    sa.ForeignKeyConstraint(['reported_by_id'], ['user_account.id'], name=op.f('fk_adverse_event_reported_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_adverse_event'))
    )
    with op.batch_alter_table('adverse_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_adverse_event_infusion_id'), ['infusion_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_adverse_event_patient_id'), ['patient_id'], unique=False)

    for statement in record_guard_statements(op.get_bind().dialect.name, CLINICAL_GUARDS):
        op.execute(statement)


def downgrade() -> None:
    for statement in record_unguard_statements(op.get_bind().dialect.name, CLINICAL_GUARDS):
        op.execute(statement)
    with op.batch_alter_table('adverse_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_adverse_event_patient_id'))
        batch_op.drop_index(batch_op.f('ix_adverse_event_infusion_id'))

    op.drop_table('adverse_event')
    with op.batch_alter_table('infusion', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_infusion_prescription_id'))
        batch_op.drop_index(batch_op.f('ix_infusion_patient_id'))

    op.drop_table('infusion')
    op.drop_table('thaw')
    with op.batch_alter_table('shipment_unit', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_shipment_unit_unit_id'))

    op.drop_table('shipment_unit')
    with op.batch_alter_table('bedside_scan', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bedside_scan_unit_id'))
        batch_op.drop_index(batch_op.f('ix_bedside_scan_site_id'))
        batch_op.drop_index(batch_op.f('ix_bedside_scan_patient_id'))

    op.drop_table('bedside_scan')
    with op.batch_alter_table('allocation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_allocation_prescription_id'))

    op.drop_table('allocation')
    with op.batch_alter_table('prescription', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_prescription_patient_id'))

    op.drop_table('prescription')
    op.drop_table('follow_up')
    with op.batch_alter_table('shipment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_shipment_status'))
        batch_op.drop_index(batch_op.f('ix_shipment_site_id'))

    op.drop_table('shipment')
    with op.batch_alter_table('patient', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_patient_site_id'))

    op.drop_table('patient')
