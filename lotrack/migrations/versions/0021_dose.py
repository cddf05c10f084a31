"""dosing as clinics dose: dose cohorts, fixed doses, the achieved dose and discard of an
infusion, the investigator role, and age band and sex for enrolment

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-04 14:00:00

New columns only; no recorded row is rewritten. Rows before this revision keep NULL in the new
columns (a prescription before it is per kg: its basis defaults to that). The prescription's
dose_per_kg becomes nullable (a fixed dose has none). The role CHECK constraints of user_account
and role_grant gain 'investigator' (taken down, investigators' accounts become clinical ones).
The infusion guard is replaced by one that also fixes the new columns once set; the guarded
columns are frozen here as they stand at this revision. A fixed-dose prescription cannot be
taken below this revision (its dose_per_kg is empty): the downgrade stops there.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from lotrack.migrations.guards import record_guard_statements, record_unguard_statements

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

ROLES = ("technician", "qa", "medical_director", "clinical", "admin")
NEW_ROLES = (*ROLES, "investigator")
BASES = ("per_kg", "fixed")
AGE_BANDS = ("0-27d", "28d-23m", "2-11y", "12-17y", "18-64y", "65+y")
SEXES = ("female", "male")
INFUSION_FIXED = (
    "unit_id",
    "patient_id",
    "prescription_id",
    "scan_id",
    "thawed_at",
    "started_at",
    "operator_id",
    "witness_id",
    "recorded_at",
    "witness_meaning",
    "witness_signed_at",
)
INFUSION_ONCE = ("stopped_at", "volume_ml")
NEW_ONCE = (*INFUSION_ONCE, "achieved_cells", "achieved_per_kg", "discarded_ml")
ROLE_CHECKS = {
    "user_account": ("role",),
    "role_grant": ("role", "previous_role"),
}


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _sqlite_triggers(table: str) -> list[str]:
    rows = op.get_bind().execute(
        sa.text(
            "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = :t ORDER BY name"
        ),
        {"t": table},
    )
    return [sql for (sql,) in rows]


def _alter(table: str, change) -> None:
    """Apply `change` to `table`; on SQLite a copy that keeps the table's triggers."""
    if op.get_bind().dialect.name != "sqlite":
        with op.batch_alter_table(table) as batch:
            change(batch)
        return
    triggers = _sqlite_triggers(table)
    with op.batch_alter_table(table, recreate="always") as batch:
        change(batch)
    for sql in triggers:
        op.execute(sql)


def _roles(values: tuple[str, ...]) -> None:
    for table, columns in ROLE_CHECKS.items():

        def swap(batch, table=table, columns=columns) -> None:
            for column in columns:
                name = f"ck_{table}_{column}"
                batch.drop_constraint(batch.f(name), type_="check")
                batch.create_check_constraint(batch.f(name), _one_of(column, values))

        _alter(table, swap)


def _infusion_guard(once: tuple[str, ...]) -> None:
    dialect = op.get_bind().dialect.name
    for statement in record_unguard_statements(dialect, ("infusion",)):
        op.execute(statement)
    guards = {"infusion": (INFUSION_FIXED, once)}
    for statement in record_guard_statements(dialect, ("infusion",), guards):
        op.execute(statement)


def upgrade() -> None:
    op.create_table(
        "dose_cohort",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=24), nullable=False),
        sa.Column("dose_basis", sa.String(length=8), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("amount > 0", name=op.f("ck_dose_cohort_amount_positive")),
        sa.CheckConstraint(_one_of("dose_basis", BASES), name=op.f("ck_dose_cohort_dose_basis")),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["user_account.id"],
            name=op.f("fk_dose_cohort_created_by_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dose_cohort")),
        sa.UniqueConstraint("code", name=op.f("uq_dose_cohort_code")),
    )

    def prescription(batch) -> None:
        batch.alter_column("dose_per_kg", existing_type=sa.BigInteger(), nullable=True)
        batch.add_column(
            sa.Column("dose_basis", sa.String(length=8), nullable=False, server_default="per_kg")
        )
        batch.add_column(sa.Column("fixed_cells", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("cohort_id", sa.Integer(), nullable=True))
        batch.create_check_constraint(
            batch.f("ck_prescription_dose_basis"), _one_of("dose_basis", BASES)
        )
        batch.create_foreign_key(
            batch.f("fk_prescription_cohort_id_dose_cohort"), "dose_cohort", ["cohort_id"], ["id"]
        )
        batch.create_index(batch.f("ix_prescription_cohort_id"), ["cohort_id"])

    _alter("prescription", prescription)

    def patient(batch) -> None:
        batch.add_column(sa.Column("cohort_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("age_band", sa.String(length=8), nullable=True))
        batch.add_column(sa.Column("sex", sa.String(length=8), nullable=True))
        batch.create_check_constraint(
            batch.f("ck_patient_age_band"), _one_of("age_band", AGE_BANDS)
        )
        batch.create_check_constraint(batch.f("ck_patient_sex"), _one_of("sex", SEXES))
        batch.create_foreign_key(
            batch.f("fk_patient_cohort_id_dose_cohort"), "dose_cohort", ["cohort_id"], ["id"]
        )
        batch.create_index(batch.f("ix_patient_cohort_id"), ["cohort_id"])

    _alter("patient", patient)

    # Plain ADD COLUMNs: the infusion's guard triggers are replaced right after.
    op.add_column("infusion", sa.Column("achieved_cells", sa.BigInteger(), nullable=True))
    op.add_column("infusion", sa.Column("achieved_per_kg", sa.BigInteger(), nullable=True))
    op.add_column("infusion", sa.Column("discarded_ml", sa.Numeric(8, 2), nullable=True))
    _infusion_guard(NEW_ONCE)
    _roles(NEW_ROLES)


def downgrade() -> None:
    # Lossy, as every downgrade that drops a column is: before 0021 there is no investigator
    # role, so investigators' accounts (and grants naming the role) become clinical ones.
    op.execute("UPDATE user_account SET role = 'clinical' WHERE role = 'investigator'")
    for column in ('role', 'previous_role'):
        op.execute(f"UPDATE role_grant SET {column} = 'clinical' WHERE {column} = 'investigator'")
    _roles(ROLES)
    dialect = op.get_bind().dialect.name
    for statement in record_unguard_statements(dialect, ("infusion",)):
        op.execute(statement)
    with op.batch_alter_table("infusion") as batch:
        for column in ("discarded_ml", "achieved_per_kg", "achieved_cells"):
            batch.drop_column(column)
    _infusion_guard(INFUSION_ONCE)

    def patient(batch) -> None:
        batch.drop_index(batch.f("ix_patient_cohort_id"))
        batch.drop_constraint(batch.f("fk_patient_cohort_id_dose_cohort"), type_="foreignkey")
        batch.drop_constraint(batch.f("ck_patient_sex"), type_="check")
        batch.drop_constraint(batch.f("ck_patient_age_band"), type_="check")
        for column in ("sex", "age_band", "cohort_id"):
            batch.drop_column(column)

    _alter("patient", patient)

    def prescription(batch) -> None:
        batch.drop_index(batch.f("ix_prescription_cohort_id"))
        batch.drop_constraint(batch.f("fk_prescription_cohort_id_dose_cohort"), type_="foreignkey")
        batch.drop_constraint(batch.f("ck_prescription_dose_basis"), type_="check")
        for column in ("cohort_id", "fixed_cells", "dose_basis"):
            batch.drop_column(column)
        batch.alter_column("dose_per_kg", existing_type=sa.BigInteger(), nullable=False)

    _alter("prescription", prescription)
    op.drop_table("dose_cohort")
