"""QA release in the browser, through the real forms: the review shows every blocker and signs
release under re-authentication; each way around the rules is refused with its reason and
nothing signed (a technician, self-release, blockers, a wrong password, a locked account, a lot
someone else decided); a signature shows VOID once the dossier changes; the audit timeline
exports as CSV and PDF."""

from __future__ import annotations

import csv
import io
import re

import pypdf
from flask import Flask
from sqlalchemy import func, select

from lotrack.models import AuditEvent, Lot, Signature, User
from lotrack.services import accounts, release, result
from lotrack.services import lot as lots
from tests.conftest import PASSWORDS, csrf_token, login, user
from tests.release_setup import make_lot
from tests.web.test_quality_pages import db, text

QA2_PASSWORD = "second-qa-password"


def add_qa2(app: Flask) -> None:
    with db(app) as s:
        accounts.create_user(
            s,
            None,
            username="qa2",
            full_name="Second QA",
            role="qa",
            password=QA2_PASSWORD,
            must_change_password=False,
        )
        s.commit()


def sign(client, lot: str, name: str, username: str, password: str | None = None, **extra):
    """Submit one signing form of the review page as the browser does."""
    meanings = {
        "release": "approved for release",
        "reject": "rejected",
        "unhold": "hold lifted",
        "review": "reviewed",
    }
    data = {
        "username": username,
        "password": password if password is not None else PASSWORDS.get(username, QA2_PASSWORD),
        "meaning": meanings[name],
        "reason": "dossier reviewed",
        **extra,
        "csrf_token": csrf_token(client, f"/lots/{lot}/release"),
    }
    return client.post(f"/lots/{lot}/sign/{name}", data=data)


def state_and_signatures(app: Flask, lot_number: str) -> tuple[str, int]:
    with db(app) as s:
        lot = s.scalars(select(Lot).where(Lot.lot_number == lot_number)).one()
        count = s.scalar(select(func.count()).where(Signature.lot_id == lot.id))
        return lot.state, count or 0


def test_qa_releases_a_releasable_lot_under_signature(client, demo_app):
    number = make_lot(demo_app)
    login(client, "qa")
    page = text(client.get(f"/lots/{number}/release"))
    assert "Releasable: no blocker" in page
    for shown in (
        "Donor",
        "FD-0001",
        "WCB-001-A",
        "RUN-2025-01",
        "Cumulative PDL",
        "cfMSC release v1",
    ):
        assert shown in page
    form = page.split('id="sign-release"', 1)[1].split("</form>", 1)[0]
    assert '<input name="password" type="password" required autocomplete="off">' in form
    assert '<option value="approved for release" selected>' in form

    resp = sign(client, number, "release", "qa")
    assert resp.status_code == 302
    assert state_and_signatures(demo_app, number) == ("RELEASED", 1)
    page = text(client.get(resp.headers["Location"]))
    row = page.split('class="signatures"', 1)[1].split("</tr>", 2)[1]
    assert "Demo QA Reviewer" in row and "approved for release" in row
    # Signed when, in the viewer's zone with its name (web/__init__.py local_time).
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d \S+ \(UTC[+-]\d\d:\d\d\)", row)
    assert "valid" in row and "VOID" not in row
    with db(demo_app) as s:
        actions = s.scalars(select(AuditEvent.action).where(AuditEvent.action == "release")).all()
    assert len(actions) == 2  # the demo lot's release and this one


def test_a_technician_sees_the_review_but_cannot_sign(client, demo_app):
    number = make_lot(demo_app)
    login(client, "tech")
    page = text(client.get(f"/lots/{number}/release"))
    assert "Releasable" in page and "/sign/release" not in page and 'type="password"' not in page
    token = csrf_token(client, f"/lots/{number}/release")
    resp = client.post(
        f"/lots/{number}/sign/release",
        data={
            "username": "tech",
            "password": PASSWORDS["tech"],
            "meaning": "approved for release",
            "csrf_token": token,
        },
    )
    assert resp.status_code == 403
    assert state_and_signatures(demo_app, number) == ("QUARANTINE", 0)


