"""Typed states: every state or kind column holds a member of its enum, and the database itself
refuses anything else (a CHECK constraint generated from the enum), whatever client writes."""

from __future__ import annotations

import re
from collections.abc import Iterator
from enum import StrEnum

import pytest
from sqlalchemy import CheckConstraint, Column, Enum, Table, inspect, text
from sqlalchemy.exc import IntegrityError, StatementError

import lotrack.models  # noqa: F401  (registers every table)
from lotrack.db import Base
from lotrack.migrations.guards import APPEND_ONLY_TABLES, RECORD_GUARDS
from lotrack.models import Lot


def enum_columns() -> list[tuple[Table, Column]]:
    return [
        (table, column)
        for table in Base.metadata.sorted_tables
        for column in table.columns
        if isinstance(column.type, Enum)
    ]


COLUMNS = enum_columns()
IDS = [f"{t.name}.{c.name}" for t, c in COLUMNS]

# A valid row for each table the demo database leaves empty, so that every enum column has a row
# to be tested against (a new table with an enum column must add one: the test says so).
USER = "(SELECT min(id) FROM user_account)"
LOT = "(SELECT min(id) FROM lot)"
PATIENT = "(SELECT min(id) FROM patient)"
ROWS = {
    "deviation": (
        "INSERT INTO deviation (number, lot_id, description, impact_assessment, status,"
        f" opened_by_id, opened_at) VALUES ('DEV-T-001', {LOT}, 'typed states', '', 'open',"
        f" {USER}, CURRENT_TIMESTAMP)"
    ),
    "containment": (
        "INSERT INTO containment (number, kind, lot_id, reason, created_by_id, created_at)"
        f" VALUES ('HLD-T-001', 'hold', {LOT}, 'typed states', {USER}, CURRENT_TIMESTAMP)"
    ),
    "containment_lot": (
        "INSERT INTO containment_lot (containment_id, lot_id, from_state, to_state) VALUES"
        f" ((SELECT min(id) FROM containment), {LOT}, 'QUARANTINE', 'ON_HOLD')"
    ),
    "exceptional_release": (
        "INSERT INTO exceptional_release (number, lot_id, physician, patient, request,"
        " requested_on, risk_assessment, blockers, blocker_keys, status, created_by_id,"
        f" created_at) VALUES ('EXR-T-001', {LOT}, 'Dr T', 'SZ-GIMI/T', 'r', CURRENT_DATE, 'r',"
        f" '[]', '[]', 'pending', {USER}, CURRENT_TIMESTAMP)"
    ),
    "notification": (
        "INSERT INTO notification (containment_id, recipient_role, recipient, method,"
        " notified_at, note, recorded_by_id, recorded_at) VALUES ((SELECT min(id) FROM"
        f" containment), 'sponsor', 'S', 'phone', CURRENT_TIMESTAMP, '', {USER},"
        " CURRENT_TIMESTAMP)"
    ),
    "bedside_scan": (
        "INSERT INTO bedside_scan (patient_text, scan_text, method, go,"
        " exceptional_acknowledged, reasons, scanned_by_id, scanned_at) VALUES ('p', 's',"
        f" 'typed', FALSE, FALSE, '[]', {USER}, CURRENT_TIMESTAMP)"
    ),
    "label_print": (
        "INSERT INTO label_print (unit_id, printed_by_id, printed_at, reprint, reason, stock,"
        f" lot_state) VALUES ((SELECT min(id) FROM unit), {USER}, CURRENT_TIMESTAMP, FALSE, '',"
        " '4x2in', 'QUARANTINE')"
    ),
    "adverse_event": (
        "INSERT INTO adverse_event (patient_id, term, meddra, grade, onset_on, attribution,"
        " serious, seriousness, outcome, description, reported_by_id, reported_at) VALUES"
        f" ({PATIENT}, 'Fever', '10016558', 1, CURRENT_DATE, 'unrelated', FALSE, '[]',"
        f" 'recovered', '', {USER}, CURRENT_TIMESTAMP)"
    ),
    "adverse_event_update": (
        "INSERT INTO adverse_event_update (adverse_event_id, aware_on, outcome, attribution,"
        " treatment, note, reason, recorded_by_id, recorded_at) VALUES ((SELECT min(id) FROM"
        f" adverse_event), CURRENT_DATE, 'recovered', 'possible', '', '', '', {USER},"
        " CURRENT_TIMESTAMP)"
    ),
    "adverse_event_report": (
        "INSERT INTO adverse_event_report (adverse_event_id, kind, reported_on, reported_by,"
        " recipient, reference, recorded_by_id, recorded_at) VALUES ((SELECT min(id) FROM"
        f" adverse_event), 'sponsor', CURRENT_DATE, 'Dr', 'sponsor', 'R-1', {USER},"
        " CURRENT_TIMESTAMP)"
    ),
    "role_grant": (
        "INSERT INTO role_grant (user_id, role, previous_role, state, requested_by_id,"
        f" requested_at, reason, decision_reason) VALUES ({USER}, 'qa', 'technician', 'pending',"
        f" {USER}, CURRENT_TIMESTAMP, '', '')"
    ),
    "follow_up": (
        "INSERT INTO follow_up (patient_id, visit_on, response, notes, recorded_by_id,"
        f" recorded_at) VALUES ({PATIENT}, CURRENT_DATE, 'stable', '', {USER}, CURRENT_TIMESTAMP)"
    ),
    "retained_sample": (
        "INSERT INTO retained_sample (number, lot_id, sample_type, container, quantity, unit,"
        " freezer, rack, box, position, laid_down_on, note, laid_down_by_id, recorded_at)"
        f" VALUES ('RS-T-001', {LOT}, 'cells', 'cryovial', 4, 'vial', 'LN2-R', 'A', '1', '1',"
        f" CURRENT_DATE, '', {USER}, CURRENT_TIMESTAMP)"
    ),
    "retained_sample_withdrawal": (
        "INSERT INTO retained_sample_withdrawal (sample_id, quantity, reason, note,"
        " withdrawn_on, withdrawn_by_id, recorded_at) VALUES ((SELECT min(id) FROM"
        f" retained_sample), 1, 'other', 'typed states', CURRENT_DATE, {USER},"
        " CURRENT_TIMESTAMP)"
    ),
    "cold_chain_log": (
        "INSERT INTO cold_chain_log (shipment_id, attachment_id, mapping, mapping_spec,"
        " allowed_minutes, max_gap_minutes, range_source, window_start, window_end, judged,"
        " ignored, blanks, excursion, problems, recorded_by_id, recorded_at) VALUES ((SELECT"
        " min(id) FROM shipment), (SELECT min(id) FROM attachment), 'generic', '{}', 0, 30, '',"
        f" CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 0, 0, 0, TRUE, '[]', {USER}, CURRENT_TIMESTAMP)"
    ),
    "excursion_decision": (
        "INSERT INTO excursion_decision (log_id, outcome, reason, decided_by_id, decided_at)"
        f" VALUES ((SELECT min(id) FROM cold_chain_log), 'released', 'r', {USER},"
        " CURRENT_TIMESTAMP)"
    ),
}


