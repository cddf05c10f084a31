"""QA release through its service, and every way around it refused with its reason: self-release,
each blocker, a wrong password (counted toward lockout), a locked account, someone else's name, a
wrong meaning, no reason; a signature voids when the dossier changes, not when the state does."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lotrack.db import utcnow
from lotrack.domain.decisions import Action
from lotrack.domain.errors import Conflict, Forbidden, ValidationFailed
from lotrack.models import Lot, Signature, User
from lotrack.services import (
    accounts,
    audit,
    containment,
    deviation,
    donor,
    qualification,
    result,
)
from lotrack.services import lot as lots
from lotrack.services.dossier import dossier_hash
from lotrack.services.release import Lockout, SignIn, decide, review, sign_review
from lotrack.services.seed_quality import RELEASE_VALUES
from lotrack.services.signature import SignatureRefused, signatures_of
from tests.conftest import FACILITY, PASSWORDS, user
from tests.record_signing import signs

LOCKOUT = Lockout(max_failures=5, lockout_minutes=15)
MEANING = {
    Action.RELEASE: "approved for release",
    Action.REJECT: "rejected",
    Action.UNHOLD: "hold lifted",
    Action.HOLD: "placed on hold",
    Action.RECALL: "recalled",
}

BAGS = dict(
    container="bag", count=2, cells_per_unit=72_000_000, volume_ml=Decimal("18.00"),
    facility_id=FACILITY, freezer="LN2-2", rack="C", box="9",
)  # fmt: skip


def new_lot(
    s: Session,
    run_code: str = "RUN-2025-01",
    harvested_on: dt.date = dt.date(2025, 8, 18),
    *,
    skip: tuple[str, ...] = (),
    values: dict[str, str] | None = None,
    unverified: tuple[str, ...] = (),
) -> Lot:
    """A new quarantined lot with two bags and the demo's passing release results (unless told
    otherwise), entered by tech and verified by tech2."""
    tech, tech2 = user(s, "tech"), user(s, "tech2")
    expires = harvested_on + dt.timedelta(days=3 * 365)
    lot = lots.register_lot(
        s, tech, run_code=run_code, harvested_on=harvested_on, expires_on=expires
    )
    s.flush()
    lots.fill_units(s, tech, lot, **BAGS)
    for analyte, value, unit in RELEASE_VALUES:
        if analyte in skip:
            continue
        value = (values or {}).get(analyte, value)
        day = utcnow().date() - dt.timedelta(days=3) if value == "pending" else harvested_on
        r = result.record_result(
            s, tech, lot, test=analyte, value=value, unit=unit, performed_on=day
        )
        s.flush()
        if analyte not in unverified and r.verdict != "pending":
            result.verify_result(s, tech2, r)
    s.flush()
    return lot


def add_user(s: Session, username: str, role: str = "qa") -> tuple[User, str]:
    password = f"{username}-long-password"
    made = accounts.create_user(
        s,
        None,
        username=username,
        full_name=f"User {username}",
        role=role,
        password=password,
        must_change_password=False,
    )
    s.flush()
    return made, password


def signing(username: str, action: Action, password: str | None = None, reason: str = "") -> SignIn:
    return SignIn(username, password or PASSWORDS[username], MEANING[action], reason)


def qa_decides(s: Session, lot: Lot, action: Action, reason: str = "dossier reviewed"):
    return decide(s, user(s, "qa"), lot, action, signing("qa", action, reason=reason), LOCKOUT)


def qa_contains(s: Session, kind: str, reason: str = "customer complaint", **scope):
    """A hold or recall of `lot=` or `bank=`, signed by qa."""
    action = Action.RECALL if kind == "recall" else Action.HOLD
    sign_in = signing("qa", action, reason=reason)
    record = containment.contain(
        s, user(s, "qa"), kind=kind, sign_in=sign_in, lockout=LOCKOUT, **scope
    )
    s.flush()
    return record


def attempt(s: Session, lot: Lot, sign_in: SignIn, actor: User | None = None, **kw):
    """A release (unless `action`) by qa (unless `actor`) signing with `sign_in`."""
    action, lockout = kw.pop("action", Action.RELEASE), kw.pop("lockout", LOCKOUT)
    return decide(s, actor or user(s, "qa"), lot, action, sign_in, lockout)


def signature_count(s: Session, lot: Lot) -> int:
    return s.scalar(select(func.count()).where(Signature.lot_id == lot.id)) or 0


def test_qa_releases_a_releasable_lot_under_a_signature_of_its_dossier(session):
    s = session
    lot = new_lot(s)
    assert review(s, lot).releasable and review(s, lot).blockers == []
    sig = attempt(s, lot, SignIn(" QA ", PASSWORDS["qa"], MEANING[Action.RELEASE]))
    assert (lot.state, lot.held_from) == ("RELEASED", None)
    assert (sig.action, sig.meaning) == ("release", "approved for release")
    assert (sig.signer_username, sig.signer_name) == ("qa", "Demo QA Reviewer")
    assert sig.dossier_sha256 == dossier_hash(s, lot)
    assert sig.signed_at.utcoffset() == dt.timedelta(0)
    s.commit()
    last = audit.history(s, "lot", str(lot.id))[-1]
    assert (last.action, last.actor) == ("release", "qa")
    assert json.loads(last.changes) == {"state": ["QUARANTINE", "RELEASED"]}
    assert [(x.signature.id, x.void) for x in signatures_of(s, lot)] == [(sig.id, False)]
    assert audit.verify(s).ok


def test_whoever_verified_a_result_may_not_release_the_lot_but_another_qa_may(session):
    s = session
    lot = new_lot(s, unverified=("POTENCY",))
    qa2, password = add_user(s, "qa2")
    potency = next(r for r in result.results_of(s, lot) if r.test_code == "POTENCY")
    result.verify_result(s, qa2, potency)  # QA may verify; then QA2 tested this lot
    with pytest.raises(Conflict) as err:
        attempt(s, lot, signing("qa2", Action.RELEASE, password), qa2)
    assert err.value.fields == {"username": "tested or verified this lot"}
    assert "verified results of this lot" in err.value.message
    assert (lot.state, signature_count(s, lot)) == ("QUARANTINE", 0)
    assert qa_decides(s, lot, Action.RELEASE).signer_username == "qa"
    assert lot.state == "RELEASED"


def test_whoever_entered_a_result_may_not_release_the_lot_even_once_made_qa(session):
    s = session
    lot = new_lot(s)
    tech = user(s, "tech")
    with pytest.raises(Forbidden):  # a technician may not sign release at all
        attempt(s, lot, signing("tech", Action.RELEASE), tech)
    tech.role = "qa"  # later given the QA role: still the analyst of this lot
    with pytest.raises(Conflict) as err:
        attempt(s, lot, signing("tech", Action.RELEASE), tech)
    assert "entered results of this lot" in err.value.message
    assert (lot.state, signature_count(s, lot)) == ("QUARANTINE", 0)


def _run_deviation(s: Session, lot: Lot) -> None:
    deviation.open_deviation(s, user(s, "tech"), run=lot.run, description="incubator alarm")


BLOCKED = {
    "missing": (dict(skip=("KARYOTYPE",)), {("missing", "KARYOTYPE")}),
    "pending": (dict(values={"STERILITY": "pending"}), {("pending", "STERILITY")}),
    "failing": (dict(values={"VIAB": "70.0"}), {("failing", "VIAB"), ("investigation", "OOS")}),
    "unverified": (dict(unverified=("CELLS",)), {("unverified", "CELLS")}),
    "lot deviation": (
        dict(after=lambda s, lot: deviation.open_deviation(
            s, user(s, "tech"), lot=lot, description="label misprint")),
        {("deviation", "DEV")},
    ),
    "run deviation": (dict(after=_run_deviation), {("deviation", "DEV")}),
    "passage": (  # RUN-2025-03 is on WCB-001-B, where CFM-2025-0003's OOS is open too
        dict(run_code="RUN-2025-03", harvested_on=dt.date(2025, 11, 20)),
        {("passage", "RUN-2025-03"), ("investigation", "OOS")},
    ),
    "donor": (
        dict(after=lambda s, lot: donor.determine_eligibility(
            s, user(s, "qa"), donor.get_donor(s, "FD-0001"), determination="ineligible",
            responsible_person="Demo Medical Director", reason="look-back: HBV reactive")),
        {("donor", "FD-0001")},
    ),
    "bank": (
        dict(after=lambda s, lot: qualification.qualify_bank(
            s, user(s, "qa"), lot.run.bank, decision="not_qualified", reason="mycoplasma found",
            **signs("qa", "not qualified"))),
        {("bank", "WCB-001-A")},
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", BLOCKED)
def test_release_with_each_blocker_is_refused_naming_it(session, case):
    s = session
    kw, expected = BLOCKED[case]
    kw = dict(kw)
    after = kw.pop("after", None)
    lot = new_lot(s, **kw)
    if after is not None:
        after(s, lot)
        s.flush()
    blockers = review(s, lot).blockers
    assert {k for k, _ in expected} == {b.kind for b in blockers}, blockers  # this one alone
    for kind, prefix in expected:
        assert any(b.kind == kind and b.subject.startswith(prefix) for b in blockers), blockers
    with pytest.raises(Conflict) as err:
        qa_decides(s, lot, Action.RELEASE)
    for b in blockers:
        assert b.message in err.value.message
    assert sorted(err.value.fields.values()) == sorted(b.message for b in blockers)
    assert (lot.state, signature_count(s, lot)) == ("QUARANTINE", 0)


def test_a_wrong_password_signs_nothing_and_counts_toward_the_signing_lock(demo_app, session):
    s = session
    lot = new_lot(s)
    s.commit()
    with pytest.raises(SignatureRefused) as err:
        attempt(s, lot, signing("qa", Action.RELEASE, "not-the-password"))
    assert err.value.fields == {"password": "wrong password"} and err.value.keep_writes
    s.commit()  # what lotrack/errors.py and web/forms.py do for keep_writes
    with demo_app.extensions["lotrack_db"].sessionmaker() as fresh:
        assert (user(fresh, "qa").failed_signings, user(fresh, "qa").failed_logins) == (1, 0)
        assert fresh.get(Lot, lot.id).state == "QUARANTINE"
        assert signature_count(fresh, lot) == 0
        actions = [
            e.action for e in audit.history(fresh, "user_account", str(user(fresh, "qa").id))
        ]
        assert actions[-2:] == ["signing_failed", "signature_refused"]
        assert audit.verify(fresh).ok


def test_locked_signing_refuses_even_the_right_password_and_leaves_login_alone(demo_app, session):
    s = session
    lot = new_lot(s)
    lockout = Lockout(max_failures=3, lockout_minutes=15)
    for _ in range(3):
        with pytest.raises(SignatureRefused):
            attempt(s, lot, signing("qa", Action.RELEASE, "nope-nope"), lockout=lockout)
        s.commit()
    qa = user(s, "qa")
    assert qa.signing_locked_until is not None and qa.signing_locked_until > utcnow()
    assert qa.locked_until is None and qa.failed_logins == 0  # logging in is not locked
    with pytest.raises(Forbidden) as err:
        attempt(s, lot, signing("qa", Action.RELEASE), qa, lockout=lockout)
    assert err.value.fields == {"password": "signing locked"}
    assert "signing is locked" in err.value.message
    assert (lot.state, signature_count(s, lot)) == ("QUARANTINE", 0)


def test_signing_under_someone_elses_name_is_refused(session):
    s = session
    lot = new_lot(s)
    _qa2, password = add_user(s, "qa2")
    with pytest.raises(Forbidden) as err:
        attempt(s, lot, signing("qa2", Action.RELEASE, password))
    assert err.value.fields == {"username": "you are logged in as qa"}
    assert (lot.state, signature_count(s, lot)) == ("QUARANTINE", 0)
    assert (user(s, "qa").failed_signings, user(s, "qa2").failed_signings) == (0, 0)


@pytest.mark.parametrize("meaning", ["rejected", "reviewed", "recalled", "", "approved"])
def test_a_release_signed_with_another_meaning_is_refused(session, meaning):
    s = session
    lot = new_lot(s)
    with pytest.raises(Conflict) as err:
        attempt(s, lot, SignIn("qa", PASSWORDS["qa"], meaning))
    assert err.value.fields == {"meaning": "one of: approved for release"}
    assert (lot.state, signature_count(s, lot)) == ("QUARANTINE", 0)


@pytest.mark.parametrize(
    "action", [Action.EXCEPTIONAL_RELEASE, Action.HOLD, Action.RECALL, Action.REVIEW]
)
def test_decide_takes_only_release_reject_and_unhold(session, action):
    """An exceptional release needs two signatures and holds/recalls a record: not via decide."""
    s = session
    lot = lots.get_lot(s, "CFM-2025-0001" if action == Action.RECALL else "CFM-2025-0003")
    before = (lot.state, signature_count(s, lot))
    meaning = "exceptional release approved (QA)" if action == Action.EXCEPTIONAL_RELEASE else ""
    sign = SignIn("qa", PASSWORDS["qa"], meaning or MEANING.get(action, "reviewed"), "why")
    with pytest.raises((Conflict, ValidationFailed)) as err:
        attempt(s, lot, sign, action=action)
    assert "action" in err.value.fields
    assert (lot.state, signature_count(s, lot)) == before


def test_reject_and_unhold_need_a_reason(session):
    s = session
    lot = new_lot(s)
    for action in (Action.REJECT, Action.UNHOLD):
        if action == Action.UNHOLD:
            qa_contains(s, "hold", lot=lot)
        count = signature_count(s, lot)
        with pytest.raises((Conflict, ValidationFailed)) as err:
            qa_decides(s, lot, action, reason="  ")
        assert err.value.fields == {"reason": "required"}
        assert signature_count(s, lot) == count
    assert qa_decides(s, lot, Action.UNHOLD, reason="review done").meaning == "hold lifted"
    assert (lot.state, lot.held_from) == ("QUARANTINE", None)  # back to where the hold found it
    sig = qa_decides(s, lot, Action.REJECT, reason="potency trend")
    assert (lot.state, sig.reason) == ("REJECTED", "potency trend")


def test_a_review_signature_voids_on_a_new_result_a_verification_or_a_run_deviation(session):
    s = session
    lot = new_lot(s, skip=("KARYOTYPE",), unverified=("CELLS",))
    qa = user(s, "qa")
    sign = SignIn("qa", PASSWORDS["qa"], "reviewed")

    def voids() -> list[bool]:
        s.flush()
        return [x.void for x in signatures_of(s, lot)]

    sign_review(s, qa, lot, sign, LOCKOUT)
    assert voids() == [False]
    result.record_result(
        s, user(s, "tech"), lot, test="KARYOTYPE", value="Normal", performed_on=lot.harvested_on
    )
    assert voids() == [True]
    sign_review(s, qa, lot, sign, LOCKOUT)
    cells = next(r for r in result.results_of(s, lot) if r.test_code == "CELLS")
    result.verify_result(s, user(s, "tech2"), cells)
    assert voids() == [True, True]
    sign_review(s, qa, lot, sign, LOCKOUT)
    _run_deviation(s, lot)
    assert voids() == [True, True, True]
