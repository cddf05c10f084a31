"""1D scanners and the witness's signature, through the API and the bedside page.

A label's Code 128 carries the DIN alone (13 characters; with ISBT 128's "=" data identifier and
the two flag characters on some scanners): read by a scanner, a camera or a photo it identifies
the unit like a typed DIN with its check character, and the answer notes that a bar code does not
prove the label genuine. A DIN typed by hand still needs its check character, and a mistyped one
is called a mistyping, not a forgery. The infusion's witness signs with their own password."""

from __future__ import annotations

import html
import re

from lotrack.domain.isbt128 import type3_flags
from tests import clinical_setup as cs
from tests.api.conftest import assert_problem, row_counts
from tests.api.test_clinical_api import altered, check
from tests.conftest import csrf_token, login

NOTE = "a bar code scan does not prove the label genuine — scan the QR code for that"
MISTYPED = "The check character does not match — re-scan or re-type"


def codes_128(din: str) -> list[str]:
    """What a 1D scanner sends for the label's Code 128, as configured."""
    return [din, f"={din}", f"={din}00"]


def test_a_code_128_din_alone_is_go_for_the_ready_unit_with_a_note(demo_app, as_user) -> None:
    nurse = as_user("nurse")
    din, _check = cs.ready_din(demo_app)
    cs.thaw(demo_app, din)
    for text in codes_128(din):
        for method in ("wedge", "camera"):
            body = check(nurse, cs.READY, text, method=method)
            assert (body["go"], body["reasons"], body["din"]) == (True, [], din), body
            assert len(body["notes"]) == 1 and NOTE in body["notes"][0]
    by_qr = check(nurse, cs.READY, cs.label(demo_app, din))
    assert by_qr["go"] is True and by_qr["notes"] == []
    typed = check(nurse, cs.READY, din, method="typed")  # by hand: the check character too
    assert typed["go"] is False and typed["codes"] == ["check_missing"]
    assert "check character" in typed["reasons"][0]
    # A client that does not say how: a bare DIN is taken as typed; "=" only a scanner sends.
    unsaid = check(nurse, cs.READY, din)
    assert (unsaid["go"], unsaid["codes"], unsaid["method"]) == (False, ["check_missing"], "typed")
    scanned = check(nurse, cs.READY, f"={din}00")
    assert (scanned["go"], scanned["method"]) == (True, "wedge") and NOTE in scanned["notes"][0]


def test_a_mistyped_check_character_says_re_scan_or_re_type(demo_app, as_user) -> None:
    nurse = as_user("nurse")
    din, right = cs.ready_din(demo_app)
    cs.thaw(demo_app, din)
    wrong = next(c for c in "0123456789ABC" if c != right)
    for method in ("typed", "wedge"):
        body = check(nurse, cs.READY, f"{din[:5]} {din[5:7]} {din[7:]} {wrong}", method=method)
        assert body["go"] is False and body["codes"] == ["check_mismatch"]
        assert body["reasons"][0].startswith(MISTYPED) and "not genuine" not in body["reasons"][0]
        assert body["din"] is None
    body = check(nurse, cs.READY, altered(demo_app, din))
    assert body["go"] is False and body["reasons"][0].startswith("The label is not genuine")


def test_a_bar_code_whose_type_3_flags_contradict_its_din_is_no_go_with_the_reason(
    demo_app, as_user
) -> None:
    nurse = as_user("nurse")
    din, _check = cs.ready_din(demo_app)
    cs.thaw(demo_app, din)
    flags = type3_flags(din)  # isbt128.md: 60 + the MOD 37-2 checksum
    body = check(nurse, cs.READY, f"={din}{flags}", method="wedge")
    assert (body["go"], body["din"]) == (True, din) and NOTE in body["notes"][0]
    wrong = f"{int(flags) + 1:02d}" if flags != "96" else "60"
    body = check(nurse, cs.READY, f"={din}{wrong}", method="wedge")
    assert (body["go"], body["codes"], body["din"]) == (False, ["flag_mismatch"], None)
    assert f"flag characters {wrong} do not agree" in body["reasons"][0]
    assert "QR code" in body["reasons"][0]


def text_of(resp) -> str:
    return html.unescape(resp.get_data(as_text=True))


