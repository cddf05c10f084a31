"""QA release: signatures, deviations, exceptional releases, holds and recalls

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 22:18:59.869053
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from lotrack.migrations.guards import record_guard_statements, record_unguard_statements

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

RELEASE_GUARDS = ("signature", "containment_lot", "notification")


def upgrade() -> None:
    op.create_table(
        "containment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=20), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("bank_id", sa.Integer(), nullable=True),
        sa.Column("lot_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(bank_id IS NULL) <> (lot_id IS NULL)", name=op.f("ck_containment_one_scope")
        ),
        sa.ForeignKeyConstraint(
            ["bank_id"], ["cell_bank.id"], name=op.f("fk_containment_bank_id_cell_bank")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["user_account.id"],
            name=op.f("fk_containment_created_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(["lot_id"], ["lot.id"], name=op.f("fk_containment_lot_id_lot")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_containment")),
        sa.UniqueConstraint("number", name=op.f("uq_containment_number")),
    )
    with op.batch_alter_table("containment", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_containment_bank_id"), ["bank_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_containment_lot_id"), ["lot_id"], unique=False)

    op.create_table(
        "deviation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=20), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("lot_id", sa.Integer(), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("impact_assessment", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("closure", sa.Text(), nullable=True),
        sa.Column("opened_by_id", sa.Integer(), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_by_id", sa.Integer(), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "(run_id IS NULL) <> (lot_id IS NULL)", name=op.f("ck_deviation_one_subject")
        ),
        sa.ForeignKeyConstraint(
            ["closed_by_id"],
            ["user_account.id"],
            name=op.f("fk_deviation_closed_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(["lot_id"], ["lot.id"], name=op.f("fk_deviation_lot_id_lot")),
        sa.ForeignKeyConstraint(
            ["opened_by_id"],
            ["user_account.id"],
            name=op.f("fk_deviation_opened_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["production_run.id"], name=op.f("fk_deviation_run_id_production_run")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deviation")),
        sa.UniqueConstraint("number", name=op.f("uq_deviation_number")),
    )
    with op.batch_alter_table("deviation", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_deviation_lot_id"), ["lot_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_deviation_run_id"), ["run_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_deviation_status"), ["status"], unique=False)

    op.create_table(
        "exceptional_release",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=20), nullable=False),
        sa.Column("lot_id", sa.Integer(), nullable=False),
        sa.Column("physician", sa.String(length=200), nullable=False),
        sa.Column("patient", sa.String(length=64), nullable=False),
        sa.Column("request", sa.Text(), nullable=False),
        sa.Column("requested_on", sa.Date(), nullable=False),
        sa.Column("risk_assessment", sa.Text(), nullable=False),
        sa.Column("blockers", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["user_account.id"],
            name=op.f("fk_exceptional_release_created_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["lot_id"], ["lot.id"], name=op.f("fk_exceptional_release_lot_id_lot")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exceptional_release")),
        sa.UniqueConstraint("number", name=op.f("uq_exceptional_release_number")),
    )
    with op.batch_alter_table("exceptional_release", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_exceptional_release_lot_id"), ["lot_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_exceptional_release_status"), ["status"], unique=False)

    op.create_table(
        "containment_lot",
        sa.Column("containment_id", sa.Integer(), nullable=False),
        sa.Column("lot_id", sa.Integer(), nullable=False),
        sa.Column("from_state", sa.String(length=24), nullable=False),
        sa.Column("to_state", sa.String(length=24), nullable=False),
        sa.ForeignKeyConstraint(
            ["containment_id"],
            ["containment.id"],
            name=op.f("fk_containment_lot_containment_id_containment"),
        ),
        sa.ForeignKeyConstraint(["lot_id"], ["lot.id"], name=op.f("fk_containment_lot_lot_id_lot")),
        sa.PrimaryKeyConstraint("containment_id", "lot_id", name=op.f("pk_containment_lot")),
    )
    op.create_table(
        "notification",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("exceptional_release_id", sa.Integer(), nullable=True),
        sa.Column("containment_id", sa.Integer(), nullable=True),
        sa.Column("recipient_role", sa.String(length=20), nullable=False),
        sa.Column("recipient", sa.String(length=200), nullable=False),
        sa.Column("method", sa.String(length=60), nullable=False),
        sa.Column("notified_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(exceptional_release_id IS NULL) <> (containment_id IS NULL)",
            name=op.f("ck_notification_one_subject"),
        ),
        sa.ForeignKeyConstraint(
            ["containment_id"],
            ["containment.id"],
            name=op.f("fk_notification_containment_id_containment"),
        ),
        sa.ForeignKeyConstraint(
            ["exceptional_release_id"],
            ["exceptional_release.id"],
            name=op.f("fk_notification_exceptional_release_id_exceptional_release"),
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["user_account.id"],
            name=op.f("fk_notification_recorded_by_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification")),
    )
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_notification_containment_id"), ["containment_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_notification_exceptional_release_id"),
            ["exceptional_release_id"],
            unique=False,
        )

    op.create_table(
        "signature",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("lot_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=24), nullable=False),
        sa.Column("meaning", sa.String(length=60), nullable=False),
        sa.Column("signer_id", sa.Integer(), nullable=False),
        sa.Column("signer_name", sa.String(length=200), nullable=False),
        sa.Column("signer_username", sa.String(length=64), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("dossier_sha256", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("exceptional_release_id", sa.Integer(), nullable=True),
        sa.Column("containment_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["containment_id"],
            ["containment.id"],
            name=op.f("fk_signature_containment_id_containment"),
        ),
        sa.ForeignKeyConstraint(
            ["exceptional_release_id"],
            ["exceptional_release.id"],
            name=op.f("fk_signature_exceptional_release_id_exceptional_release"),
        ),
        sa.ForeignKeyConstraint(["lot_id"], ["lot.id"], name=op.f("fk_signature_lot_id_lot")),
        sa.ForeignKeyConstraint(
            ["signer_id"], ["user_account.id"], name=op.f("fk_signature_signer_id_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signature")),
    )
    with op.batch_alter_table("signature", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_signature_containment_id"), ["containment_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_signature_exceptional_release_id"),
            ["exceptional_release_id"],
            unique=False,
        )
        batch_op.create_index(batch_op.f("ix_signature_lot_id"), ["lot_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_signature_signer_id"), ["signer_id"], unique=False)

    with op.batch_alter_table("lot", schema=None) as batch_op:
        batch_op.add_column(sa.Column("held_from", sa.String(length=24), nullable=True))

    for statement in record_guard_statements(op.get_bind().dialect.name, RELEASE_GUARDS):
        op.execute(statement)


def downgrade() -> None:
    for statement in record_unguard_statements(op.get_bind().dialect.name, RELEASE_GUARDS):
        op.execute(statement)
    with op.batch_alter_table("lot", schema=None) as batch_op:
        batch_op.drop_column("held_from")

    with op.batch_alter_table("signature", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_signature_signer_id"))
        batch_op.drop_index(batch_op.f("ix_signature_lot_id"))
        batch_op.drop_index(batch_op.f("ix_signature_exceptional_release_id"))
        batch_op.drop_index(batch_op.f("ix_signature_containment_id"))

    op.drop_table("signature")
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_notification_exceptional_release_id"))
        batch_op.drop_index(batch_op.f("ix_notification_containment_id"))

    op.drop_table("notification")
    op.drop_table("containment_lot")
    with op.batch_alter_table("exceptional_release", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_exceptional_release_status"))
        batch_op.drop_index(batch_op.f("ix_exceptional_release_lot_id"))

    op.drop_table("exceptional_release")
    with op.batch_alter_table("deviation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_deviation_status"))
        batch_op.drop_index(batch_op.f("ix_deviation_run_id"))
        batch_op.drop_index(batch_op.f("ix_deviation_lot_id"))

    op.drop_table("deviation")
    with op.batch_alter_table("containment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_containment_lot_id"))
        batch_op.drop_index(batch_op.f("ix_containment_bank_id"))

    op.drop_table("containment")
