"""cold chain: a shipment's temperature-logger record as judged at receipt, and QA's signed
decision on an excursion

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-04 16:30:00

New tables, both append-only (triggers refuse an update or a delete). record_signature's kind and
meaning CHECKs take the excursion decision's. SQLite changes a CHECK only by copying the table,
which drops its triggers: they are read first and made again. Values frozen here.
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

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

KINDS_BEFORE = ("cell_bank", "spec_version", "deviation", "investigation", "material_lot")
MEANINGS_BEFORE = (
    "qualified",
    "not qualified",
    "approved",
    "closed",
    "concluded",
    "approved for use",
    "rejected",
    "hold lifted",
)
KINDS_AFTER = (*KINDS_BEFORE, "excursion_decision")
MEANINGS_AFTER = (*MEANINGS_BEFORE, "released for use")
OUTCOMES = ("released", "rejected")
APPEND_ONLY = ("cold_chain_log", "excursion_decision")


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _at(column: str) -> sa.Column:
    return sa.Column(column, sa.DateTime(timezone=True), nullable=False)


def _user_fk(table: str, column: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], ["user_account.id"], name=op.f(f"fk_{table}_{column}_user_account")
    )


def _create_tables() -> None:
    op.create_table(
        "cold_chain_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shipment_id", sa.Integer(), nullable=False),
        sa.Column("attachment_id", sa.Integer(), nullable=False),
        sa.Column("mapping", sa.String(length=40), nullable=False),
        sa.Column("mapping_spec", sa.Text(), nullable=False),
        sa.Column("max_c", sa.String(length=12), nullable=True),
        sa.Column("min_c", sa.String(length=12), nullable=True),
        sa.Column("allowed_minutes", sa.Integer(), nullable=False),
        sa.Column("max_gap_minutes", sa.Integer(), nullable=False),
        sa.Column("range_source", sa.Text(), nullable=False),
        _at("window_start"),
        _at("window_end"),
        sa.Column("judged", sa.Integer(), nullable=False),
        sa.Column("ignored", sa.Integer(), nullable=False),
        sa.Column("blanks", sa.Integer(), nullable=False),
        sa.Column("highest", sa.String(length=12), nullable=True),
        sa.Column("lowest", sa.String(length=12), nullable=True),
        sa.Column("excursion", sa.Boolean(), nullable=False),
        sa.Column("problems", sa.Text(), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=False),
        _at("recorded_at"),
        sa.ForeignKeyConstraint(
            ["shipment_id"], ["shipment.id"], name=op.f("fk_cold_chain_log_shipment_id_shipment")
        ),
        sa.ForeignKeyConstraint(
            ["attachment_id"],
            ["attachment.id"],
            name=op.f("fk_cold_chain_log_attachment_id_attachment"),
        ),
        _user_fk("cold_chain_log", "recorded_by_id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cold_chain_log")),
        sa.UniqueConstraint("shipment_id", name=op.f("uq_cold_chain_log_shipment_id")),
    )
    op.create_table(
        "excursion_decision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("log_id", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(length=10), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("decided_by_id", sa.Integer(), nullable=False),
        _at("decided_at"),
        sa.CheckConstraint(
            _one_of("outcome", OUTCOMES), name=op.f("ck_excursion_decision_outcome")
        ),
        sa.ForeignKeyConstraint(
            ["log_id"], ["cold_chain_log.id"], name=op.f("fk_excursion_decision_log_id_cold_chain_log")
        ),
        _user_fk("excursion_decision", "decided_by_id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_excursion_decision")),
        sa.UniqueConstraint("log_id", name=op.f("uq_excursion_decision_log_id")),
    )


def _sqlite_triggers(table: str) -> list[str]:
    rows = op.get_bind().execute(
        sa.text("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = :t"),
        {"t": table},
    )
    return [sql for (sql,) in rows]


def _signature_checks(kinds: tuple[str, ...], meanings: tuple[str, ...]) -> None:
    """Replace record_signature's kind and meaning CHECKs, keeping its triggers."""
    sqlite = op.get_bind().dialect.name == "sqlite"
    triggers = _sqlite_triggers("record_signature") if sqlite else []
    checks = {"subject_kind": _one_of("subject_kind", kinds), "meaning": _one_of("meaning", meanings)}
    with op.batch_alter_table("record_signature", recreate="always" if sqlite else "auto") as batch:
        for name in checks:
            batch.drop_constraint(batch.f(f"ck_record_signature_{name}"), type_="check")
        for name, condition in checks.items():
            batch.create_check_constraint(batch.f(f"ck_record_signature_{name}"), condition)
    for sql in triggers:
        op.execute(sql)


def upgrade() -> None:
    _create_tables()
    dialect = op.get_bind().dialect.name
    for table in APPEND_ONLY:
        for statement in append_only_statements(table, dialect):
            op.execute(statement)
    _signature_checks(KINDS_AFTER, MEANINGS_AFTER)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    decided = op.get_bind().scalar(sa.text("SELECT count(*) FROM excursion_decision"))
    if decided:
        # Their signatures name them, and the units they released or destroyed follow them.
        raise RuntimeError(
            f"{decided} signed excursion decision(s) exist: revision 0022 cannot be taken down"
            " without losing them"
        )
    for statement in record_unguard_statements(dialect, ("record_signature",)):
        op.execute(statement)
    op.execute("DELETE FROM record_signature WHERE subject_kind = 'excursion_decision'")
    for statement in record_guard_statements(dialect, ("record_signature",)):
        op.execute(statement)
    _signature_checks(KINDS_BEFORE, MEANINGS_BEFORE)
    for table in APPEND_ONLY:
        for statement in append_only_removed_statements(table, dialect):
            op.execute(statement)
    op.drop_table("excursion_decision")
    op.drop_table("cold_chain_log")