def test_the_page_takes_a_scanners_code_128_and_asks_a_typist_for_the_check_character(
    demo_app,
) -> None:
    din, _check = cs.ready_din(demo_app)
    cs.thaw(demo_app, din)
    client = demo_app.test_client()
    login(client, "nurse")

    def page_check(**fields: str) -> str:
        data = {"patient": cs.READY, **fields, "csrf_token": csrf_token(client, "/bedside")}
        resp = client.post("/bedside/check", data=data)
        assert resp.status_code == 200, resp.status_code
        return text_of(resp)

    # "=" is sent by a scanner only: a bar code read, even with no script to time the typing.
    scanned = page_check(scan=f"={din}00")
    assert "✓</span> GO" in scanned and NOTE in scanned
    # bedside.js saw the 13 characters arrive in a scanner's burst.
    assert NOTE in page_check(scan=din, method="wedge")
    # Nothing tells who entered the bare DIN: taken as typed, it needs its check character.
    typed = page_check(scan=din)
    assert "NO-GO" in typed and "needs its check character" in typed


def test_the_witness_signs_with_their_own_password(demo_app, as_user) -> None:
    nurse = as_user("nurse")
    din, check_char = cs.ready_din(demo_app)
    cs.thaw(demo_app, din)
    go = check(nurse, cs.READY, din + check_char)
    body = {
        "scan_id": go["scan_id"],
        **cs.WITNESS,
        **cs.GIVEN_JSON,
        "started_at": cs.now().isoformat(),
    }
    before = row_counts(demo_app)
    refused = assert_problem(
        nurse.post("/infusions", {**body, "witness_password": "demo-nurse-password"}),
        403,
        "witness_password",
    )
    assert "nothing was recorded" in refused["message"]
    after = row_counts(demo_app)
    # Nothing but the refusal's audit event: the failure counts toward nurse2's lockout.
    assert {k: v for k, v in after.items() if after[k] != before[k]} == {
        "audit_event": after["audit_event"]
    }
    assert after["audit_event"] > before["audit_event"]
    done = nurse.post("/infusions", body)
    assert done.status_code == 201, done.get_json()
    assert done.get_json()["witness"] == "nurse2"
    assert done.get_json()["witness_meaning"] == "witnessed"


def test_the_infusion_form_asks_the_witness_for_their_password(demo_app) -> None:
    din, check_char = cs.ready_din(demo_app)
    cs.thaw(demo_app, din)
    client = demo_app.test_client()
    login(client, "nurse")
    go = client.post(
        "/bedside/check",
        data={
            "patient": cs.READY,
            "scan": f"{din} {check_char}",
            "csrf_token": csrf_token(client, "/bedside"),
        },
    )
    page = text_of(go)
    assert 'name="witness_password"' in page and 'type="password"' in page
    assert "Meaning of this signature: <strong>witnessed</strong>" in page
    scan_id = re.search(r'name="scan_id" value="(\d+)"', page).group(1)
    local = re.search(r'name="started_at" type="datetime-local" value="([^"]+)"', page).group(1)
    # The volume the dose rule asks for, filled in: the demo's bag whole.
    volume = re.search(r'name="volume_ml" type="number" value="([^"]+)"', page).group(1)
    assert volume == "18.00" and "Give the whole unit: 18.00 mL." in page
    form = {
        "scan_id": scan_id,
        "volume_ml": volume,
        "witness": "nurse2",
        "witness_meaning": "witnessed",
        "started_at": local,
    }
    wrong = client.post(
        "/bedside/infusion",
        data={
            **form,
            "witness_password": "guess-one",
            "csrf_token": csrf_token(client, "/bedside"),
        },
    )
    assert wrong.status_code == 403 and "guess-one" not in text_of(wrong)
    assert "witness_password" in text_of(wrong) and "wrong password" in text_of(wrong)
    done = client.post(
        "/bedside/infusion",
        data={
            **form,
            "witness_password": cs.PASSWORDS["nurse2"],
            "csrf_token": csrf_token(client, "/bedside"),
        },
    )
    assert done.status_code == 302 and done.location.endswith("/patients/SZ-GIMI/SUBJ-001")
