"""Exceptional release: only for a lot that fails its criteria, on a complete request; the lot moves
only once QA and the medical director have both signed the dossier as it stands; whoever tested the
lot cannot sign for QA; who was told is logged; the lot can still be held and recalled."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lotrack.db import utcnow
from lotrack.domain.decisions import Action
from lotrack.domain.errors import Conflict, Forbidden, ValidationFailed
from lotrack.models import ExceptionalRelease, Lot, Notification, User
from lotrack.services import audit, clock, deviation, exceptional, result, timeline
from lotrack.services import lot as lots
from lotrack.services.release import SignIn
from lotrack.services.signature import SignatureRefused, signatures_of
from tests.conftest import PASSWORDS, user
from tests.record_signing import signs
from tests.services.test_release import LOCKOUT, add_user, new_lot, qa_contains, qa_decides

QA_MEANING = "exceptional release approved (QA)"
MD_MEANING = "exceptional release approved (medical director)"
REQUEST = {
    "physician": "Dr. Demo Physician, SZ-GIMI",
    "patient": "SZ-GIMI/SUBJ-001",  # a patient record, by its wristband
    "request": "no alternative product; the patient's condition is deteriorating",
    "requested_on": dt.date(2025, 11, 1),
    "risk_assessment": "viability 78.9% against 80%: dose adjusted for viable cells",
}


def ask(s: Session, lot: Lot, **changes) -> ExceptionalRelease:
    er = exceptional.request_release(s, user(s, "qa"), lot, **(REQUEST | changes))
    s.flush()
    return er


def sign(s: Session, er: ExceptionalRelease, signer: User, password: str | None = None, **kw):
    meaning = kw.pop("meaning", MD_MEANING if signer.role == "medical_director" else QA_MEANING)
    sign_in = SignIn(signer.username, password or PASSWORDS[signer.username], meaning, "")
    return exceptional.sign_release(s, signer, er, sign_in, LOCKOUT)


def failing(s: Session) -> tuple[Lot, ExceptionalRelease]:
    """Demo lot CFM-2025-0003 (failed viability, open OOS) with an exceptional release request."""
    lot = lots.get_lot(s, "CFM-2025-0003")
    return lot, ask(s, lot)


def test_a_lot_that_meets_its_specification_is_released_the_ordinary_way(session):
    s = session
    with pytest.raises(Conflict) as err:
        ask(s, new_lot(s))
    assert err.value.fields == {"lot": "releasable"}
    with pytest.raises(Conflict) as err:
        ask(s, lots.get_lot(s, "CFM-2025-0001"))  # released already
    assert err.value.fields == {"state": "is RELEASED"}
    assert s.scalar(select(func.count()).select_from(ExceptionalRelease)) == 0


@pytest.mark.parametrize("field", ["physician", "patient", "request", "risk_assessment"])
def test_a_request_needs_every_field(session, field):
    s = session
    lot = lots.get_lot(s, "CFM-2025-0003")
    with pytest.raises(ValidationFailed) as err:
        ask(s, lot, **{field: "  "})
    assert err.value.fields == {field: "required"}
    with pytest.raises(ValidationFailed) as err:
        tomorrow = clock.today(s) + dt.timedelta(days=1)  # the facility's calendar, not UTC's
        ask(s, lot, requested_on=tomorrow, **{field: ""})
    assert err.value.fields == {field: "required", "requested_on": "in the future"}
    assert s.scalar(select(func.count()).select_from(ExceptionalRelease)) == 0


def test_only_qa_requests_and_one_request_is_pending_at_a_time(session):
    s = session
    lot = lots.get_lot(s, "CFM-2025-0003")
    with pytest.raises(Forbidden):
        exceptional.request_release(s, user(s, "md"), lot, **REQUEST)
    er = ask(s, lot)
    assert er.number == f"ER-{utcnow().year}-001" and er.status == "pending"
    assert any("VIAB" in b or "Viability" in b for b in json.loads(er.blockers))
    with pytest.raises(Conflict) as err:
        ask(s, lot)
    assert err.value.fields == {"lot": "request pending"}
    exceptional.withdraw(s, user(s, "qa"), er, "the patient improved")
    assert ask(s, lot).number == f"ER-{utcnow().year}-002"
    with pytest.raises(Conflict):
        sign(s, er, user(s, "qa"))  # a withdrawn request is never signed


def test_qa_and_the_medical_director_together_release_the_lot_exceptionally(session):
    s = session
    lot, er = failing(s)
    sign(s, er, user(s, "qa"))
    assert (lot.state, er.status) == ("QUARANTINE", "pending")
    last = sign(s, er, user(s, "md"))
    assert (lot.state, er.status) == ("EXCEPTIONAL_RELEASE", "approved")
    assert last.action == "exceptional_release" and last.exceptional_release_id == er.id
    assert [(x.signer_username, x.meaning) for x in exceptional.signatures_for(s, er)] == [
        ("qa", QA_MEANING),
        ("md", MD_MEANING),
    ]
    s.commit()
    state_change = audit.history(s, "lot", str(lot.id))[-1]
    assert (state_change.action, state_change.actor) == ("exceptional_release", "md")
    assert json.loads(state_change.changes) == {"state": ["QUARANTINE", "EXCEPTIONAL_RELEASE"]}
    assert audit.history(s, "exceptional_release", str(er.id))[-1].reason == (
        "both signatures given"
    )
    assert audit.verify(s).ok


def test_the_medical_director_alone_does_not_release_and_no_role_signs_twice(session):
    s = session
    lot, er = failing(s)
    md = user(s, "md")
    sign(s, er, md)
    assert (lot.state, er.status) == ("QUARANTINE", "pending")
    with pytest.raises(Conflict) as err:
        sign(s, er, md)
    assert err.value.fields == {"meaning": "signed"}
    with pytest.raises(Conflict) as err:
        sign(s, er, md, meaning=QA_MEANING)  # the MD cannot sign for QA either
    assert err.value.fields == {"meaning": f"one of: {MD_MEANING}"}
    qa2, password = add_user(s, "qa2")
    sign(s, er, user(s, "qa"))
    assert lot.state == "EXCEPTIONAL_RELEASE"
    with pytest.raises(Conflict):
        sign(s, er, qa2, password)  # approved: nothing left to sign
    assert len(exceptional.signatures_for(s, er)) == 2


def test_a_second_qa_signature_is_refused_before_the_medical_director_signs(session):
    s = session
    lot, er = failing(s)
    qa2, password = add_user(s, "qa2")
    sign(s, er, user(s, "qa"))
    for signer, pw in ((user(s, "qa"), None), (qa2, password)):
        with pytest.raises(Conflict) as err:
            sign(s, er, signer, pw)
        assert err.value.fields == {"meaning": "signed"}
    assert (lot.state, len(exceptional.signatures_for(s, er))) == ("QUARANTINE", 1)


def test_a_qa_signer_who_verified_a_result_of_the_lot_is_refused(session):
    s = session
    lot, er = failing(s)
    qa2, password = add_user(s, "qa2")
    viab = next(r for r in result.results_of(s, lot) if r.test_code == "VIAB")
    result.verify_result(s, qa2, viab)
    with pytest.raises(Conflict) as err:
        sign(s, er, qa2, password)
    assert err.value.fields == {"username": "tested or verified this lot"}
    assert exceptional.signatures_for(s, er) == []
    sign(s, er, user(s, "qa"))
    sign(s, er, user(s, "md"))
    assert lot.state == "EXCEPTIONAL_RELEASE"


def test_a_wrong_password_signs_nothing(session):
    s = session
    _lot, er = failing(s)
    with pytest.raises(SignatureRefused):
        sign(s, er, user(s, "md"), "not-the-md-password")
    assert exceptional.signatures_for(s, er) == [] and user(s, "md").failed_signings == 1


def test_a_signature_given_before_the_dossier_changed_no_longer_counts(session):
    s = session
    lot, er = failing(s)
    sign(s, er, user(s, "qa"))
    deviation.open_deviation(s, user(s, "tech"), lot=lot, description="thaw log incomplete")
    s.flush()
    sign(s, er, user(s, "md"))
    assert (lot.state, er.status) == ("QUARANTINE", "pending")  # QA signed another dossier
    assert [x.void for x in signatures_of(s, lot)] == [True, False]
    # QA signs again, now on the dossier the MD signed: but the deviation arose after the request,
    # and the release accepts only what the request named.
    with pytest.raises(Conflict) as err:
        sign(s, er, user(s, "qa"))
    assert "Deviation DEV-" in err.value.message and "did not name" in err.value.message
    assert (lot.state, er.status, len(signatures_of(s, lot))) == ("QUARANTINE", "pending", 2)
    dev = deviation.open_for_lot(s, lot)[0]
    deviation.assess(s, user(s, "qa"), dev, "no impact on the product")
    deviation.close(
        s,
        user(s, "qa"),
        dev,
        "thaw log completed from the device's memory",
        **signs("qa", "closed"),
    )
    s.flush()
    sign(s, er, user(s, "md"))  # the dossier changed again: both sign it as it now stands
    sign(s, er, user(s, "qa"))
    assert (lot.state, er.status) == ("EXCEPTIONAL_RELEASE", "approved")


def test_a_lot_rejected_between_the_signatures_is_not_released(session):
    s = session
    lot, er = failing(s)
    sign(s, er, user(s, "qa"))
    qa_decides(s, lot, Action.REJECT, reason="sterility breach")
    with pytest.raises(Conflict) as err:
        sign(s, er, user(s, "md"))
    assert err.value.fields == {"state": "is REJECTED"}
    assert lot.state == "REJECTED"


def notify(s: Session, actor: User, er: ExceptionalRelease, **changes) -> Notification:
    fields = {
        "recipient_role": "physician",
        "recipient": REQUEST["physician"],
        "method": "telephone, confirmed by e-mail",
        "notified_at": utcnow() - dt.timedelta(minutes=5),
    }
    return exceptional.record_notification(s, actor, er=er, **(fields | changes))


def test_notifications_are_logged_with_validation(session):
    s = session
    lot, er = failing(s)
    qa = user(s, "qa")
    bad = {
        "recipient_role": ("press", "one of physician, sponsor, site"),
        "recipient": ("  ", "required"),
        "method": ("", "required"),
        "notified_at": (utcnow() + dt.timedelta(hours=1), "in the future"),
    }
    for field, (value, message) in bad.items():
        with pytest.raises(ValidationFailed) as err:
            notify(s, qa, er, **{field: value})
        assert err.value.fields == {field: message}
    with pytest.raises(ValidationFailed) as err:
        notify(s, qa, er, **{k: v for k, (v, _m) in bad.items()})
    assert set(err.value.fields) == set(bad)
    with pytest.raises(Forbidden):
        notify(s, user(s, "tech"), er)
    assert s.scalar(select(func.count()).select_from(Notification)) == 0
    notify(s, qa, er)
    notify(s, qa, er, recipient_role="sponsor", recipient="Sponsor safety desk", method="e-mail")
    s.commit()
    rows = s.scalars(select(Notification).order_by(Notification.id)).all()
    assert [(n.recipient_role, n.exceptional_release_id) for n in rows] == [
        ("physician", er.id),
        ("sponsor", er.id),
    ]
    shown = {(e.record, e.action) for e in timeline.lot_timeline(s, lot)}
    assert {(f"notification {n.id}", "create") for n in rows} <= shown  # in the lot's audit review
    assert (f"exceptional_release {er.number}", "create") in shown
    assert audit.verify(s).ok


def test_an_exceptionally_released_lot_can_be_held_lifted_and_recalled(session):
    s = session
    lot, er = failing(s)
    sign(s, er, user(s, "qa"))
    sign(s, er, user(s, "md"))
    qa_contains(s, "hold", lot=lot)
    assert (lot.state, lot.held_from) == ("ON_HOLD", "EXCEPTIONAL_RELEASE")
    qa_decides(s, lot, Action.UNHOLD, reason="complaint unfounded")
    assert (lot.state, lot.held_from) == ("EXCEPTIONAL_RELEASE", None)
    qa_contains(s, "recall", lot=lot)
    assert lot.state == "RECALLED"
