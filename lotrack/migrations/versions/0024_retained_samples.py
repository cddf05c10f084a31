"""retained samples of lots and cell banks, and their withdrawals

Revision ID: 0024
Revises: 0021
Create Date: 2026-12-04 16:10:00

Two new append-only tables (no UPDATE, DELETE or TRUNCATE): what is left of a sample is computed
from its withdrawals, never stored. Values frozen here.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from lotrack.migrations.guards import append_only_removed_statements, append_only_statements

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None

TYPES = ("cells", "supernatant", "pellet")
CONTAINERS = ("cryovial", "bag", "tube")
UNITS = ("vial", "bag", "mL")
REASONS = ("retest", "investigation", "other")
APPEND_ONLY = ("retained_sample", "retained_sample_withdrawal")


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}")
    )


def upgrade() -> None:
    op.create_table(
        "retained_sample",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=20), nullable=False),
        sa.Column("lot_id", sa.Integer(), nullable=True),
        sa.Column("bank_id", sa.Integer(), nullable=True),
        sa.Column("sample_type", sa.String(length=12), nullable=False),
        sa.Column("container", sa.String(length=12), nullable=False),
        sa.Column("quantity", sa.Numeric(10, 3), nullable=False),
        sa.Column("unit", sa.String(length=8), nullable=False),
        sa.Column("freezer", sa.String(length=40), nullable=False),
        sa.Column("rack", sa.String(length=20), nullable=False),
        sa.Column("box", sa.String(length=20), nullable=False),
        sa.Column("position", sa.String(length=20), nullable=False),
        sa.Column("laid_down_on", sa.Date(), nullable=False),
        sa.Column("retain_until", sa.Date(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("laid_down_by_id", sa.Integer(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(lot_id IS NULL) <> (bank_id IS NULL)", name=op.f("ck_retained_sample_one_subject")
        ),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_retained_sample_quantity_positive")),
        sa.CheckConstraint(
            _one_of("sample_type", TYPES), name=op.f("ck_retained_sample_sample_type")
        ),
        sa.CheckConstraint(
            _one_of("container", CONTAINERS), name=op.f("ck_retained_sample_container")
        ),
        sa.CheckConstraint(_one_of("unit", UNITS), name=op.f("ck_retained_sample_unit")),
        _fk("retained_sample", "lot_id", "lot"),
        _fk("retained_sample", "bank_id", "cell_bank"),
        sa.ForeignKeyConstraint(
            ["laid_down_by_id"],
            ["user_account.id"],
            name=op.f("fk_retained_sample_laid_down_by_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_retained_sample")),
        sa.UniqueConstraint("number", name=op.f("uq_retained_sample_number")),
    )
    for column in ("lot_id", "bank_id", "recorded_at"):
        op.create_index(op.f(f"ix_retained_sample_{column}"), "retained_sample", [column])
    table = "retained_sample_withdrawal"
    op.create_table(
        table,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sample_id", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.Numeric(10, 3), nullable=False),
        sa.Column("reason", sa.String(length=16), nullable=False),
        sa.Column("result_id", sa.Integer(), nullable=True),
        sa.Column("investigation_id", sa.Integer(), nullable=True),
        sa.Column("deviation_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("withdrawn_on", sa.Date(), nullable=False),
        sa.Column("withdrawn_by_id", sa.Integer(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("quantity > 0", name=op.f(f"ck_{table}_quantity_positive")),
        sa.CheckConstraint(
            "(reason <> 'retest' OR result_id IS NOT NULL) AND (reason <> 'investigation' OR"
            " investigation_id IS NOT NULL OR deviation_id IS NOT NULL)",
            name=op.f(f"ck_{table}_linked"),
        ),
        sa.CheckConstraint(_one_of("reason", REASONS), name=op.f(f"ck_{table}_reason")),
        _fk(table, "sample_id", "retained_sample"),
        _fk(table, "result_id", "result"),
        _fk(table, "investigation_id", "investigation"),
        _fk(table, "deviation_id", "deviation"),
        sa.ForeignKeyConstraint(
            ["withdrawn_by_id"],
            ["user_account.id"],
            name=op.f(f"fk_{table}_withdrawn_by_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
    )
    for column in ("sample_id", "result_id", "investigation_id", "deviation_id"):
        op.create_index(op.f(f"ix_{table}_{column}"), table, [column])
    dialect = op.get_bind().dialect.name
    for name in APPEND_ONLY:
        for statement in append_only_statements(name, dialect):
            op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for name in APPEND_ONLY:
        for statement in append_only_removed_statements(name, dialect):
            op.execute(statement)
    op.drop_table("retained_sample_withdrawal")
    op.drop_table("retained_sample")
