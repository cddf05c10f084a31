"""The signed QA decisions on their pages: the form asks for the signer's username, password and
meaning; a refusal names the field and takes nothing; the signature is shown on the record's
page (who, meaning, when in the reader's zone) and found in the audit trail."""

from __future__ import annotations

from sqlalchemy import func, select

from lotrack.domain.clock import named
from lotrack.models import CellBank, Deviation, Investigation, RecordSignature, SpecVersion, User
from lotrack.services import deviation, lot, specs
from tests.conftest import login, user
from tests.record_signing import sign_form
from tests.services.test_spec_versions import STRICTER, spec_copy
from tests.web.test_quality_pages import db, post, text

BANK = "/banks/WCB-001-B"
NOT_QUALIFIED = {"decision": "not_qualified", "reason": "mycoplasma in a retained vial"}


def signature_count(app) -> int:
    with db(app) as s:
        return s.scalar(select(func.count()).select_from(RecordSignature)) or 0


def test_the_qualification_form_asks_for_the_signature(client):
    login(client, "qa")
    page = text(client.get(BANK))
    assert 'name="password" type="password"' in page and 'name="meaning"' in page
    assert '<option value="not qualified"' in page and "Signatures of QA decisions" in page


def test_a_signed_qualification_is_shown_with_who_what_and_when(client, demo_app):
    login(client, "qa")
    resp = post(client, f"{BANK}/qualify", {**NOT_QUALIFIED, **sign_form("qa", "not qualified")})
    assert resp.status_code == 302, text(resp)
    with db(demo_app) as s:
        bank = s.scalar(select(CellBank).where(CellBank.code == "WCB-001-B"))
        signed = s.scalars(
            select(RecordSignature).where(
                RecordSignature.subject_kind == "cell_bank", RecordSignature.subject_id == bank.id
            )
        ).all()[-1]
        assert bank.qualification == "not_qualified"
    page = text(client.get(BANK))
    table = page.split('id="signatures"', 1)[1].split("</table>", 1)[0]
    assert "Demo QA Reviewer" in table and "(qa)" in table and "not qualified" in table
    assert named(signed.signed_at, "Asia/Shanghai") in table  # the reader's zone, named
    assert "mycoplasma in a retained vial" in table and signed.content_sha256[:12] in table
    trail = text(client.get("/audit?entity_type=record_signature"))
    assert "not qualified" in trail and f"record_signature/{signed.id}" in trail


def test_a_wrong_password_is_refused_on_the_field_and_counted(client, demo_app):
    login(client, "qa")
    before = signature_count(demo_app)
    wrong = {**NOT_QUALIFIED, **sign_form("qa", "not qualified", password="guess")}
    resp = post(client, f"{BANK}/qualify", wrong)
    page = text(resp)
    assert resp.status_code == 403 and "wrong password" in page
    assert "guess" not in page  # a password is never sent back
    assert "mycoplasma in a retained vial" in page  # what was typed stays in the form
    with db(demo_app) as s:
        assert s.scalar(select(CellBank.qualification).where(CellBank.code == "WCB-001-B")) == (
            "qualified"
        )
        assert s.scalar(select(User.failed_signings).where(User.username == "qa")) == 1
    assert signature_count(demo_app) == before


def test_no_password_and_the_wrong_meaning_are_refused_by_field(client, demo_app):
    login(client, "qa")
    before = signature_count(demo_app)
    blank = {**NOT_QUALIFIED, **sign_form("qa", "not qualified"), "password": ""}
    resp = post(client, f"{BANK}/qualify", blank)
    assert resp.status_code == 422 and 'field invalid">Password' in text(resp)
    wrong = {**NOT_QUALIFIED, **sign_form("qa", "qualified")}
    resp = post(client, f"{BANK}/qualify", wrong)
    assert resp.status_code == 422 and "must be 'not qualified'" in text(resp)
    assert signature_count(demo_app) == before


def test_another_users_name_and_a_technician_are_refused(client, demo_app):
    before = signature_count(demo_app)
    login(client, "qa")
    other = post(client, f"{BANK}/qualify", {**NOT_QUALIFIED, **sign_form("md", "not qualified")})
    assert other.status_code == 403 and "you are logged in as qa" in text(other)
    login(client, "tech")
    tech = post(client, f"{BANK}/qualify", {**NOT_QUALIFIED, **sign_form("tech", "not qualified")})
    assert tech.status_code == 403
    assert signature_count(demo_app) == before


def test_the_demo_decisions_are_signed(demo_app):
    with db(demo_app) as s:
        kinds = {(r.subject_kind, r.meaning) for r in s.scalars(select(RecordSignature))}
        assert kinds == {
            ("spec_version", "approved"),
            ("cell_bank", "qualified"),
            ("material_lot", "approved for use"),  # the demo's material lots, inspected
        }
        assert s.scalar(select(func.count()).select_from(SpecVersion)) == sum(
            1 for k in s.scalars(select(RecordSignature.subject_kind)) if k == "spec_version"
        )


def test_spec_approval_deviation_closure_and_conclusion_show_their_signature(
    client, demo_app, tmp_path
):
    with db(demo_app) as s:
        specs.load_specs(s, None, spec_copy(tmp_path, STRICTER))
        dev = deviation.open_deviation(
            s, user(s, "tech"), description="door open", lot=lot.get_lot(s, "CFM-2025-0002")
        )
        deviation.assess(s, user(s, "tech"), dev, "no impact")
        s.commit()
        draft = s.scalar(select(SpecVersion.id).where(SpecVersion.approved_at.is_(None)))
        number = s.scalar(select(Deviation.number).where(Deviation.status == "open"))
        oos = s.scalar(select(Investigation.number).where(Investigation.status == "open"))
    login(client, "qa")
    steps = [
        (f"/specs/{draft}", "approve", {}, "approved"),
        (f"/deviations/{number}", "close", {"closure": "alarm serviced"}, "closed"),
        (
            f"/investigations/{oos}",
            "conclude",
            {"conclusion": "confirmed_oos", "findings": "no lab error"},
            "concluded",
        ),
    ]
    for page, verb, fields, meaning in steps:
        form = text(client.get(page))
        assert 'name="password" type="password"' in form, page
        refused = post(client, f"{page}/{verb}", {**fields, **sign_form("qa", meaning, "x")})
        assert refused.status_code == 403 and "wrong password" in text(refused), page
        done = post(client, f"{page}/{verb}", {**fields, **sign_form("qa", meaning)})
        assert done.status_code == 302, (page, text(done))
        table = text(client.get(page)).split('id="signatures"', 1)[1].split("</table>", 1)[0]
        assert "Demo QA Reviewer" in table and meaning in table and "Asia/Shanghai" in table
