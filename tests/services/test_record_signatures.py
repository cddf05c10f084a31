"""Record signatures as the services make them: proved before anything is written, made in the
same transaction as the decision, void once the record changes, and never changed or deleted."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from lotrack.domain.errors import Conflict, Forbidden, ValidationFailed
from lotrack.models import RecordSignature
from lotrack.services import cellbank, qualification, record_signature, result
from lotrack.services.signature import SignatureRefused
from tests.conftest import execute_as_owner, user
from tests.record_signing import signs

BANK = "WCB-001-B"


def _qualify(s: Session, decision: str, **kw) -> RecordSignature:
    meaning = kw.pop("meaning", decision.replace("_", " "))
    return qualification.qualify_bank(
        s,
        user(s, kw.pop("actor", "qa")),
        cellbank.get_bank(s, BANK),
        decision=decision,
        reason="annual review",
        **signs(kw.pop("signer", "qa"), meaning, **kw),
    )


def test_the_signature_is_made_with_the_decision(session):
    s = session
    signed = _qualify(s, "not_qualified")
    bank = cellbank.get_bank(s, BANK)
    assert bank.qualification == "not_qualified"
    assert (signed.subject_kind, signed.subject_id, signed.meaning) == (
        "cell_bank",
        bank.id,
        "not qualified",
    )
    assert (signed.signer_username, signed.signer_name, signed.reason) == (
        "qa",
        "Demo QA Reviewer",
        "annual review",
    )
    assert signed.content_sha256 == record_signature.content_hash(s, bank)
    assert [x.signature for x in record_signature.signatures_of(s, bank)][-1] is signed


def test_a_wrong_password_refuses_before_anything_changes(session):
    s = session
    with pytest.raises(SignatureRefused) as err:
        _qualify(s, "not_qualified", password="wrong")
    assert err.value.fields == {"password": "wrong password"}
    assert cellbank.get_bank(s, BANK).qualification == "qualified"
    assert user(s, "qa").failed_signings == 1  # the signing lock counts it, not the login lock
    assert not [x for x in s.new if isinstance(x, RecordSignature)]


@pytest.mark.parametrize(
    ("kw", "error", "field"),
    [
        ({"signer": "md"}, Forbidden, "username"),
        ({"actor": "tech", "signer": "tech"}, Forbidden, None),
        ({"meaning": "qualified"}, ValidationFailed, "meaning"),
        ({"meaning": "approved"}, ValidationFailed, "meaning"),
    ],
)
def test_refusals_name_their_field_and_sign_nothing(session, kw, error, field):
    s = session
    with pytest.raises(error) as err:
        _qualify(s, "not_qualified", **kw)
    if field:
        assert field in err.value.fields
    assert cellbank.get_bank(s, BANK).qualification == "qualified"
    assert not [x for x in s.new if isinstance(x, RecordSignature)]


def test_the_same_decision_twice_is_refused(session):
    _qualify(session, "not_qualified")
    with pytest.raises(Conflict) as err:
        _qualify(session, "not_qualified")
    assert "decision" in err.value.fields


def test_a_signature_is_void_once_its_record_changes(session):
    s = session
    _qualify(s, "not_qualified")
    bank = cellbank.get_bank(s, BANK)
    assert [x.void for x in record_signature.signatures_of(s, bank)][-1] is False
    first = result.results_of(s, bank)[0]
    result.invalidate_result(s, user(s, "qa"), first, "sample mix-up")
    assert [x.void for x in record_signature.signatures_of(s, bank)][-1] is True


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE record_signature SET meaning = 'approved'",
        "UPDATE record_signature SET reason = 'rewritten'",
        "DELETE FROM record_signature",
    ],
)
def test_the_database_keeps_every_signature(demo_app, session, statement):
    """The triggers refuse even the owner (the application's role has no such privilege)."""
    s = session
    assert s.scalar(select(RecordSignature.id).limit(1)) is not None  # the demo's own
    s.rollback()
    with pytest.raises(DBAPIError, match="record_signature records are never overwritten"):
        execute_as_owner(demo_app, statement)
    s.rollback()
