"""indexes for the lookups the checks make and the order of every paginated list

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-26 02:00:00

Plain CREATE INDEX (no batch copy of any table) so the append-only triggers stay in place.
"""

from __future__ import annotations

from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

# (index name, table, column): names follow the models' naming convention ix_<table>_<column>.
INDEXES = (
    ('ix_lot_created_at', 'lot', 'created_at'),  # the lot list, newest first
    ('ix_unit_state', 'unit', 'state'),  # units that may be allocated
    ('ix_production_run_started_on', 'production_run', 'started_on'),  # the run list
    ('ix_investigation_opened_at', 'investigation', 'opened_at'),  # the investigation list
    ('ix_deviation_opened_at', 'deviation', 'opened_at'),  # the deviation list
    ('ix_containment_created_at', 'containment', 'created_at'),  # the hold and recall list
    ('ix_containment_lot_lot_id', 'containment_lot', 'lot_id'),  # a lot's holds and recalls
    ('ix_prescription_status', 'prescription', 'status'),  # open prescriptions to allocate
    ('ix_infusion_started_at', 'infusion', 'started_at'),  # the infusion list
    ('ix_infusion_scan_id', 'infusion', 'scan_id'),  # the infusion a bedside check led to
    ('ix_adverse_event_onset_on', 'adverse_event', 'onset_on'),  # the adverse event list
)


def upgrade() -> None:
    for name, table, column in INDEXES:
        op.create_index(name, table, [column], unique=False)


def downgrade() -> None:
    for name, table, _column in reversed(INDEXES):
        op.drop_index(name, table_name=table)
