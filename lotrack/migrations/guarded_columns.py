"""Which columns each guarded GMP record keeps for good: the guards' data (guards.py builds the
triggers from it; db_roles.py derives the runtime role's grants from CURRENT_GUARDS)."""

from __future__ import annotations

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
