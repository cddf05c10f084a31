"""The bedside check through its service on the demo database: a forged, altered or unreadable
label is NO-GO and recorded, never an exception; GO only after the unit was received here, thawed
within the window and allocated to this consented, eligible patient; the infusion follows a GO by
the same nurse within 30 minutes, witnessed under signature by another clinician of the site; a
recall turns the next scan into NO-GO."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from flask import Flask
from sqlalchemy.orm import Session

from lotrack.db import utcnow
from lotrack.documents.tokens import make_token
from lotrack.domain.bedside import BedsideVerdict
from lotrack.domain.errors import Conflict, Forbidden, NotFound, ValidationFailed
from lotrack.domain.isbt128 import check_character
from lotrack.models import BedsideScan, Infusion, Patient, User
from lotrack.services import api_tokens, bedside, clinical, containment, exceptional
from lotrack.services import infusion as infusions
from lotrack.services import lot as lots
from lotrack.services.release import Lockout, SignIn
from tests import clinical_setup as cs
from tests.conftest import counting, user
from tests.services.test_clinical import (
    ALL_CLEAR,
    DEMO_LOT,
    clinical_user,
    count,
    dins,
    enrol,
    prescribed,
    site_today,
)
from tests.services.test_exceptional_release import ask, sign
from tests.services.test_shipments import receive, send

MIN = dt.timedelta(minutes=1)


def key(s: Session) -> Ed25519PrivateKey:
    return s.info["key"]


@pytest.fixture
def s(session: Session, demo_app: Flask) -> Session:
    """The demo session, carrying the facility's label-signing key."""
    return with_key(session, demo_app)


def qr(s: Session, din: str) -> str:
    return f"{s.info['base']}/v/{make_token(key(s), 'U', din)}"


def ready(s: Session, nurse: User, code: str, din: str, thawed: dt.timedelta = 10 * MIN) -> Patient:
    """A patient prescribed one bag, `din` allocated, shipped, received and thawed `thawed` ago."""
    p = enrol(s, nurse, code)
    clinical.allocate(s, user(s, "tech"), prescribed(s, nurse, p), [din])
    receive(s, nurse, send(s, [din]), [din])
    infusions.record_thaw(s, nurse, din, utcnow() - thawed)
    s.flush()
    return p


def signed_by(witness: User, password: str | None = None) -> dict[str, str]:
    """The witness's signature as record_infusion takes it (the demo's password by default)."""
    return {
        "witness": witness.username,
        "witness_password": password or f"demo-{witness.username}-password",
        "witness_meaning": "witnessed",
    }


def give(s: Session, nurse: User, witness: User, p: Patient, din: str) -> Infusion:
    """Thaw, scan (GO) and infuse a unit allocated to `p` and received at the nurse's site."""
    infusions.record_thaw(s, nurse, din, utcnow() - 5 * MIN)
    row, verdict = scan(s, nurse, p.wristband, qr(s, din))
    assert verdict.go, verdict.reasons
    infusion = infusions.record_infusion(
        s, nurse, row, started_at=utcnow(), volume_ml=Decimal("18.00"), **signed_by(witness)
    )
    s.flush()
    return infusion


def infuse(
    s: Session, nurse: User, witness: User, code: str, din: str, cohort: str = "2x10^6/kg"
) -> Infusion:
    """A new patient of the nurse's site, prescribed, allocated, shipped one bag and infused."""
    p = enrol(s, nurse, code, cohort=cohort)
    clinical.allocate(s, user(s, "tech"), prescribed(s, nurse, p), [din])
    assert nurse.site is not None
    receive(s, nurse, send(s, [din], site=nurse.site.code), [din])
    return give(s, nurse, witness, p, din)


def with_key(session: Session, app: Flask) -> Session:
    session.info["key"] = app.extensions["lotrack_signing_key"]
    session.info["base"] = app.config["LOTRACK_PUBLIC_BASE_URL"]
    return session


def scan(
    s: Session, nurse: User, patient: str, text: str, **kw
) -> tuple[BedsideScan, BedsideVerdict]:
    kw.setdefault("method", "camera")
    done = bedside.check_scan(s, nurse, key=key(s), patient_text=patient, scan_text=text, **kw)
    s.flush()
    return done


def said(verdict: BedsideVerdict, words: str) -> bool:
    return any(words in r for r in verdict.reasons)


