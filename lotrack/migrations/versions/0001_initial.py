"""manufacturing record, accounts and audit trail

Revision ID: 0001
Revises:
Create Date: 2026-11-25 19:13:45.157594
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from lotrack.migrations.guards import audit_guard_statements, audit_unguard_statements

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_head")),
    )
    op.create_table(
        "din_sequence",
        sa.Column("facility_id", sa.String(length=5), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("last", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("facility_id", "year", name=op.f("pk_din_sequence")),
    )
    op.create_table(
        "donor",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("consent_date", sa.Date(), nullable=False),
        sa.Column("determination", sa.String(length=20), nullable=False),
        sa.Column("determined_by", sa.String(length=200), nullable=True),
        sa.Column("determined_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_donor")),
        sa.UniqueConstraint("code", name=op.f("uq_donor_code")),
    )
    op.create_table(
        "site",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("city", sa.String(length=100), nullable=False),
        sa.Column("time_zone", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_site")),
        sa.UniqueConstraint("code", name=op.f("uq_site_code")),
    )
    op.create_table(
        "clone",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("donor_id", sa.Integer(), nullable=False),
        sa.Column("derived_on", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["donor_id"], ["donor.id"], name=op.f("fk_clone_donor_id_donor")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clone")),
        sa.UniqueConstraint("code", name=op.f("uq_clone_code")),
    )
    with op.batch_alter_table("clone", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_clone_donor_id"), ["donor_id"], unique=False)

    op.create_table(
        "donor_screening",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("donor_id", sa.Integer(), nullable=False),
        sa.Column("marker", sa.String(length=20), nullable=False),
        sa.Column("method", sa.String(length=100), nullable=False),
        sa.Column("result", sa.String(length=20), nullable=False),
        sa.Column("tested_on", sa.Date(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["donor_id"], ["donor.id"], name=op.f("fk_donor_screening_donor_id_donor")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_donor_screening")),
    )
    with op.batch_alter_table("donor_screening", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_donor_screening_donor_id"), ["donor_id"], unique=False)

    op.create_table(
        "user_account",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("full_name", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=True),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("session_version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("password_changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["site_id"], ["site.id"], name=op.f("fk_user_account_site_id_site")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_account")),
        sa.UniqueConstraint("username", name=op.f("uq_user_account_username")),
    )
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_user_account_site_id"), ["site_id"], unique=False)

    op.create_table(
        "api_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("label", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_api_token_user_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_token")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_token_token_hash")),
    )
    with op.batch_alter_table("api_token", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_token_user_id"), ["user_id"], unique=False)

    op.create_table(
        "audit_event",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=False,
            nullable=False,
        ),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("entity_type", sa.String(length=40), nullable=False),
        sa.Column("entity_id", sa.String(length=64), nullable=False),
        sa.Column("changes", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["user_account.id"],
            name=op.f("fk_audit_event_actor_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_event")),
        sa.UniqueConstraint("hash", name=op.f("uq_audit_event_hash")),
    )
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_event_actor_id"), ["actor_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_event_at"), ["at"], unique=False)
        batch_op.create_index("ix_audit_event_entity", ["entity_type", "entity_id"], unique=False)

    op.create_table(
        "cell_bank",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("tier", sa.String(length=3), nullable=False),
        sa.Column("clone_id", sa.Integer(), nullable=True),
        sa.Column("parent_bank_id", sa.Integer(), nullable=True),
        sa.Column("passage_at_banking", sa.Integer(), nullable=False),
        sa.Column("pdl_at_banking", sa.Numeric(precision=8, scale=2), nullable=False),
        sa.Column("banked_on", sa.Date(), nullable=False),
        sa.Column("qualification", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(tier = 'MCB' AND clone_id IS NOT NULL AND parent_bank_id IS NULL) OR (tier = 'WCB' AND parent_bank_id IS NOT NULL AND clone_id IS NULL)",
            name=op.f("ck_cell_bank_one_parent"),
        ),
        sa.ForeignKeyConstraint(
            ["clone_id"], ["clone.id"], name=op.f("fk_cell_bank_clone_id_clone")
        ),
        sa.ForeignKeyConstraint(
            ["parent_bank_id"],
            ["cell_bank.id"],
            name=op.f("fk_cell_bank_parent_bank_id_cell_bank"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cell_bank")),
        sa.UniqueConstraint("code", name=op.f("uq_cell_bank_code")),
    )
    with op.batch_alter_table("cell_bank", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cell_bank_clone_id"), ["clone_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_cell_bank_parent_bank_id"), ["parent_bank_id"], unique=False
        )

    op.create_table(
        "production_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("product", sa.String(length=32), nullable=False),
        sa.Column("bank_id", sa.Integer(), nullable=False),
        sa.Column("started_on", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["bank_id"],
            ["cell_bank.id"],
            name=op.f("fk_production_run_bank_id_cell_bank"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_production_run")),
        sa.UniqueConstraint("code", name=op.f("uq_production_run_code")),
    )
    with op.batch_alter_table("production_run", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_production_run_bank_id"), ["bank_id"], unique=False)

    op.create_table(
        "vial",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("bank_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("freezer", sa.String(length=40), nullable=False),
        sa.Column("rack", sa.String(length=20), nullable=False),
        sa.Column("box", sa.String(length=20), nullable=False),
        sa.Column("position", sa.String(length=10), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["bank_id"], ["cell_bank.id"], name=op.f("fk_vial_bank_id_cell_bank")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vial")),
    )
    with op.batch_alter_table("vial", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_vial_bank_id"), ["bank_id"], unique=False)
        batch_op.create_index("uq_vial_bank_number", ["bank_id", "number"], unique=True)
        batch_op.create_index(
            "uq_vial_stored_position",
            ["freezer", "rack", "box", "position"],
            unique=True,
            sqlite_where=sa.text("state = 'stored'"),
            postgresql_where=sa.text("state = 'stored'"),
        )

    op.create_table(
        "lot",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("lot_number", sa.String(length=32), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=24), nullable=False),
        sa.Column("harvested_on", sa.Date(), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["production_run.id"], name=op.f("fk_lot_run_id_production_run")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lot")),
        sa.UniqueConstraint("lot_number", name=op.f("uq_lot_lot_number")),
    )
    with op.batch_alter_table("lot", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_lot_run_id"), ["run_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_lot_state"), ["state"], unique=False)

    op.create_table(
        "passage",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("seeded_on", sa.Date(), nullable=False),
        sa.Column("harvested_on", sa.Date(), nullable=False),
        sa.Column("cells_seeded", sa.BigInteger(), nullable=False),
        sa.Column("cells_harvested", sa.BigInteger(), nullable=False),
        sa.Column("viability_percent", sa.Numeric(precision=5, scale=2), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("cells_harvested > 0", name=op.f("ck_passage_harvested_positive")),
        sa.CheckConstraint("cells_seeded > 0", name=op.f("ck_passage_seeded_positive")),
        sa.CheckConstraint(
            "viability_percent >= 0 AND viability_percent <= 100",
            name=op.f("ck_passage_viability"),
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["production_run.id"],
            name=op.f("fk_passage_run_id_production_run"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_passage")),
        sa.UniqueConstraint("run_id", "number", name=op.f("uq_passage_run_id_number")),
    )
    with op.batch_alter_table("passage", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_passage_run_id"), ["run_id"], unique=False)

    op.create_table(
        "vial_withdrawal",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("vial_id", sa.Integer(), nullable=False),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("withdrawn_by_id", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["production_run.id"],
            name=op.f("fk_vial_withdrawal_run_id_production_run"),
        ),
        sa.ForeignKeyConstraint(
            ["vial_id"], ["vial.id"], name=op.f("fk_vial_withdrawal_vial_id_vial")
        ),
        sa.ForeignKeyConstraint(
            ["withdrawn_by_id"],
            ["user_account.id"],
            name=op.f("fk_vial_withdrawal_withdrawn_by_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vial_withdrawal")),
        sa.UniqueConstraint("vial_id", name=op.f("uq_vial_withdrawal_vial_id")),
    )
    with op.batch_alter_table("vial_withdrawal", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_vial_withdrawal_run_id"), ["run_id"], unique=False)

    op.create_table(
        "unit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("din", sa.String(length=13), nullable=False),
        sa.Column("check_character", sa.String(length=1), nullable=False),
        sa.Column("lot_id", sa.Integer(), nullable=False),
        sa.Column("container", sa.String(length=8), nullable=False),
        sa.Column("cells", sa.BigInteger(), nullable=False),
        sa.Column("volume_ml", sa.Numeric(precision=8, scale=2), nullable=False),
        sa.Column("freezer", sa.String(length=40), nullable=True),
        sa.Column("rack", sa.String(length=20), nullable=True),
        sa.Column("box", sa.String(length=20), nullable=True),
        sa.Column("position", sa.String(length=10), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("cells > 0", name=op.f("ck_unit_cells_positive")),
        sa.CheckConstraint("volume_ml > 0", name=op.f("ck_unit_volume_positive")),
        sa.ForeignKeyConstraint(["lot_id"], ["lot.id"], name=op.f("fk_unit_lot_id_lot")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_unit")),
        sa.UniqueConstraint("din", name=op.f("uq_unit_din")),
    )
    with op.batch_alter_table("unit", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_unit_lot_id"), ["lot_id"], unique=False)

    op.execute("INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '" + "0" * 64 + "')")
    for statement in audit_guard_statements(op.get_bind().dialect.name):
        op.execute(statement)


def downgrade() -> None:
    for statement in audit_unguard_statements(op.get_bind().dialect.name):
        op.execute(statement)
    with op.batch_alter_table("unit", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_unit_lot_id"))

    op.drop_table("unit")
    with op.batch_alter_table("vial_withdrawal", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_vial_withdrawal_run_id"))

    op.drop_table("vial_withdrawal")
    with op.batch_alter_table("passage", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_passage_run_id"))

    op.drop_table("passage")
    with op.batch_alter_table("lot", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lot_state"))
        batch_op.drop_index(batch_op.f("ix_lot_run_id"))

    op.drop_table("lot")
    with op.batch_alter_table("vial", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_vial_stored_position",
            sqlite_where=sa.text("state = 'stored'"),
            postgresql_where=sa.text("state = 'stored'"),
        )
        batch_op.drop_index("uq_vial_bank_number")
        batch_op.drop_index(batch_op.f("ix_vial_bank_id"))

    op.drop_table("vial")
    with op.batch_alter_table("production_run", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_production_run_bank_id"))

    op.drop_table("production_run")
    with op.batch_alter_table("cell_bank", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cell_bank_parent_bank_id"))
        batch_op.drop_index(batch_op.f("ix_cell_bank_clone_id"))

    op.drop_table("cell_bank")
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_event_entity")
        batch_op.drop_index(batch_op.f("ix_audit_event_at"))
        batch_op.drop_index(batch_op.f("ix_audit_event_actor_id"))

    op.drop_table("audit_event")
    with op.batch_alter_table("api_token", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_token_user_id"))

    op.drop_table("api_token")
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_user_account_site_id"))

    op.drop_table("user_account")
    with op.batch_alter_table("donor_screening", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_donor_screening_donor_id"))

    op.drop_table("donor_screening")
    with op.batch_alter_table("clone", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_clone_donor_id"))

    op.drop_table("clone")
    op.drop_table("site")
    op.drop_table("donor")
    op.drop_table("din_sequence")
    op.drop_table("audit_head")