@pytest.fixture
def engine(demo_app) -> Iterator:
    """The demo database with a row in every table that has an enum column."""
    engine = demo_app.extensions["lotrack_db"].engine
    with engine.begin() as conn:
        for table, insert in ROWS.items():
            if not conn.execute(text(f"SELECT count(*) FROM {table}")).scalar():
                conn.execute(text(insert))
    yield engine


def _refused(engine, statement: str, names: set[str], **params) -> None:
    """The database refuses `statement`, naming one of the CHECK constraints `names`."""
    with pytest.raises(IntegrityError) as refused, engine.begin() as conn:
        conn.execute(text(statement), params)
    assert any(name in str(refused.value.orig) for name in names), refused.value.orig


def test_every_state_and_kind_column_is_typed():
    """The columns the issue names are all enum-typed (a plain string would escape the tests)."""
    typed = set(IDS)
    expected = {
        "lot.state", "lot.held_from", "unit.state", "unit.container", "vial.state",
        "cell_bank.tier", "cell_bank.qualification", "donor.determination",
        "deviation.status", "exceptional_release.status", "containment.kind",
        "containment_lot.from_state", "containment_lot.to_state", "investigation.status",
        "investigation.conclusion", "result.verdict", "shipment.status", "prescription.status",
        "signature.action", "notification.recipient_role", "user_account.role",
        "user_account.language",
        "label_print.lot_state", "label_print.output", "bedside_scan.method",
        "adverse_event.attribution",
        "adverse_event.outcome", "follow_up.response", "spec_version.stage",
        "adverse_event_update.outcome", "adverse_event_update.attribution",
        "adverse_event_report.kind",
        "record_signature.subject_kind", "record_signature.meaning",
        "role_grant.role", "role_grant.previous_role", "role_grant.state",
        "material.category", "material_lot.state", "equipment_event.kind",
        "dose_cohort.dose_basis", "prescription.dose_basis", "patient.age_band", "patient.sex",
        "retained_sample.sample_type", "retained_sample.container", "retained_sample.unit",
        "retained_sample_withdrawal.reason",
        "excursion_decision.outcome",
        "mail_outbox.event", "mail_outbox.status",
    }  # fmt: skip
    assert typed == expected
    for _table, column in COLUMNS:
        assert issubclass(column.type.enum_class, StrEnum)
        assert column.type.native_enum is False and column.type.create_constraint is True


