"""materials, their received lots and uses; instruments with calibration and maintenance; a hold
or recall may concern a material lot; a material lot's incoming inspection is a signed record

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-04 14:00:00

New tables with their guards (material_use and equipment_event append-only; material,
material_lot and instrument guarded records, a material lot's state alone moving). Containment
gains material_lot_id and its one-scope CHECK counts three scopes; record_signature's kind and
meaning CHECKs take the material lot's. SQLite changes a CHECK only by copying the table, which
drops its triggers: they are read first and made again. Values and guards frozen here.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from lotrack.migrations.guards import (
    append_only_removed_statements,
    append_only_statements,
    record_guard_statements,
    record_unguard_statements,
)

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None

CATEGORIES = (
    'medium', 'serum', 'platelet_lysate', 'enzyme', 'cryoprotectant', 'reagent', 'bag',
)
MATERIAL_STATES = ('quarantine', 'approved', 'rejected', 'on_hold', 'recalled')
KINDS_BEFORE = ('cell_bank', 'spec_version', 'deviation', 'investigation')
MEANINGS_BEFORE = ('qualified', 'not qualified', 'approved', 'closed', 'concluded')
KINDS_AFTER = (*KINDS_BEFORE, 'material_lot')
MEANINGS_AFTER = (*MEANINGS_BEFORE, 'approved for use', 'rejected', 'hold lifted')
APPEND_ONLY = ('material_use', 'equipment_event')
GUARDED = ('material', 'material_lot', 'instrument')
GUARDS = {
    'material': (('code', 'name', 'category', 'supplier', 'catalogue_number', 'created_at'), ()),
    'material_lot': (
        (
            'number',
            'material_id',
            'supplier_lot',
            'received_on',
            'expires_on',
            'certificate_id',
            'received_by_id',
            'created_at',
        ),
        (),
    ),
    'instrument': (('code', 'name', 'created_at'), ()),
}
SCOPE_BEFORE = '(bank_id IS NULL) <> (lot_id IS NULL)'
SCOPE_AFTER = (
    '(CASE WHEN bank_id IS NULL THEN 0 ELSE 1 END) + '
    '(CASE WHEN lot_id IS NULL THEN 0 ELSE 1 END) + '
    '(CASE WHEN material_lot_id IS NULL THEN 0 ELSE 1 END) = 1'
)


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _by(column: str) -> sa.Column:
    return sa.Column(column, sa.Integer(), nullable=False)


def _user_fk(table: str, column: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], ['user_account.id'], name=op.f(f'fk_{table}_{column}_user_account')
    )


def _create_tables() -> None:
    op.create_table(
        'material',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('code', sa.String(length=32), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('category', sa.String(length=20), nullable=False),
        sa.Column('supplier', sa.String(length=200), nullable=False),
        sa.Column('catalogue_number', sa.String(length=60), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(_one_of('category', CATEGORIES), name=op.f('ck_material_category')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_material')),
        sa.UniqueConstraint('code', name=op.f('uq_material_code')),
    )
    op.create_table(
        'material_lot',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('number', sa.String(length=20), nullable=False),
        sa.Column('material_id', sa.Integer(), nullable=False),
        sa.Column('supplier_lot', sa.String(length=60), nullable=False),
        sa.Column('received_on', sa.Date(), nullable=False),
        sa.Column('expires_on', sa.Date(), nullable=False),
        sa.Column('certificate_id', sa.Integer(), nullable=False),
        sa.Column('state', sa.String(length=12), nullable=False),
        _by('received_by_id'),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(_one_of('state', MATERIAL_STATES), name=op.f('ck_material_lot_state')),
        sa.ForeignKeyConstraint(
            ['certificate_id'], ['attachment.id'],
            name=op.f('fk_material_lot_certificate_id_attachment'),
        ),
        sa.ForeignKeyConstraint(
            ['material_id'], ['material.id'], name=op.f('fk_material_lot_material_id_material')
        ),
        _user_fk('material_lot', 'received_by_id'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_material_lot')),
        sa.UniqueConstraint('number', name=op.f('uq_material_lot_number')),
    )
    op.create_index(op.f('ix_material_lot_material_id'), 'material_lot', ['material_id'])
    op.create_index(op.f('ix_material_lot_created_at'), 'material_lot', ['created_at'])
    op.create_table(
        'material_use',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('material_lot_id', sa.Integer(), nullable=False),
        sa.Column('run_id', sa.Integer(), nullable=True),
        sa.Column('passage_id', sa.Integer(), nullable=True),
        sa.Column('result_id', sa.Integer(), nullable=True),
        sa.Column('used_on', sa.Date(), nullable=False),
        sa.Column('strikes_id', sa.Integer(), nullable=True),
        sa.Column('reason', sa.Text(), nullable=False),
        _by('recorded_by_id'),
        sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            '(CASE WHEN run_id IS NULL THEN 0 ELSE 1 END) + '
            '(CASE WHEN passage_id IS NULL THEN 0 ELSE 1 END) + '
            '(CASE WHEN result_id IS NULL THEN 0 ELSE 1 END) = 1',
            name=op.f('ck_material_use_one_subject'),
        ),
        sa.ForeignKeyConstraint(
            ['material_lot_id'], ['material_lot.id'],
            name=op.f('fk_material_use_material_lot_id_material_lot'),
        ),
        sa.ForeignKeyConstraint(
            ['run_id'], ['production_run.id'], name=op.f('fk_material_use_run_id_production_run')
        ),
        sa.ForeignKeyConstraint(
            ['passage_id'], ['passage.id'], name=op.f('fk_material_use_passage_id_passage')
        ),
        sa.ForeignKeyConstraint(
            ['result_id'], ['result.id'], name=op.f('fk_material_use_result_id_result')
        ),
        sa.ForeignKeyConstraint(
            ['strikes_id'], ['material_use.id'], name=op.f('fk_material_use_strikes_id_material_use')
        ),
        _user_fk('material_use', 'recorded_by_id'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_material_use')),
        sa.UniqueConstraint('strikes_id', name=op.f('uq_material_use_strikes_id')),
    )
    for column in ('material_lot_id', 'run_id', 'passage_id', 'result_id'):
        op.create_index(op.f(f'ix_material_use_{column}'), 'material_use', [column])
    op.create_table(
        'instrument',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('code', sa.String(length=32), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_instrument')),
        sa.UniqueConstraint('code', name=op.f('uq_instrument_code')),
    )
    op.create_table(
        'equipment_event',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('instrument_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=12), nullable=False),
        sa.Column('performed_on', sa.Date(), nullable=False),
        sa.Column('due_on', sa.Date(), nullable=False),
        sa.Column('passed', sa.Boolean(), nullable=False),
        sa.Column('note', sa.Text(), nullable=False),
        _by('recorded_by_id'),
        sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            _one_of('kind', ('calibration', 'maintenance')), name=op.f('ck_equipment_event_kind')
        ),
        sa.CheckConstraint('due_on >= performed_on', name=op.f('ck_equipment_event_due_after')),
        sa.ForeignKeyConstraint(
            ['instrument_id'], ['instrument.id'],
            name=op.f('fk_equipment_event_instrument_id_instrument'),
        ),
        _user_fk('equipment_event', 'recorded_by_id'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_equipment_event')),
    )
    op.create_index(
        op.f('ix_equipment_event_instrument_id'), 'equipment_event', ['instrument_id']
    )


def _sqlite_triggers(table: str) -> list[str]:
    rows = op.get_bind().execute(
        sa.text("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = :t"),
        {'t': table},
    )
    return [sql for (sql,) in rows]


def _change(table: str, checks: dict[str, str], add_material_lot: bool = False) -> None:
    """Replace `table`'s named CHECKs (and add containment's column), keeping its triggers."""
    sqlite = op.get_bind().dialect.name == 'sqlite'
    triggers = _sqlite_triggers(table) if sqlite else []
    with op.batch_alter_table(table, recreate='always' if sqlite else 'auto') as batch:
        for name in checks:
            batch.drop_constraint(batch.f(f'ck_{table}_{name}'), type_='check')
        if add_material_lot:
            batch.add_column(sa.Column('material_lot_id', sa.Integer(), nullable=True))
            batch.create_foreign_key(
                batch.f('fk_containment_material_lot_id_material_lot'),
                'material_lot',
                ['material_lot_id'],
                ['id'],
            )
            batch.create_index(batch.f('ix_containment_material_lot_id'), ['material_lot_id'])
        for name, condition in checks.items():
            batch.create_check_constraint(batch.f(f'ck_{table}_{name}'), condition)
    for sql in triggers:
        op.execute(sql)


def upgrade() -> None:
    _create_tables()
    dialect = op.get_bind().dialect.name
    for table in APPEND_ONLY:
        for statement in append_only_statements(table, dialect):
            op.execute(statement)
    for statement in record_guard_statements(dialect, GUARDED, GUARDS):
        op.execute(statement)
    _change('containment', {'one_scope': SCOPE_AFTER}, add_material_lot=True)
    _change(
        'record_signature',
        {
            'subject_kind': _one_of('subject_kind', KINDS_AFTER),
            'meaning': _one_of('meaning', MEANINGS_AFTER),
        },
    )


def _forget_material_signatures(dialect: str) -> None:
    """The material lots go with this revision, and their inspection signatures with them (the
    narrower CHECK would refuse them); their guard is lifted for this delete only."""
    for statement in record_unguard_statements(dialect, ('record_signature',)):
        op.execute(statement)
    op.execute("DELETE FROM record_signature WHERE subject_kind = 'material_lot'")
    for statement in record_guard_statements(dialect, ('record_signature',)):
        op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    held = op.get_bind().scalar(
        sa.text('SELECT count(*) FROM containment WHERE material_lot_id IS NOT NULL')
    )
    if held:
        # Their lots' signatures and notifications name them: nothing to drop them to.
        raise RuntimeError(
            f'{held} hold(s) or recall(s) of a material lot exist: revision 0020 cannot be taken'
            ' down without losing them'
        )
    _forget_material_signatures(dialect)
    _change(
        'record_signature',
        {
            'subject_kind': _one_of('subject_kind', KINDS_BEFORE),
            'meaning': _one_of('meaning', MEANINGS_BEFORE),
        },
    )
    sqlite = dialect == 'sqlite'
    with op.batch_alter_table('containment', recreate='always' if sqlite else 'auto') as batch:
        batch.drop_constraint(batch.f('ck_containment_one_scope'), type_='check')
        batch.drop_index(batch.f('ix_containment_material_lot_id'))
        if not sqlite:
            batch.drop_constraint(
                batch.f('fk_containment_material_lot_id_material_lot'), type_='foreignkey'
            )
        batch.drop_column('material_lot_id')
        batch.create_check_constraint(batch.f('ck_containment_one_scope'), SCOPE_BEFORE)
    for statement in record_unguard_statements(dialect, GUARDED):
        op.execute(statement)
    for table in APPEND_ONLY:
        for statement in append_only_removed_statements(table, dialect):
            op.execute(statement)
    for table in ('equipment_event', 'instrument', 'material_use', 'material_lot', 'material'):
        op.drop_table(table)
