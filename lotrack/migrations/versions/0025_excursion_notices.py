"""mail outbox: notices of a temperature excursion in transit, and of one found on units infused
already

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-04 20:30:00

Only the outbox's event CHECK widens; no row is rewritten. The outbox has no triggers, so
SQLite's copy of the table loses nothing. Values frozen here.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None

EVENTS_BEFORE = (
    "hold",
    "recall",
    "oos_opened",
    "exceptional_requested",
    "exceptional_signed",
    "ae_report_due",
    "ae_report_overdue",
    "calibration_due",
)
EVENTS_AFTER = (*EVENTS_BEFORE, "cold_chain_excursion", "excursion_after_infusion")


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _event_check(events: tuple[str, ...]) -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    with op.batch_alter_table("mail_outbox", recreate="always" if sqlite else "auto") as batch:
        batch.drop_constraint(batch.f("ck_mail_outbox_event"), type_="check")
        batch.create_check_constraint(batch.f("ck_mail_outbox_event"), _one_of("event", events))


def upgrade() -> None:
    _event_check(EVENTS_AFTER)


def downgrade() -> None:
    new = ", ".join(repr(e) for e in EVENTS_AFTER if e not in EVENTS_BEFORE)
    kept = op.get_bind().scalar(sa.text(f"SELECT count(*) FROM mail_outbox WHERE event IN ({new})"))
    if kept:
        # They are the record that the people concerned were told of an excursion.
        raise RuntimeError(
            f"{kept} excursion notice(s) exist: revision 0025 cannot be taken down without"
            " losing them"
        )
    _event_check(EVENTS_BEFORE)
