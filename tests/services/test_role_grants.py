"""The services under the account pages, called directly (as another edge would): an account
without its owner's password is usable nowhere, and no administrator decides alone on a role in
NEEDS_SECOND_PERSON."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from lotrack.domain.errors import Conflict, Forbidden, ValidationFailed
from lotrack.models import RoleGrant
from lotrack.services import accounts, enrolment, role_grants, signature
from lotrack.services.signature import Lockout
from tests.conftest import user

LIMITS = {"max_failures": 5, "lockout_minutes": 15}
PASSPHRASE = "a long enough passphrase"


def _second_admin(session):
    made = accounts.create_user(
        session, None, username="admin2", full_name="Second Admin", role="admin",
        password=PASSPHRASE, must_change_password=False,
    )  # fmt: skip
    session.flush()
    return made


def test_an_account_without_a_password_opens_no_door(session):
    made = accounts.create_user(
        session, None, username="nopass", full_name="", role="technician", password=None
    )
    session.flush()
    assert made.password_hash == "" and made.enrolled_at is None
    assert not accounts.check_password(made, "")
    outcome = accounts.authenticate(session, "nopass", "", **LIMITS)
    assert outcome.user is None and outcome.message == accounts.NOT_ENROLLED


def test_a_password_given_by_someone_else_must_be_changed_by_default(session):
    made = accounts.create_user(
        session, None, username="given", full_name="", role="technician", password=PASSPHRASE
    )
    session.flush()
    assert made.must_change_password and not accounts.check_password(made, PASSPHRASE)
    accounts.change_password(session, made, PASSPHRASE, "my own passphrase", min_length=12)
    assert not made.must_change_password and accounts.check_password(made, "my own passphrase")


def test_a_password_someone_else_chose_signs_nothing_and_says_so(session):
    """Signing with it is refused plainly, not as a wrong password, and counts toward no lock:
    the password may well be right, it is just not its holder's own yet."""
    made = accounts.create_user(
        session, None, username="given2", full_name="", role="technician", password=PASSPHRASE
    )
    session.flush()
    with pytest.raises(Forbidden) as refused:
        signature.authenticate(session, made, PASSPHRASE, Lockout(5, 15))
    assert "own password" in refused.value.message
    assert refused.value.fields == {"password": "cannot sign yet"}
    assert made.failed_signings == 0 and made.signing_locked_until is None


def test_invite_holds_a_signing_role_until_a_second_admin_approves(session):
    admin = user(session, "admin")
    issued = enrolment.invite(
        session, admin, username="qa2", full_name="", role="qa", site_code=None, reason="needed"
    )
    session.flush()
    assert issued.grant is not None and not issued.user.active
    with pytest.raises(Forbidden):
        role_grants.decide(session, admin, issued.grant.id, True, "")
    with pytest.raises(Forbidden):
        role_grants.decide(session, issued.user, issued.grant.id, True, "")  # its own role
    second = _second_admin(session)
    with pytest.raises(ValidationFailed):
        role_grants.decide(session, second, issued.grant.id, False, " ")
    with pytest.raises(Conflict):  # not before the person has enrolled
        role_grants.decide(session, second, issued.grant.id, True, "")
    enrolment.enrol(session, issued.code, PASSPHRASE, PASSPHRASE, min_length=12)
    role_grants.decide(session, second, issued.grant.id, True, "")
    assert issued.user.active and issued.user.role == "qa"
    with pytest.raises(Conflict):
        role_grants.decide(session, second, issued.grant.id, False, "changed my mind")


def test_a_technician_is_invited_with_no_grant(session):
    issued = enrolment.invite(
        session, user(session, "admin"), username="t3", full_name="", role="technician",
        site_code=None,
    )  # fmt: skip
    session.flush()
    assert issued.grant is None and issued.user.active
    assert session.scalars(select(RoleGrant).where(RoleGrant.user_id == issued.user.id)).all() == []


def test_nobody_changes_their_own_role(session):
    admin = user(session, "admin")
    with pytest.raises(ValidationFailed) as caught:
        role_grants.change_role(session, admin, admin, "qa", "why not")
    assert "user" in caught.value.fields


def test_one_pending_grant_per_account(session):
    admin, tech = user(session, "admin"), user(session, "tech")
    assert role_grants.change_role(session, admin, tech, "qa", "promoted") is not None
    session.flush()
    with pytest.raises(Conflict):
        role_grants.change_role(session, admin, tech, "medical_director", "or rather")
    assert [g.role for g in role_grants.pending(session) if g.user_id == tech.id] == ["qa"]


@pytest.mark.parametrize("role", ["qa", "medical_director"])
def test_the_console_gives_no_signing_role(session, role):
    with pytest.raises(Forbidden):
        role_grants.check_console_role(session, role)


def test_the_console_gives_admin_to_the_first_two_only(session):
    role_grants.check_console_role(session, "admin")  # the demo has one
    _second_admin(session)
    with pytest.raises(Forbidden):
        role_grants.check_console_role(session, "admin")
