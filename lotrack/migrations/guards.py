"""Database triggers that make the audit trail append-only, whatever client connects.

Kept apart from the revision so tests can drop and restore them (to prove `audit verify` finds what
a privileged person could still do behind the application's back).
"""

from __future__ import annotations

# The guards' data (which columns each record keeps), re-exported for the revisions that import it.
from lotrack.migrations.guarded_columns import (  # noqa: F401
    CURRENT_GUARDS,
    LATER_GUARDS,
    RECORD_GUARDS,
    SPEC_GUARDS,
)


def _append_only_message(table: str) -> str:
    return f"{table} is append-only: rows can be neither changed nor deleted"


# Rows are only ever added: no UPDATE, DELETE or TRUNCATE (db_roles.py grants these no more).
# 0020: which material lots were used (a mistake is struck by a new row) and instrument events.
# 0024: retained samples and their withdrawals (what is left is computed, never stored).
# 0022: a shipment's logger record as judged, and QA's decision on its excursion.
APPEND_ONLY_TABLES = (
    "audit_event",
    "audit_checkpoint",
    "material_use",
    "equipment_event",
    "retained_sample",
    "retained_sample_withdrawal",
    "cold_chain_log",
    "excursion_decision",
)
MESSAGE = _append_only_message("audit_event")
CHECKPOINT_MESSAGE = _append_only_message("audit_checkpoint")


def _append_only(table: str, dialect: str) -> list[str]:
    """Triggers refusing every UPDATE and DELETE (and TRUNCATE on PostgreSQL) of `table`."""
    message = _append_only_message(table)
    if dialect != "postgresql":
        return [
            f"""CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table}
    BEGIN SELECT RAISE(ABORT, '{message}'); END"""
            for verb in ("UPDATE", "DELETE")
        ]
    return [
        f"""CREATE OR REPLACE FUNCTION {table}_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN RAISE EXCEPTION '{message}' USING ERRCODE = 'insufficient_privilege'; END $$""",
        f"""CREATE TRIGGER {table}_no_change BEFORE UPDATE OR DELETE ON {table}
    FOR EACH ROW EXECUTE FUNCTION {table}_refuse()""",
        f"""CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table}
    FOR EACH STATEMENT EXECUTE FUNCTION {table}_refuse()""",
    ]


def append_only_statements(table: str, dialect: str) -> list[str]:
    """The append-only triggers of a table a later revision adds (it names its own table)."""
    return _append_only(table, dialect)


def append_only_removed_statements(table: str, dialect: str) -> list[str]:
    return _append_only_removed(table, dialect)


def _append_only_removed(table: str, dialect: str) -> list[str]:
    if dialect != "postgresql":
        return [f"DROP TRIGGER IF EXISTS {table}_no_{verb}" for verb in ("update", "delete")]
    return [
        f"DROP TRIGGER IF EXISTS {table}_no_change ON {table}",
        f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}",
        f"DROP FUNCTION IF EXISTS {table}_refuse()",
    ]


# The chain's head only moves forward and is never deleted.
SQLITE_HEAD_GUARDS = [
    """CREATE TRIGGER audit_head_forward_only BEFORE UPDATE ON audit_head
    WHEN NEW.seq < OLD.seq OR NEW.id != OLD.id
    BEGIN SELECT RAISE(ABORT, 'audit_head only moves forward'); END""",
    """CREATE TRIGGER audit_head_no_delete BEFORE DELETE ON audit_head
    BEGIN SELECT RAISE(ABORT, 'audit_head cannot be deleted'); END""",
]
SQLITE_HEAD_UNGUARDS = [
    "DROP TRIGGER IF EXISTS audit_head_forward_only",
    "DROP TRIGGER IF EXISTS audit_head_no_delete",
]
POSTGRES_HEAD_GUARDS = [
    """CREATE OR REPLACE FUNCTION audit_head_forward() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP = 'DELETE' OR NEW.seq < OLD.seq OR NEW.id <> OLD.id THEN
        RAISE EXCEPTION 'audit_head only moves forward' USING ERRCODE = 'insufficient_privilege';
      END IF;
      RETURN NEW;
    END $$""",
    """CREATE TRIGGER audit_head_forward_only BEFORE UPDATE OR DELETE ON audit_head
    FOR EACH ROW EXECUTE FUNCTION audit_head_forward()""",
]
POSTGRES_HEAD_UNGUARDS = [
    "DROP TRIGGER IF EXISTS audit_head_forward_only ON audit_head",
    "DROP FUNCTION IF EXISTS audit_head_forward()",
]


def checkpoint_guard_statements(dialect: str) -> list[str]:
    return _append_only("audit_checkpoint", dialect)


def checkpoint_unguard_statements(dialect: str) -> list[str]:
    return _append_only_removed("audit_checkpoint", dialect)


def audit_guard_statements(dialect: str) -> list[str]:
    head = POSTGRES_HEAD_GUARDS if dialect == "postgresql" else SQLITE_HEAD_GUARDS
    return _append_only("audit_event", dialect) + head


def audit_unguard_statements(dialect: str) -> list[str]:
    head = POSTGRES_HEAD_UNGUARDS if dialect == "postgresql" else SQLITE_HEAD_UNGUARDS
    return _append_only_removed("audit_event", dialect) + head


def _changed(fixed: tuple[str, ...], once: tuple[str, ...], distinct: str) -> str:
    terms = [f"NEW.{c} {distinct} OLD.{c}" for c in fixed]
    terms += [f"(OLD.{c} IS NOT NULL AND NEW.{c} {distinct} OLD.{c})" for c in once]
    return " OR ".join(terms)


def record_guard_statements(
    dialect: str,
    tables: tuple[str, ...] = SPEC_GUARDS,
    guards: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] | None = None,
) -> list[str]:
    """The triggers guarding `tables`; `guards` overrides RECORD_GUARDS (a later revision's)."""
    out = []
    for table in tables:
        fixed, once = (guards or RECORD_GUARDS)[table]
        msg = f"{table} records are never overwritten or deleted"
        if dialect == "postgresql":
            out.append(
                f"""CREATE OR REPLACE FUNCTION {table}_keep() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                  IF TG_OP = 'DELETE' OR {_changed(fixed, once, "IS DISTINCT FROM")} THEN
                    RAISE EXCEPTION '{msg}' USING ERRCODE = 'insufficient_privilege';
                  END IF;
                  RETURN NEW;
                END $$"""
            )
            out.append(
                f"""CREATE TRIGGER {table}_keep BEFORE UPDATE OR DELETE ON {table}
                FOR EACH ROW EXECUTE FUNCTION {table}_keep()"""
            )
        else:
            out.append(
                f"""CREATE TRIGGER {table}_no_overwrite BEFORE UPDATE ON {table}
                WHEN {_changed(fixed, once, "IS NOT")}
                BEGIN SELECT RAISE(ABORT, '{msg}'); END"""
            )
            out.append(
                f"""CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table}
                BEGIN SELECT RAISE(ABORT, '{msg}'); END"""
            )
    return out


def record_unguard_statements(dialect: str, tables: tuple[str, ...] = SPEC_GUARDS) -> list[str]:
    out = []
    for table in tables:
        if dialect == "postgresql":
            out.append(f"DROP TRIGGER IF EXISTS {table}_keep ON {table}")
            out.append(f"DROP FUNCTION IF EXISTS {table}_keep()")
        else:
            out.append(f"DROP TRIGGER IF EXISTS {table}_no_overwrite")
            out.append(f"DROP TRIGGER IF EXISTS {table}_no_delete")
    return out
