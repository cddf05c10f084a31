"""typed states: a CHECK constraint on every state and kind column, from the enum it holds

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04 09:00:00

On PostgreSQL each constraint is a plain ALTER TABLE ... ADD CONSTRAINT (no table copy); existing
rows are checked as it is added, so a value outside its enum stops the upgrade and changes nothing.
SQLite adds a constraint only by copying the table (batch mode), which drops the table's
triggers: each copied table's triggers are read from sqlite_master first and created again after
the copy, so the append-only guards stay exactly as they were. Foreign keys are off during the
copies and checked before commit (env.py).

The values are frozen here as they stand at this revision; a later change to an enum needs its own
revision (tests/test_migrations.py compares these constraints with the models').
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

LOT_STATES = (
    'QUARANTINE', 'RELEASED', 'REJECTED', 'ON_HOLD', 'EXCEPTIONAL_RELEASE', 'RECALLED',
)
UNIT_STATES = (
    'stored', 'in_transit', 'received', 'missing', 'thawed', 'infused', 'destroyed',
)
OPEN_CLOSED = ('open', 'closed')

# table -> column -> the values it may hold; the constraint is ck_<table>_<column>.
CHECKS: dict[str, dict[str, tuple[str, ...]]] = {
    'user_account': {
        'role': ('technician', 'qa', 'medical_director', 'clinical', 'admin'),
    },
    'donor': {'determination': ('eligible', 'ineligible', 'incomplete')},
    'spec_version': {'stage': ('release', 'MCB', 'WCB', 'in-process')},
    'cell_bank': {
        'tier': ('MCB', 'WCB'),
        'qualification': ('pending', 'qualified', 'not_qualified'),
    },
    'vial': {'state': ('stored', 'withdrawn', 'destroyed')},
    'lot': {'state': LOT_STATES, 'held_from': LOT_STATES},
    'unit': {'container': ('bag', 'vial'), 'state': UNIT_STATES},
    'result': {'verdict': ('pass', 'alert', 'fail', 'pending', 'invalid', 'missing')},
    'investigation': {
        'status': OPEN_CLOSED,
        'conclusion': ('confirmed_oos', 'invalidated'),
    },
    'deviation': {'status': OPEN_CLOSED},
    'exceptional_release': {'status': ('pending', 'approved', 'withdrawn')},
    'containment': {'kind': ('hold', 'recall', 'lookback')},
    'containment_lot': {'from_state': LOT_STATES, 'to_state': LOT_STATES},
    'signature': {
        'action': (
            'release', 'reject', 'hold', 'unhold', 'recall', 'exceptional_release',
            'exceptional_acceptance', 'review',
        ),
    },
    'notification': {'recipient_role': ('physician', 'sponsor', 'site')},
    'label_print': {'lot_state': LOT_STATES},
    'prescription': {'status': ('open',)},
    'shipment': {'status': ('in_transit', 'received', 'discrepancy')},
    'bedside_scan': {'method': ('wedge', 'camera', 'photo', 'typed')},
    'adverse_event': {
        'attribution': ('unrelated', 'unlikely', 'possible', 'probable', 'definite'),
        'outcome': (
            'recovered', 'recovering', 'not_recovered', 'recovered_with_sequelae', 'fatal',
            'unknown',
        ),
    },
    'follow_up': {'response': ('improved', 'stable', 'worse')},
}


def _name(table: str, column: str) -> str:
    return f'ck_{table}_{column}'


def _condition(column: str, values: tuple[str, ...]) -> str:
    # As SQLAlchemy renders an Enum's constraint; NULL passes (a nullable column may be empty).
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _sqlite_triggers(table: str) -> list[str]:
    rows = op.get_bind().execute(
        sa.text(
            "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = :t ORDER BY name"
        ),
        {'t': table},
    )
    return [sql for (sql,) in rows]


# Foreign keys SQLite's reflection reads without their name (revision 0009 added this one inline
# with ADD COLUMN): declared again so that the copy keeps the name.
REFLECT_ARGS = {
    'exceptional_release': [
        sa.Column(
            'patient_id',
            sa.Integer(),
            sa.ForeignKey('patient.id', name='fk_exceptional_release_patient_id_patient'),
            nullable=True,
        )
    ],
}


def _copy(table: str, change) -> None:
    """SQLite: rebuild `table` with `change` applied, keeping its triggers."""
    triggers = _sqlite_triggers(table)
    reflect_args = REFLECT_ARGS.get(table, ())
    with op.batch_alter_table(table, recreate='always', reflect_args=reflect_args) as batch:
        change(batch)
    for sql in triggers:
        op.execute(sql)


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == 'sqlite'
    for table, columns in CHECKS.items():
        if sqlite:

            def add(batch, columns=columns, table=table) -> None:
                for column, values in columns.items():
                    batch.create_check_constraint(
                        batch.f(_name(table, column)), _condition(column, values)
                    )

            _copy(table, add)
        else:
            for column, values in columns.items():
                op.create_check_constraint(
                    op.f(_name(table, column)), table, _condition(column, values)
                )


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == 'sqlite'
    for table, columns in reversed(CHECKS.items()):
        if sqlite:

            def drop(batch, columns=columns, table=table) -> None:
                for column in columns:
                    batch.drop_constraint(batch.f(_name(table, column)), type_='check')

            _copy(table, drop)
        else:
            for column in columns:
                op.drop_constraint(op.f(_name(table, column)), table, type_='check')