def test_whoever_verified_a_result_cannot_release_the_lot(client, demo_app):
    number = make_lot(demo_app, unverified="BSA")
    add_qa2(demo_app)
    with db(demo_app) as s:
        bsa = next(r for r in result.results_of(s, lots.get_lot(s, number)) if r.analyte == "BSA")
        result.verify_result(s, user(s, "qa2"), bsa)
        s.commit()
    login(client, "qa2", QA2_PASSWORD)
    resp = sign(client, number, "release", "qa2", reason="my own check")
    page = text(resp)
    assert resp.status_code == 409
    assert (
        "You verified results of this lot; someone who did not check them must release it." in page
    )
    assert QA2_PASSWORD not in page and "my own check" in page  # the other values are kept
    assert state_and_signatures(demo_app, number) == ("QUARANTINE", 0)


def test_release_with_blockers_is_refused_naming_each_one(client, demo_app):
    with db(demo_app) as s:
        blockers = [b.message for b in release.review(s, lots.get_lot(s, "CFM-2025-0003")).blockers]
    assert len(blockers) >= 2
    login(client, "qa")
    resp = sign(client, "CFM-2025-0003", "release", "qa")
    page = text(resp)
    assert resp.status_code == 409
    refusal = page.split('class="error refusal"', 1)[1].split("</div>", 1)[0]
    for i, message in enumerate(blockers, start=1):
        assert f"<li><b>blocker {i}</b>: {message}</li>" in refusal
    assert state_and_signatures(demo_app, "CFM-2025-0003") == ("QUARANTINE", 0)


def failed_and_locked(app: Flask, username: str) -> tuple[int, bool]:
    with db(app) as s:
        u = s.scalars(select(User).where(User.username == username)).one()
        return u.failed_signings, u.signing_locked_until is not None


def test_wrong_passwords_lock_signing_while_the_session_works_on(client, demo_app):
    number = make_lot(demo_app)
    login(client, "qa")
    for attempt in range(1, 5):
        resp = sign(client, number, "release", "qa", password="not-my-password", reason="ok")
        page = text(resp)
        assert resp.status_code == 403
        assert "The password is wrong; nothing was signed." in page
        assert "not-my-password" not in page and ">ok</textarea>" in page
        assert failed_and_locked(demo_app, "qa") == (attempt, False)  # committed despite refusal
    resp = sign(client, number, "release", "qa", password="not-my-password")
    assert resp.status_code == 403
    assert failed_and_locked(demo_app, "qa")[1]
    resp = sign(client, number, "release", "qa")  # the right password, too late
    assert resp.status_code == 403
    assert "Your signing is locked until" in text(resp)
    assert state_and_signatures(demo_app, number) == ("QUARANTINE", 0)
    # Signing is locked, not the person: the session reads on, and logging in still works.
    assert client.get(f"/lots/{number}").status_code == 200
    assert login(demo_app.test_client(), "qa").status_code == 302


def test_signing_for_someone_else_is_refused(client, demo_app):
    number = make_lot(demo_app)
    login(client, "qa")
    resp = sign(client, number, "release", "tech2")
    assert resp.status_code == 403
    assert "Sign with your own username" in text(resp)
    assert failed_and_locked(demo_app, "tech2") == (0, False)
    assert state_and_signatures(demo_app, number) == ("QUARANTINE", 0)


def test_a_lot_someone_else_decided_first_is_refused_as_a_conflict(client, demo_app):
    number = make_lot(demo_app)
    add_qa2(demo_app)
    login(client, "qa")
    token = csrf_token(client, f"/lots/{number}/release")  # the page is open...
    with db(demo_app) as s:  # ...when a colleague releases the lot
        release.decide(
            s,
            user(s, "qa2"),
            lots.get_lot(s, number),
            release.Action.RELEASE,
            release.SignIn("qa2", QA2_PASSWORD, "approved for release"),
            release.Lockout(5, 15),
        )
        s.commit()
    resp = client.post(
        f"/lots/{number}/sign/release",
        data={
            "username": "qa",
            "password": PASSWORDS["qa"],
            "meaning": "approved for release",
            "csrf_token": token,
        },
    )
    assert resp.status_code == 409
    assert "A lot in RELEASED cannot be released" in text(resp)
    assert state_and_signatures(demo_app, number) == ("RELEASED", 1)


