"""adverse events: SOC, "Other, specify" name, awareness date, expectedness and a measured grade
on the event; append-only follow-ups and reports; every adverse-event row guarded

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-04 14:00:00

0018 is another branch's; the merge re-chains. Plain ADD COLUMNs on adverse_event (no batch
copy), two new tables, then the guards: none of the three tables' rows is ever changed or
deleted (an event's current state is computed from its follow-ups). The guarded columns are
frozen here as they stand at this revision.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from lotrack.migrations.guards import record_guard_statements, record_unguard_statements

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None

TABLES = ('adverse_event', 'adverse_event_update', 'adverse_event_report')
ATTRIBUTIONS = ('unrelated', 'unlikely', 'possible', 'probable', 'definite')
OUTCOMES = (
    'recovered', 'recovering', 'not_recovered', 'recovered_with_sequelae', 'fatal', 'unknown',
)
KINDS = ('sponsor', 'regulatory')
NEW_COLUMNS = ('soc', 'specify', 'aware_on', 'expected', 'measurement', 'proposed_grade',
               'grade_reason')
GUARDS = {  # guards.py RECORD_GUARDS
    'adverse_event': (
        (
            'patient_id', 'infusion_id', 'term', 'meddra', 'soc', 'specify', 'grade', 'onset_on',
            'aware_on', 'attribution', 'serious', 'seriousness', 'expected', 'report_due_on',
            'outcome', 'description', 'measurement', 'proposed_grade', 'grade_reason',
            'reported_by_id', 'reported_at',
        ),
        (),
    ),
    'adverse_event_update': (
        (
            'adverse_event_id', 'aware_on', 'grade', 'outcome', 'resolved_on', 'attribution',
            'seriousness', 'treatment', 'note', 'reason', 'recorded_by_id', 'recorded_at',
        ),
        (),
    ),
    'adverse_event_report': (
        (
            'adverse_event_id', 'kind', 'reported_on', 'reported_by', 'recipient', 'reference',
            'recorded_by_id', 'recorded_at',
        ),
        (),
    ),
}


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f'{target}.id'], name=op.f(f'fk_{table}_{column}_{target}')
    )


def upgrade() -> None:
    op.add_column('adverse_event', sa.Column('soc', sa.String(120), nullable=False, server_default=''))
    op.add_column(
        'adverse_event', sa.Column('specify', sa.String(200), nullable=False, server_default='')
    )
    op.add_column('adverse_event', sa.Column('aware_on', sa.Date(), nullable=True))
    op.add_column('adverse_event', sa.Column('expected', sa.Boolean(), nullable=True))
    op.add_column(
        'adverse_event', sa.Column('measurement', sa.Text(), nullable=False, server_default='')
    )
    op.add_column('adverse_event', sa.Column('proposed_grade', sa.Integer(), nullable=True))
    op.add_column(
        'adverse_event', sa.Column('grade_reason', sa.Text(), nullable=False, server_default='')
    )
    t = 'adverse_event_update'
    op.create_table(
        t,
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('adverse_event_id', sa.Integer(), nullable=False),
        sa.Column('aware_on', sa.Date(), nullable=False),
        sa.Column('grade', sa.Integer(), nullable=True),
        sa.Column('outcome', sa.String(length=24), nullable=True),
        sa.Column('resolved_on', sa.Date(), nullable=True),
        sa.Column('attribution', sa.String(length=12), nullable=True),
        sa.Column('seriousness', sa.Text(), nullable=True),
        sa.Column('treatment', sa.Text(), nullable=False),
        sa.Column('note', sa.Text(), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('recorded_by_id', sa.Integer(), nullable=False),
        sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint('grade IS NULL OR grade BETWEEN 1 AND 5', name=op.f(f'ck_{t}_grade_range')),
        sa.CheckConstraint(_one_of('outcome', OUTCOMES), name=op.f(f'ck_{t}_outcome')),
        sa.CheckConstraint(_one_of('attribution', ATTRIBUTIONS), name=op.f(f'ck_{t}_attribution')),
        _fk(t, 'adverse_event_id', 'adverse_event'),
        _fk(t, 'recorded_by_id', 'user_account'),
        sa.PrimaryKeyConstraint('id', name=op.f(f'pk_{t}')),
    )
    op.create_index(op.f(f'ix_{t}_adverse_event_id'), t, ['adverse_event_id'])
    t = 'adverse_event_report'
    op.create_table(
        t,
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('adverse_event_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=12), nullable=False),
        sa.Column('reported_on', sa.Date(), nullable=False),
        sa.Column('reported_by', sa.String(length=120), nullable=False),
        sa.Column('recipient', sa.String(length=200), nullable=False),
        sa.Column('reference', sa.String(length=120), nullable=False),
        sa.Column('recorded_by_id', sa.Integer(), nullable=False),
        sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(_one_of('kind', KINDS), name=op.f(f'ck_{t}_kind')),
        _fk(t, 'adverse_event_id', 'adverse_event'),
        _fk(t, 'recorded_by_id', 'user_account'),
        sa.PrimaryKeyConstraint('id', name=op.f(f'pk_{t}')),
    )
    op.create_index(op.f(f'ix_{t}_adverse_event_id'), t, ['adverse_event_id'])
    for statement in record_guard_statements(op.get_bind().dialect.name, TABLES, GUARDS):
        op.execute(statement)


def downgrade() -> None:
    for statement in record_unguard_statements(op.get_bind().dialect.name, TABLES):
        op.execute(statement)
    for t in ('adverse_event_report', 'adverse_event_update'):
        op.drop_index(op.f(f'ix_{t}_adverse_event_id'), t)
        op.drop_table(t)
    with op.batch_alter_table('adverse_event') as batch:
        for column in NEW_COLUMNS:
            batch.drop_column(column)