def forged(s: Session, din: str) -> dict[str, str]:
    """Label texts that prove nothing (a bare DIN is a bar code read: see the 1D tests)."""
    token = make_token(key(s), "U", din)
    middle = len(token) // 2
    changed = token[:middle] + ("A" if token[middle] != "A" else "B") + token[middle + 1 :]
    return {
        "another key": make_token(Ed25519PrivateKey.generate(), "U", din),
        "one character changed": changed,
        "changed inside the URL": f"{s.info['base']}/v/{changed}",
        "a certificate's code": make_token(key(s), "C", "COA-2025-0001:1"),
        "garbage": "'; DROP TABLE unit; --",
        "control characters": "\x1b[31m\x00\x07A9999\t",
        "empty": "",
        "blank": "   \n",
        "10 kB": "A" * 10_240,
        "10 kB of URL": f"{s.info['base']}/v/" + "x" * 10_240,
    }


def test_forged_and_unreadable_labels_are_no_go_and_every_attempt_is_recorded(s):
    nurse = user(s, "nurse")
    din = dins(s, DEMO_LOT)[0]
    p = ready(s, nurse, "P-001", din)
    attempts = forged(s, din)
    before = count(s, BedsideScan)
    for name, text in attempts.items():
        row, verdict = scan(s, nurse, p.wristband, text)
        assert not verdict.go and verdict.reasons, name
        assert said(verdict, "The label is not genuine"), name
        assert (row.go, row.unit_id, row.patient_id) == (False, None, p.id), name
        assert json.loads(row.reasons) == list(verdict.reasons)
        assert len(row.scan_text) <= 400 and row.scanned_by_id == nurse.id
    s.commit()
    assert count(s, BedsideScan) == before + len(attempts)  # committed, NO-GO or not
    row, verdict = scan(s, nurse, p.wristband, qr(s, "A999925999999"))  # genuine, unknown unit
    assert verdict.reasons == ("No unit A999925999999 is known to lotrack.",) and not row.go
    row, verdict = scan(s, nurse, p.wristband + "\x00" + "Z" * 10_000, qr(s, din))
    assert said(verdict, "wristband does not match") and row.patient_id is None
    _row, verdict = scan(s, nurse, p.wristband, qr(s, din))
    assert verdict.go, verdict.reasons  # the genuine label, same patient, same moment


def test_read_label_names_why_a_label_is_refused(s):
    din = dins(s, DEMO_LOT)[0]
    reads = {name: bedside.read_label(key(s), text) for name, text in forged(s, din).items()}
    assert not any(r.accepted for r in reads.values())
    assert {r.problem for r in reads.values()} == {"not_genuine"}
    assert "signature does not match" in reads["another key"].reason
    assert "not a unit label" in reads["a certificate's code"].reason
    assert reads["empty"].reason == reads["10 kB"].reason == "nothing readable was scanned"
    wrong = next(c for c in "0123456789" if c != check_character(din))
    mistyped = bedside.read_label(key(s), f"{din}{wrong}", "wedge")
    assert (mistyped.accepted, mistyped.problem) == (False, "check_mismatch")
    typed = bedside.read_label(key(s), f"{din[:5]} {din[5:7]} {din[7:]} {check_character(din)}")
    assert (typed.accepted, typed.din, typed.source) == (True, din, "typed")
    assert bedside.read_label(key(s), qr(s, din)) == bedside.LabelRead(True, din)
    # A Code 128 DIN alone: read by a scanner, a camera or a photo, never when typed.
    for text in (din, f"={din}", f"={din}00", f"{din}00"):
        for method in ("wedge", "camera", "photo"):
            read = bedside.read_label(key(s), text, method)
            assert (read.accepted, read.din, read.source) == (True, din, "barcode"), text
        read = bedside.read_label(key(s), text, "typed")
        assert (read.accepted, read.problem) == (False, "check_missing"), text