@pytest.mark.parametrize(("table", "column"), COLUMNS, ids=IDS)
def test_the_database_refuses_a_value_outside_the_enum(engine, table, column):
    # Its own constraint, or another that reads the column (cell_bank's one_parent reads tier).
    names = {f"ck_{table.name}_{column.name}"} | {
        c.name
        for c in table.constraints
        if isinstance(c, CheckConstraint) and re.search(rf"\b{column.name}\b", str(c.sqltext))
    }
    # A near miss, as long as a real value: the right word in the wrong case.
    bad = next(iter(column.type.enum_class)).value.swapcase()
    with engine.connect() as conn:
        assert conn.execute(text(f"SELECT count(*) FROM {table.name}")).scalar(), (
            f"no {table.name} row to test against: add one to ROWS"
        )
    # Updated in place (records the triggers keep are never updated: they refuse it first).
    if table.name not in RECORD_GUARDS and table.name not in APPEND_ONLY_TABLES:
        _refused(engine, f"UPDATE {table.name} SET {column.name} = :bad", names, bad=bad)
    # Inserted: a copy of a row with the value replaced (refused before any unique key is met).
    copied = [c.name for c in table.columns if not (c.primary_key and c.autoincrement is True)]
    values = [":bad" if n == column.name else n for n in copied]
    _refused(
        engine,
        f"INSERT INTO {table.name} ({', '.join(copied)})"
        f" SELECT {', '.join(values)} FROM {table.name} LIMIT 1",
        names,
        bad=bad,
    )


@pytest.mark.parametrize(("table", "column"), COLUMNS, ids=IDS)
def test_the_database_checks_exactly_the_enums_values(engine, table, column):
    """The constraint the migrations made names every value of the enum and nothing else."""
    name = f"ck_{table.name}_{column.name}"
    found = {c["name"]: c["sqltext"] for c in inspect(engine).get_check_constraints(table.name)}
    assert name in found
    assert set(re.findall(r"'([^']*)'", found[name])) == {m.value for m in column.type.enum_class}


def test_every_check_constraint_the_models_declare_is_in_the_database(engine):
    insp = inspect(engine)
    for table in Base.metadata.sorted_tables:
        declared = {c.name for c in table.constraints if isinstance(c, CheckConstraint)}
        assert declared == {c["name"] for c in insp.get_check_constraints(table.name)}, table.name


def test_the_orm_refuses_an_unknown_value_before_sending_it(session):
    lot = session.query(Lot).first()
    lot.state = "RELEASD"
    with pytest.raises(StatementError, match="RELEASD"):
        session.flush()
    session.rollback()


def test_states_read_back_as_enum_members_and_serialise_as_their_value(session):
    from lotrack.domain.states import LotState

    lot = session.query(Lot).first()
    assert type(lot.state) is LotState
    assert f"{lot.state}" == lot.state.value and str(lot.state) == lot.state.value
