"""specifications, results and OOS investigations

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 22:08:02.556600
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from lotrack.migrations.guards import record_guard_statements, record_unguard_statements

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "attachment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("uploaded_by_id", sa.Integer(), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["uploaded_by_id"],
            ["user_account.id"],
            name=op.f("fk_attachment_uploaded_by_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attachment")),
    )
    with op.batch_alter_table("attachment", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_attachment_sha256"), ["sha256"], unique=False)

    op.create_table(
        "spec_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("product", sa.String(length=32), nullable=False),
        sa.Column("stage", sa.String(length=16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("source_file", sa.String(length=200), nullable=False),
        sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("approved_by_id", sa.Integer(), nullable=True),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["approved_by_id"],
            ["user_account.id"],
            name=op.f("fk_spec_version_approved_by_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_spec_version")),
        sa.UniqueConstraint(
            "product", "stage", "version", name=op.f("uq_spec_version_product_stage_version")
        ),
    )
    op.create_table(
        "result",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("lot_id", sa.Integer(), nullable=True),
        sa.Column("bank_id", sa.Integer(), nullable=True),
        sa.Column("passage_id", sa.Integer(), nullable=True),
        sa.Column("spec_version_id", sa.Integer(), nullable=False),
        sa.Column("test_code", sa.String(length=40), nullable=False),
        sa.Column("analyte", sa.String(length=40), nullable=False),
        sa.Column("value", sa.String(length=60), nullable=False),
        sa.Column("unit", sa.String(length=20), nullable=False),
        sa.Column("method", sa.String(length=200), nullable=False),
        sa.Column("instrument", sa.String(length=120), nullable=False),
        sa.Column("reagent_lot", sa.String(length=60), nullable=False),
        sa.Column("performed_on", sa.Date(), nullable=False),
        sa.Column("analyst_id", sa.Integer(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("verdict", sa.String(length=10), nullable=False),
        sa.Column("rounded", sa.String(length=60), nullable=True),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("note", sa.String(length=300), nullable=False),
        sa.Column("attachment_id", sa.Integer(), nullable=True),
        sa.Column("replaces_id", sa.Integer(), nullable=True),
        sa.Column("verified_by_id", sa.Integer(), nullable=True),
        sa.Column("verified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("invalidated_by_id", sa.Integer(), nullable=True),
        sa.Column("invalidated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("invalidation_reason", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "(CASE WHEN lot_id IS NULL THEN 0 ELSE 1 END) + "
            "(CASE WHEN bank_id IS NULL THEN 0 ELSE 1 END) + "
            "(CASE WHEN passage_id IS NULL THEN 0 ELSE 1 END) = 1",
            name=op.f("ck_result_one_subject"),
        ),
        sa.CheckConstraint(
            "verified_by_id IS NULL OR verified_by_id <> analyst_id",
            name=op.f("ck_result_four_eyes"),
        ),
        sa.ForeignKeyConstraint(
            ["analyst_id"], ["user_account.id"], name=op.f("fk_result_analyst_id_user_account")
        ),
        sa.ForeignKeyConstraint(
            ["attachment_id"], ["attachment.id"], name=op.f("fk_result_attachment_id_attachment")
        ),
        sa.ForeignKeyConstraint(
            ["bank_id"], ["cell_bank.id"], name=op.f("fk_result_bank_id_cell_bank")
        ),
        sa.ForeignKeyConstraint(
            ["invalidated_by_id"],
            ["user_account.id"],
            name=op.f("fk_result_invalidated_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(["lot_id"], ["lot.id"], name=op.f("fk_result_lot_id_lot")),
        sa.ForeignKeyConstraint(
            ["passage_id"], ["passage.id"], name=op.f("fk_result_passage_id_passage")
        ),
        sa.ForeignKeyConstraint(
            ["replaces_id"], ["result.id"], name=op.f("fk_result_replaces_id_result")
        ),
        sa.ForeignKeyConstraint(
            ["spec_version_id"],
            ["spec_version.id"],
            name=op.f("fk_result_spec_version_id_spec_version"),
        ),
        sa.ForeignKeyConstraint(
            ["verified_by_id"],
            ["user_account.id"],
            name=op.f("fk_result_verified_by_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_result")),
        sa.UniqueConstraint("replaces_id", name=op.f("uq_result_replaces_id")),
    )
    with op.batch_alter_table("result", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_result_analyst_id"), ["analyst_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_result_bank_id"), ["bank_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_result_lot_id"), ["lot_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_result_passage_id"), ["passage_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_result_spec_version_id"), ["spec_version_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_result_test_code"), ["test_code"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_result_verified_by_id"), ["verified_by_id"], unique=False
        )

    op.create_table(
        "investigation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=20), nullable=False),
        sa.Column("lot_id", sa.Integer(), nullable=False),
        sa.Column("result_id", sa.Integer(), nullable=False),
        sa.Column("phase", sa.String(length=4), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("conclusion", sa.String(length=20), nullable=True),
        sa.Column("findings", sa.Text(), nullable=False),
        sa.Column("assignable_cause", sa.Text(), nullable=True),
        sa.Column("siblings_reviewed", sa.Text(), nullable=True),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("opened_by_id", sa.Integer(), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["closed_by_id"],
            ["user_account.id"],
            name=op.f("fk_investigation_closed_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(["lot_id"], ["lot.id"], name=op.f("fk_investigation_lot_id_lot")),
        sa.ForeignKeyConstraint(
            ["opened_by_id"],
            ["user_account.id"],
            name=op.f("fk_investigation_opened_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["result_id"], ["result.id"], name=op.f("fk_investigation_result_id_result")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_investigation")),
        sa.UniqueConstraint("number", name=op.f("uq_investigation_number")),
        sa.UniqueConstraint("result_id", name=op.f("uq_investigation_result_id")),
    )
    with op.batch_alter_table("investigation", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_investigation_lot_id"), ["lot_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_investigation_status"), ["status"], unique=False)

    with op.batch_alter_table("cell_bank", schema=None) as batch_op:
        batch_op.add_column(sa.Column("spec_version_id", sa.Integer(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_cell_bank_spec_version_id"), ["spec_version_id"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_cell_bank_spec_version_id_spec_version"),
            "spec_version",
            ["spec_version_id"],
            ["id"],
        )

    with op.batch_alter_table("lot", schema=None) as batch_op:
        batch_op.add_column(sa.Column("spec_version_id", sa.Integer(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_lot_spec_version_id"), ["spec_version_id"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_lot_spec_version_id_spec_version"),
            "spec_version",
            ["spec_version_id"],
            ["id"],
        )

    with op.batch_alter_table("production_run", schema=None) as batch_op:
        batch_op.add_column(sa.Column("spec_version_id", sa.Integer(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_production_run_spec_version_id"), ["spec_version_id"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_production_run_spec_version_id_spec_version"),
            "spec_version",
            ["spec_version_id"],
            ["id"],
        )

    for statement in record_guard_statements(op.get_bind().dialect.name):
        op.execute(statement)


def downgrade() -> None:
    for statement in record_unguard_statements(op.get_bind().dialect.name):
        op.execute(statement)
    with op.batch_alter_table("production_run", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_production_run_spec_version_id_spec_version"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_production_run_spec_version_id"))
        batch_op.drop_column("spec_version_id")

    with op.batch_alter_table("lot", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_lot_spec_version_id_spec_version"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_lot_spec_version_id"))
        batch_op.drop_column("spec_version_id")

    with op.batch_alter_table("cell_bank", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_cell_bank_spec_version_id_spec_version"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_cell_bank_spec_version_id"))
        batch_op.drop_column("spec_version_id")

    with op.batch_alter_table("investigation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_investigation_status"))
        batch_op.drop_index(batch_op.f("ix_investigation_lot_id"))

    op.drop_table("investigation")
    with op.batch_alter_table("result", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_result_verified_by_id"))
        batch_op.drop_index(batch_op.f("ix_result_test_code"))
        batch_op.drop_index(batch_op.f("ix_result_spec_version_id"))
        batch_op.drop_index(batch_op.f("ix_result_passage_id"))
        batch_op.drop_index(batch_op.f("ix_result_lot_id"))
        batch_op.drop_index(batch_op.f("ix_result_bank_id"))
        batch_op.drop_index(batch_op.f("ix_result_analyst_id"))

    op.drop_table("result")
    op.drop_table("spec_version")
    with op.batch_alter_table("attachment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_attachment_sha256"))

    op.drop_table("attachment")
