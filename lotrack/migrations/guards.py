"""Database triggers that make the audit trail append-only, whatever client connects.

Kept apart from the revision so tests can drop and restore them (to prove `audit verify` finds what
a privileged person could still do behind the application's back).
"""

from __future__ import annotations

MESSAGE = "audit_event is append-only: rows can be neither changed nor deleted"

SQLITE_GUARDS = [
    f"""CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_event
    BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END""",
    f"""CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_event
    BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END""",
    """CREATE TRIGGER audit_head_forward_only BEFORE UPDATE ON audit_head
    WHEN NEW.seq < OLD.seq OR NEW.id != OLD.id
    BEGIN SELECT RAISE(ABORT, 'audit_head only moves forward'); END""",
    """CREATE TRIGGER audit_head_no_delete BEFORE DELETE ON audit_head
    BEGIN SELECT RAISE(ABORT, 'audit_head cannot be deleted'); END""",
]
SQLITE_UNGUARDS = [
    "DROP TRIGGER IF EXISTS audit_event_no_update",
    "DROP TRIGGER IF EXISTS audit_event_no_delete",
    "DROP TRIGGER IF EXISTS audit_head_forward_only",
    "DROP TRIGGER IF EXISTS audit_head_no_delete",
]

POSTGRES_GUARDS = [
    f"""CREATE OR REPLACE FUNCTION audit_event_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'insufficient_privilege'; END $$""",
    """CREATE TRIGGER audit_event_no_change BEFORE UPDATE OR DELETE ON audit_event
    FOR EACH ROW EXECUTE FUNCTION audit_event_refuse()""",
    """CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON audit_event
    FOR EACH STATEMENT EXECUTE FUNCTION audit_event_refuse()""",
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
POSTGRES_UNGUARDS = [
    "DROP TRIGGER IF EXISTS audit_event_no_change ON audit_event",
    "DROP TRIGGER IF EXISTS audit_event_no_truncate ON audit_event",
    "DROP TRIGGER IF EXISTS audit_head_forward_only ON audit_head",
    "DROP FUNCTION IF EXISTS audit_event_refuse()",
    "DROP FUNCTION IF EXISTS audit_head_forward()",
]


def audit_guard_statements(dialect: str) -> list[str]:
    return POSTGRES_GUARDS if dialect == "postgresql" else SQLITE_GUARDS


def audit_unguard_statements(dialect: str) -> list[str]:
    return POSTGRES_UNGUARDS if dialect == "postgresql" else SQLITE_UNGUARDS