def test_a_unit_goes_from_allocation_to_infusion_only_through_a_go(s):
    nurse, tech = user(s, "nurse"), user(s, "tech")
    din, infused_before = dins(s, DEMO_LOT)[0], count(s, Infusion)
    p = enrol(s, nurse, "P-001")
    rx = prescribed(s, nurse, p)
    assert rx.cells_needed == 72_000_000
    clinical.allocate(s, tech, rx, [din])
    sent = send(s, [din])
    _r, verdict = scan(s, nurse, p.wristband, qr(s, din))
    assert said(verdict, "still in transit") and said(verdict, "thaw time is not recorded")
    with pytest.raises(Conflict):
        infusions.record_thaw(s, nurse, din, utcnow())  # not here yet
    receive(s, nurse, sent, [din])
    _r, verdict = scan(s, nurse, p.wristband, qr(s, din))
    assert verdict.reasons == ("The thaw time is not recorded: record it before infusion.",)
    infusions.record_thaw(s, nurse, din, utcnow() - 5 * MIN)
    row, verdict = scan(s, nurse, p.wristband.lower(), qr(s, din))
    assert (verdict.go, verdict.reasons, row.go) == (True, (), True)
    assert (row.unit_id, row.patient_id, row.site_id) == (
        lots.get_unit(s, din).id,
        p.id,
        nurse.site_id,
    )
    typed, verdict = scan(s, nurse, p.wristband, f"{din}{check_character(din)}", method="typed")
    assert verdict.go and typed.method == "typed"

    witness = clinical_user(s, "sznurse9")
    refusals: list[tuple[User, BedsideScan, dict[str, str], type[Exception], str]] = [
        (nurse, row, signed_by(nurse), ValidationFailed, "witness"),  # one's own witness
        (nurse, row, signed_by(tech), ValidationFailed, "witness"),  # not a clinician
        (nurse, row, signed_by(clinical_user(s, "bjnurse", "BJ-CIP")), ValidationFailed, "witness"),
        (nurse, row, {**signed_by(witness), "witness": "nobody"}, ValidationFailed, "witness"),
        (
            nurse,
            row,
            {**signed_by(witness), "witness_meaning": "approved for release"},
            ValidationFailed,
            "witness_meaning",
        ),
        (witness, row, signed_by(nurse), Conflict, "scan"),  # someone else's GO
    ]
    for operator, go_scan, signature, error, field in refusals:
        with pytest.raises(error) as refused:
            infusions.record_infusion(
                s, operator, go_scan, started_at=utcnow(), volume_ml=Decimal("18.00"), **signature
            )
        assert field in refused.value.fields
    started = utcnow()
    infusion = infusions.record_infusion(
        s,
        nurse,
        row,
        **signed_by(witness),
        started_at=started,
        stopped_at=started + 20 * MIN,
        volume_ml=Decimal("18.00"),
        premedication=" paracetamol 500 mg ",
        vital_signs="BP 118/76, HR 82, T 36.8",
    )
    s.flush()
    assert (infusion.unit.din, infusion.patient_id, infusion.prescription_id) == (din, p.id, rx.id)
    assert (infusion.operator_id, infusion.witness_id, infusion.scan_id) == (
        nurse.id,
        witness.id,
        row.id,
    )
    assert infusion.witness_meaning == "witnessed" and infusion.witness_signed_at is not None
    assert lots.get_unit(s, din).state == "infused"
    assert infusion.premedication == "paracetamol 500 mg"
    assert clinical.cells_infused(s, rx) == 72_000_000
    with pytest.raises(Conflict):  # a second submission of the same infusion
        infusions.record_infusion(
            s, nurse, typed, started_at=started, volume_ml=Decimal("18.00"), **signed_by(witness)
        )
    _r, verdict = scan(s, nurse, p.wristband, qr(s, din))
    assert said(verdict, "infused already") and said(verdict, "not among")
    s.commit()
    assert count(s, Infusion) == infused_before + 1


def test_an_infusion_needs_a_recent_go_scan_of_ones_own(s):
    nurse, witness = user(s, "nurse"), clinical_user(s, "sznurse9")
    din, other = dins(s, DEMO_LOT)[:2]
    p = ready(s, nurse, "P-001", din, thawed=40 * MIN)
    infused_before = count(s, Infusion)
    old, verdict = scan(s, nurse, p.wristband, qr(s, din), now=utcnow() - 31 * MIN)
    assert verdict.go
    no_go, verdict = scan(s, nurse, p.wristband, qr(s, other))
    assert not verdict.go
    for stale in (old, no_go):
        with pytest.raises(Conflict) as refused:
            infusions.record_infusion(s, nurse, stale, started_at=utcnow(), **signed_by(witness))
        assert "scan" in refused.value.fields
    fresh, _v = scan(s, nurse, p.wristband, qr(s, din))
    for started in (utcnow() - 45 * MIN, utcnow() + 10 * MIN):  # before the check; not yet
        with pytest.raises(ValidationFailed) as refused:
            infusions.record_infusion(s, nurse, fresh, started_at=started, **signed_by(witness))
        assert "started_at" in refused.value.fields
    assert count(s, Infusion) == infused_before