def test_a_review_signature_shows_void_once_a_result_is_added(client, demo_app):
    login(client, "qa")
    assert sign(client, "CFM-2025-0004", "review", "qa").status_code == 302
    page = text(client.get("/lots/CFM-2025-0004/release"))
    signatures = page.split('class="signatures"', 1)[1].split("</table>", 1)[0]
    assert "reviewed" in signatures and "VOID" not in signatures
    with db(demo_app) as s:
        lot = lots.get_lot(s, "CFM-2025-0004")
        result.record_result(
            s,
            user(s, "tech"),
            lot,
            test="APPEARANCE",
            value="Conforms",
            performed_on=lot.harvested_on,
        )
        s.commit()
    page = text(client.get("/lots/CFM-2025-0004/release"))
    signatures = page.split('class="signatures"', 1)[1].split("</table>", 1)[0]
    assert '<span class="badge sig-void">VOID</span>' in signatures
    assert "the dossier changed after this signature" in signatures


def test_reject_needs_a_reason_and_a_refused_form_writes_nothing(client, demo_app):
    login(client, "qa")
    with db(demo_app) as s:
        before = s.scalar(select(func.count()).select_from(AuditEvent))
    resp = sign(client, "CFM-2025-0003", "reject", "qa", reason="")
    assert resp.status_code == 409 and "State the reason for this decision." in text(resp)
    resp = client.post(
        "/lots/CFM-2025-0003/sign/reject",
        data={
            "username": "qa",
            "meaning": "rejected",
            "csrf_token": csrf_token(client, "/lots/CFM-2025-0003/release"),
        },
    )
    assert resp.status_code == 422 and "password" in text(resp)
    with db(demo_app) as s:
        assert s.scalar(select(func.count()).select_from(AuditEvent)) == before
    assert client.post("/lots/CFM-2025-0003/sign/reject", data={}).status_code == 400  # no CSRF
    resp = sign(client, "CFM-2025-0003", "reject", "qa", reason="viability out of specification")
    assert resp.status_code == 302
    assert state_and_signatures(demo_app, "CFM-2025-0003") == ("REJECTED", 1)


def test_timeline_page_csv_and_pdf(client, demo_app):
    login(client, "tech")
    page = text(client.get("/lots/CFM-2025-0001/timeline"))
    assert "Audit timeline of lot CFM-2025-0001" in page and "approved for release" in page

    resp = client.get("/lots/CFM-2025-0001/timeline.csv")
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    assert resp.headers["Content-Disposition"].startswith("attachment;")
    rows = list(csv.reader(io.StringIO(resp.get_data(as_text=True))))
    assert rows[0] == ["seq", "at_utc", "actor", "action", "record", "changes", "reason"]
    released = [r for r in rows[1:] if r[3] == "release"]
    assert len(released) == 1 and released[0][2] == "qa" and "RELEASED" in released[0][5]

    resp = client.get("/lots/CFM-2025-0001/timeline.pdf")
    assert resp.status_code == 200 and resp.mimetype == "application/pdf"
    assert resp.data.startswith(b"%PDF")
    reader = pypdf.PdfReader(io.BytesIO(resp.data))
    content = "".join(p.extract_text() for p in reader.pages)
    assert "CFM-2025-0001" in content and "approved for release" in content


def test_unknown_lot_is_a_404_page(client):
    login(client, "qa")
    assert client.get("/lots/CFM-1999-0001/release").status_code == 404
    assert client.get("/lots/CFM-1999-0001/timeline.csv").status_code == 404
