"""Database triggers that make the audit trail append-only, whatever client connects.

Kept apart from the revision so tests can drop and restore them (to prove `audit verify` finds what
a privileged person could still do behind the application's back).
"""

from __future__ import annotations


def _append_only_message(table: str) -> str:
    return f"{table} is append-only: rows can be neither changed nor deleted"


# Rows are only ever added: no UPDATE, DELETE or TRUNCATE (db_roles.py grants these no more).
# 0020: which material lots were used (a mistake is struck by a new row) and instrument events.
APPEND_ONLY_TABLES = ("audit_event", "audit_checkpoint", "material_use", "equipment_event")
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


# GMP records that are never overwritten: what was entered stays; review fields are set once.
# table -> (columns that never change, columns that may be set once from NULL)
RECORD_GUARDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "spec_version": (
        ("product", "stage", "version", "title", "content", "content_hash", "source_file"),
        ("approved_by_id", "approved_at"),
    ),
    "result": (
        (
            "lot_id",
            "bank_id",
            "passage_id",
            "spec_version_id",
            "test_code",
            "analyte",
            "value",
            "unit",
            "method",
            "instrument",
            "reagent_lot",
            "performed_on",
            "analyst_id",
            "recorded_at",
            "verdict",
            "rounded",
            "due_on",
            "attachment_id",
            "replaces_id",
        ),
        (
            "verified_by_id",
            "verified_at",
            "invalidated_by_id",
            "invalidated_at",
            "invalidation_reason",
        ),
    ),
    "attachment": (("sha256", "filename", "content_type", "size", "data"), ()),
    "signature": (
        (
            "lot_id",
            "action",
            "meaning",
            "signer_id",
            "signer_name",
            "signer_username",
            "signed_at",
            "dossier_sha256",
            "reason",
            "exceptional_release_id",
            "containment_id",
        ),
        (),
    ),
    "containment_lot": (("containment_id", "lot_id", "from_state", "to_state"), ()),
    "notification": (
        (
            "exceptional_release_id",
            "containment_id",
            "recipient_role",
            "recipient",
            "method",
            "notified_at",
            "note",
            "recorded_by_id",
            "recorded_at",
        ),
        (),
    ),
}
RECORD_GUARDS["certificate"] = (
    (
        "lot_id",
        "document_number",
        "version",
        "snapshot",
        "pdf",
        "pdf_sha256",
        "token",
        "reason",
        "issued_by_id",
        "issued_at",
    ),
    ("superseded_by_id", "superseded_at"),
)
RECORD_GUARDS["label_print"] = (
    (
        "unit_id",
        "printed_by_id",
        "printed_at",
        "reprint",
        "reason",
        "stock",
        "lot_state",
    ),
    (),
)
RECORD_GUARDS["bedside_scan"] = (
    (
        "site_id",
        "patient_text",
        "scan_text",
        "method",
        "patient_id",
        "unit_id",
        "go",
        "reasons",
        "scanned_by_id",
        "scanned_at",
    ),
    (),
)
RECORD_GUARDS["infusion"] = (
    (
        "unit_id",
        "patient_id",
        "prescription_id",
        "scan_id",
        "thawed_at",
        "started_at",
        "operator_id",
        "witness_id",
        "recorded_at",
    ),
    ("stopped_at", "volume_ml"),
)
RECORD_GUARDS["thaw"] = (("unit_id", "thawed_at", "recorded_by_id", "recorded_at"), ())
RECORD_GUARDS["record_signature"] = (
    (
        "subject_kind",
        "subject_id",
        "meaning",
        "signer_id",
        "signer_name",
        "signer_username",
        "signed_at",
        "content_sha256",
        "reason",
    ),
    (),
)
# 0019: an adverse event as first reported, its follow-ups and its reports are never changed;
# the event's current state is computed from its follow-ups (domain/adverse.py).
RECORD_GUARDS["adverse_event"] = (
    (
        "patient_id",
        "infusion_id",
        "term",
        "meddra",
        "soc",
        "specify",
        "grade",
        "onset_on",
        "aware_on",
        "attribution",
        "serious",
        "seriousness",
        "expected",
        "report_due_on",
        "outcome",
        "description",
        "measurement",
        "proposed_grade",
        "grade_reason",
        "reported_by_id",
        "reported_at",
    ),
    (),
)
RECORD_GUARDS["adverse_event_update"] = (
    (
        "adverse_event_id",
        "aware_on",
        "grade",
        "outcome",
        "resolved_on",
        "attribution",
        "seriousness",
        "treatment",
        "note",
        "reason",
        "recorded_by_id",
        "recorded_at",
    ),
    (),
)
RECORD_GUARDS["adverse_event_report"] = (
    (
        "adverse_event_id",
        "kind",
        "reported_on",
        "reported_by",
        "recipient",
        "reference",
        "recorded_by_id",
        "recorded_at",
    ),
    (),
)
# 0020: materials, their received lots (only the state moves) and instruments.
RECORD_GUARDS["material"] = (
    ("code", "name", "category", "supplier", "catalogue_number", "created_at"),
    (),
)
RECORD_GUARDS["material_lot"] = (
    (
        "number",
        "material_id",
        "supplier_lot",
        "received_on",
        "expires_on",
        "certificate_id",
        "received_by_id",
        "created_at",
    ),
    (),
)
RECORD_GUARDS["instrument"] = (("code", "name", "created_at"), ())
# RECORD_GUARDS holds each table's guard as the revision that created the table froze it (the
# earlier revisions import it); a later revision that changes a guard freezes its own copy, and
# repeats the change here. CURRENT_GUARDS is the guard of each table after the last revision:
# the runtime role's grants (db_roles.py) follow it.
LATER_GUARDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    # 0009: the witness's signature is written with the infusion and never changes.
    "infusion": (
        (*RECORD_GUARDS["infusion"][0], "witness_meaning", "witness_signed_at"),
        RECORD_GUARDS["infusion"][1],
    ),
    # 0018: what the print produced (PDF or ZPL) and the ZPL's dpi.
    "label_print": ((*RECORD_GUARDS["label_print"][0], "output", "dpi"), ()),
    # 0017: the scanned expiry, and whether an exceptional release was acknowledged (0007).
    "bedside_scan": (
        (*RECORD_GUARDS["bedside_scan"][0], "expiry_text", "exceptional_acknowledged"),
        RECORD_GUARDS["bedside_scan"][1],
    ),
}
# 0021: the dose achieved and the discard, set once with the infusion (NULL before 0021).
LATER_GUARDS["infusion"] = (
    LATER_GUARDS["infusion"][0],
    (*LATER_GUARDS["infusion"][1], "achieved_cells", "achieved_per_kg", "discarded_ml"),
)
CURRENT_GUARDS = {**RECORD_GUARDS, **LATER_GUARDS}
SPEC_GUARDS = ("spec_version", "result", "attachment")  # revision 0002


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