def test_a_recall_turns_the_next_scan_into_no_go(s):
    nurse = user(s, "nurse")
    din = dins(s, DEMO_LOT)[0]
    p = ready(s, nurse, "P-001", din)
    assert scan(s, nurse, p.wristband, qr(s, din))[1].go
    containment.contain(
        s,
        user(s, "qa"),
        kind="recall",
        lot=lots.get_lot(s, DEMO_LOT),
        sign_in=SignIn("qa", "demo-qa-password", "recalled", "sterility failure on retain"),
        lockout=Lockout(5, 15),
    )
    s.flush()
    _row, verdict = scan(s, nurse, p.wristband, qr(s, din))
    assert not verdict.go
    assert said(verdict, f"Lot {DEMO_LOT} has been RECALLED. Do not infuse; quarantine the unit.")


def test_a_dose_between_whole_bags_is_drawn_and_the_achieved_dose_recorded(s):
    """65 kg × 1×10^6/kg = 65×10^6 from a 72×10^6 bag of 18 mL (4×10^6/mL): the whole bag is
    +10.8 %, so 65 / 4 = 16.25 → 16.3 mL is drawn: 65.2×10^6 cells, 1,003,077 cells/kg,
    1.7 mL discarded."""
    nurse, witness = user(s, "nurse"), clinical_user(s, "sznurse9")
    din = dins(s, DEMO_LOT)[0]
    p = enrol(s, nurse, "P-065", weight="65", cohort="1e6/kg")
    rx = clinical.prescribe(s, user(s, "doctor"), p, planned_on=site_today())
    clinical.allocate(s, user(s, "tech"), rx, [din])
    receive(s, nurse, send(s, [din]), [din])
    infusions.record_thaw(s, nurse, din, utcnow() - 5 * MIN)
    s.flush()
    row, verdict = scan(s, nurse, p.wristband, qr(s, din))
    assert verdict.go and verdict.draw is not None, verdict.reasons
    assert (verdict.draw.volume_ml, verdict.draw.whole) == (Decimal("16.3"), False)
    before = count(s, Infusion)
    with pytest.raises(ValidationFailed) as whole:  # the whole bag: +10.8 %
        infusions.record_infusion(
            s, nurse, row, started_at=utcnow(), volume_ml=Decimal("18.00"), **signed_by(witness)
        )
    assert whole.value.fields == {"volume_ml": "16.3 mL from this unit"}
    with pytest.raises(ValidationFailed) as spilled:  # more than the bag holds
        infusions.record_infusion(
            s, nurse, row, started_at=utcnow(), volume_ml=Decimal("18.5"), **signed_by(witness)
        )
    assert "volume_ml" in spilled.value.fields
    assert count(s, Infusion) == before
    given = infusions.record_infusion(
        s, nurse, row, started_at=utcnow(), volume_ml=Decimal("16.3"), **signed_by(witness)
    )
    s.flush()
    assert (given.volume_ml, given.achieved_cells, given.achieved_per_kg, given.discarded_ml) == (
        Decimal("16.3"),
        65_200_000,
        1_003_077,
        Decimal("1.70"),
    )
    assert clinical.cells_infused(s, rx) == 65_200_000


def test_the_wrong_patient_site_window_or_eligibility_is_no_go(s):
    nurse = user(s, "nurse")
    din = dins(s, DEMO_LOT)[0]
    p = ready(s, nurse, "P-001", din, thawed=30 * MIN)
    other = enrol(s, nurse, "P-002")
    bj = clinical_user(s, "bjnurse", "BJ-CIP")
    cases = [
        (nurse, other.wristband, {}, "allocated to another patient"),
        (nurse, "SZ-GIMI/P-404", {}, "wristband does not match"),
        (bj, p.wristband, {}, "not been received at this site"),
        (bj, p.wristband, {}, "wristband does not match"),
        (nurse, p.wristband, {"now": utcnow() + 31 * MIN}, "must be infused within 60 minutes"),
    ]
    for who, band, kw, words in cases:
        _row, verdict = scan(s, who, band, qr(s, din), **kw)
        assert not verdict.go and said(verdict, words), (words, verdict.reasons)
    clinical.assess_eligibility(s, user(s, "doctor"), p, ALL_CLEAR | {"cannot_consent": True})
    _row, verdict = scan(s, nurse, p.wristband, qr(s, din))
    assert verdict.reasons == (
        "The patient is not eligible: exclusion applies: Unable to give informed consent.",
    )


def test_who_may_scan_and_what_is_refused_before_a_scan_is_recorded(s):
    nurse = user(s, "nurse")
    before = count(s, BedsideScan)
    with pytest.raises(Forbidden):
        scan(s, user(s, "tech"), "SZ-GIMI/P-001", "x")
    with pytest.raises(ValidationFailed) as refused:
        bedside.check_scan(s, nurse, key=key(s), patient_text="", scan_text="", method="telepathy")
    assert "method" in refused.value.fields
    assert count(s, BedsideScan) == before


def test_a_thaw_is_recorded_once_for_a_unit_received_here(s):
    nurse = user(s, "nurse")
    din, elsewhere = dins(s, DEMO_LOT)[:2]
    ready(s, nurse, "P-001", din, thawed=5 * MIN)
    wrong = next(c for c in "0123456789" if c != check_character(din))
    cases: list[tuple[str, dt.datetime, type[Exception], str]] = [
        (din, utcnow(), Conflict, "din"),  # thawed already
        (f"{din}{wrong}", utcnow(), ValidationFailed, "din"),  # mistyped
        ("A999925999999", utcnow(), NotFound, "din"),
        (elsewhere, utcnow(), Conflict, "din"),  # still at the manufacturer
        (din, utcnow() + 5 * MIN, ValidationFailed, "thawed_at"),
        (din, utcnow().replace(tzinfo=None), ValidationFailed, "thawed_at"),
    ]
    for text, when, error, field in cases:
        with pytest.raises(error) as refused:
            infusions.record_thaw(s, nurse, text, when)
        assert field in refused.value.fields, text


def test_an_exceptionally_released_unit_needs_the_physicians_acknowledgement(s):
    nurse = user(s, "nurse")
    lot = lots.get_lot(s, "CFM-2025-0003")  # failed viability: released by exception only
    p = enrol(s, nurse, "P-001")
    er = ask(s, lot, patient=p.wristband)
    sign(s, er, user(s, "qa"))
    sign(s, er, user(s, "md"))
    accepted = "exceptional release accepted (treating physician)"
    exceptional.accept_release(
        s, nurse, er, SignIn("nurse", "demo-nurse-password", accepted), Lockout(5, 15)
    )
    exceptional.record_notification(
        s,
        user(s, "qa"),
        recipient_role="sponsor",
        recipient="Sponsor",
        method="e-mail",
        notified_at=utcnow() - MIN,
        er=er,
    )
    s.flush()
    assert lot.state == "EXCEPTIONAL_RELEASE"
    din = lot.units[0].din
    clinical.allocate(s, user(s, "tech"), prescribed(s, nurse, p), [din])
    receive(s, nurse, send(s, [din]), [din])
    infusions.record_thaw(s, nurse, din, utcnow() - 10 * MIN)
    s.flush()
    first, verdict = scan(s, nurse, p.wristband, qr(s, din))
    assert (verdict.go, verdict.needs_acknowledgement) == (False, True)
    assert not first.exceptional_acknowledged
    assert verdict.reasons == (
        "Lot CFM-2025-0003 was released by exception: the physician must acknowledge the"
        " exceptional release before infusion.",
    )
    row, verdict = scan(s, nurse, p.wristband, qr(s, din), acknowledge_exceptional=True)
    assert verdict.go and row.go and not verdict.needs_acknowledgement
    s.flush()
    s.expire(row)  # the record keeps the acknowledgement, for the reports and the auditor
    assert row.exceptional_acknowledged


# A GO check through the API runs at most this many SQL statements (BEGIN, the token with its
# user, the unit's facts, the patient, the prescription's containers for the dose rule, the scan,
# the audit seal's three): was 20 before the facts were gathered in one query. A guard against
# one query per fact creeping back.
CHECK_STATEMENTS = 9


def test_a_bedside_check_through_the_api_runs_a_bounded_number_of_statements(demo_app):
    din, _check_character = cs.ready_din(demo_app)
    cs.thaw(demo_app, din)
    with cs.db(demo_app) as s:
        token = api_tokens.create_token(s, None, user(s, "nurse"))
        s.commit()
    client = demo_app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    body = {"patient": cs.READY, "scan": cs.label(demo_app, din), "method": "camera"}
    client.post("/api/v1/bedside/check", json=body, headers=headers)  # the token's first use
    with counting(demo_app) as seen:
        resp = client.post("/api/v1/bedside/check", json=body, headers=headers)
    assert resp.status_code == 200 and resp.get_json()["go"] is True, resp.get_json()
    assert len(seen) <= CHECK_STATEMENTS, seen
    # The token was used a moment ago: its last-use stamp is not written again.
    assert not [q for q in seen if q.lstrip().upper().startswith("UPDATE API_TOKEN")], seen
