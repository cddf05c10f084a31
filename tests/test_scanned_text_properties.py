"""Whatever a scanner, a camera or a keyboard sends, every reader of scanned text answers with a
verdict and never raises: the DIN with its check character, the signed label token, the label as
read at the bedside, the wristband, /v/<token> and the API's bedside check. And the verdicts are
right: a genuine code reads as genuine, and any one character changed reads as not genuine."""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from lotrack.documents.tokens import check_token, make_token
from lotrack.domain import isbt128
from lotrack.models import BedsideScan
from lotrack.services import bedside
from lotrack.services.api_tokens import create_token
from tests.conftest import user

KEY = Ed25519PrivateKey.generate()
OTHER_KEY = Ed25519PrivateKey.generate()

# Any character at all, lone surrogates and control characters included, mixed with the ones a
# DIN or a token is made of so that near-misses are common, not only noise.
ANY_CHAR = st.one_of(st.characters(), st.characters(categories=["Cs", "Cc"]))
NEAR = st.sampled_from(isbt128.ALPHABET + "abcxyz=-_/: \t\n\r\x00")
TEXT = st.text(st.one_of(ANY_CHAR, NEAR), max_size=60)
LONG_TEXT = st.one_of(TEXT, st.text(st.one_of(ANY_CHAR, NEAR), min_size=190, max_size=500))

FACILITY = st.from_regex(isbt128.FACILITY_RE, fullmatch=True).filter(lambda f: "\n" not in f)
DIN = st.builds(
    isbt128.make_din, FACILITY, st.integers(0, 99), st.integers(1, isbt128.MAX_SEQUENCE)
)
FAST = settings(max_examples=300, deadline=None, derandomize=True, database=None)
DB = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _spaced(din: str, check: str, prefix: str, spaces: str) -> str:
    """As typed: '=A9999 26 000001 K', spaces anywhere, any case."""
    return f"{prefix}{din[:5]}{spaces}{din[5:7]}{spaces}{din[7:]}{spaces}{check}".lower()


# DIN and its check character ------------------------------------------------------------------


@FAST
@given(TEXT)
def test_any_text_read_as_a_din_gets_a_verdict(text: str) -> None:
    parsed = isbt128.parse_din(text)
    assert isinstance(parsed, isbt128.ParsedDin)
    if parsed.valid:
        assert isbt128.DIN_RE.fullmatch(parsed.din) and not parsed.reason
        assert parsed.check in (None, isbt128.check_character(parsed.din))
    else:
        assert parsed.reason


@FAST
@given(DIN, st.sampled_from(["", "="]), st.sampled_from(["", " ", "  ", "\t"]))
def test_a_din_typed_with_its_check_character_is_read_back(din, prefix, spaces) -> None:
    check = isbt128.check_character(din)
    parsed = isbt128.parse_din(_spaced(din, check, prefix, spaces))
    assert (parsed.valid, parsed.din, parsed.check) == (True, din, check)


@FAST
@given(DIN, st.data())
def test_any_one_character_mistyped_in_a_din_is_caught_by_its_check_character(din, data) -> None:
    """MOD 37-2 detects every single substitution (ISO/IEC 7064): a mistyped DIN never passes
    as another unit's."""
    check = isbt128.check_character(din)
    i = data.draw(st.integers(0, 12))
    typo = data.draw(st.sampled_from(isbt128.ALPHABET[:36]).filter(lambda c: c != din[i]))
    wrong = din[:i] + typo + din[i + 1 :]
    parsed = isbt128.parse_din(wrong + check)
    assert not parsed.valid and parsed.reason


@FAST
@given(DIN, st.integers(0, 11))
def test_two_neighbouring_characters_swapped_are_caught(din, i) -> None:
    assume(din[i] != din[i + 1])
    swapped = din[:i] + din[i + 1] + din[i] + din[i + 2 :]
    assert not isbt128.parse_din(swapped + isbt128.check_character(din)).valid


@FAST
@given(DIN, st.sampled_from(isbt128.ALPHABET))
def test_a_wrong_check_character_is_named_as_such(din, given_check) -> None:
    assume(given_check != isbt128.check_character(din))
    parsed = isbt128.parse_din(din + given_check)
    assert not parsed.valid and "check character" in parsed.reason


# Signed label tokens --------------------------------------------------------------------------


@FAST
@given(LONG_TEXT)
def test_any_text_checked_as_a_token_gets_a_verdict(text: str) -> None:
    result = check_token(KEY.public_key(), text)
    assert result.genuine is False and result.reason


@FAST
@given(DIN, st.data())
def test_an_issued_token_is_genuine_and_any_change_to_it_is_not(din, data) -> None:
    token = make_token(KEY, "U", din)
    assert check_token(KEY.public_key(), token) == check_token(KEY.public_key(), f" {token}\n")
    good = check_token(KEY.public_key(), token)
    assert (good.genuine, good.kind, good.subject) == (True, "unit", din)
    assert not check_token(OTHER_KEY.public_key(), token).genuine  # not issued here
    i = data.draw(st.integers(0, len(token) - 1))
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    other = data.draw(st.sampled_from(alphabet).filter(lambda c: c != token[i]))
    altered = check_token(KEY.public_key(), token[:i] + other + token[i + 1 :])
    assert not altered.genuine and altered.reason
    assert not check_token(KEY.public_key(), token[:i] + token[i + 1 :]).genuine


# The label as read at the bedside -------------------------------------------------------------


METHODS = st.sampled_from(bedside.METHODS)


@FAST
@given(LONG_TEXT, METHODS)
def test_any_text_read_as_a_label_gets_a_verdict(text: str, method: str) -> None:
    read = bedside.read_label(KEY, text, method)
    assert isinstance(read, bedside.LabelRead)
    if read.accepted:  # only a well-formed DIN can pass by chance: never as a proven label
        assert isbt128.DIN_RE.fullmatch(read.din)
        assert isbt128.parse_din(text).valid
        assert read.source in ("barcode", "typed")
        assert read.source == "typed" or method != "typed"  # typed by hand: check character
    else:
        assert read.reason and read.problem


@FAST
@given(DIN, st.sampled_from(["", "="]), st.sampled_from(["", "00", "12"]), METHODS)
def test_a_code_128_din_is_read_from_a_scanner_and_never_from_typing(din, prefix, flags, method):
    read = bedside.read_label(KEY, f"{prefix}{din}{flags}", method)
    if method == "typed":
        assert (read.accepted, read.problem) == (False, "check_missing")
    else:
        assert (read.accepted, read.din, read.source) == (True, din, "barcode")


@FAST
@given(DIN, st.sampled_from(["", "="]), METHODS.filter(lambda m: m != "typed"))
def test_a_code_128_din_with_its_type_3_flags_is_read(din, prefix, method) -> None:
    read = bedside.read_label(KEY, f"{prefix}{din}{isbt128.type3_flags(din)}", method)
    assert (read.accepted, read.din, read.source) == (True, din, "barcode")


@FAST
@given(DIN, st.data(), METHODS)
def test_a_din_misread_under_its_type_3_flags_is_refused_with_the_reason(din, data, method):
    """isbt128.md: type 3 flags carry 60 + the MOD 37-2 checksum, so any one DIN character
    misread or misprinted contradicts them: never read as another unit."""
    i = data.draw(st.integers(0, 12))
    typo = data.draw(st.sampled_from(isbt128.ALPHABET[:36]).filter(lambda c: c != din[i]))
    wrong = din[:i] + typo + din[i + 1 :]
    read = bedside.read_label(KEY, f"={wrong}{isbt128.type3_flags(din)}", method)
    assert not read.accepted and read.din == ""
    assert read.problem in ("flag_mismatch", "not_genuine")  # not_genuine: not a DIN at all
    if isbt128.DIN_RE.fullmatch(wrong):
        assert read.problem == "flag_mismatch" and "do not agree" in read.reason


@pytest.mark.parametrize(
    "text,named",
    [("=<YA000000", "product code bar code (003)"), ("&>0263652359", "expiry bar code (005)")],
)
def test_the_labels_other_bar_codes_are_named_not_called_forgeries(text, named) -> None:
    # isbt128.md: 003 is "=<" + 8 characters, 005 "&>cyyjjjhhmm"; neither names a unit.
    for method in ("wedge", "camera", "typed"):
        read = bedside.read_label(KEY, f" {text}\r\n", method)
        assert (read.accepted, read.problem) == (False, "other_code") and named in read.reason


@FAST
@given(DIN, st.sampled_from(isbt128.ALPHABET), METHODS)
def test_a_wrong_check_character_is_a_mistyping_not_a_forgery(din, given_check, method) -> None:
    assume(given_check != isbt128.check_character(din))
    read = bedside.read_label(KEY, din + given_check, method)
    assert (read.accepted, read.problem) == (False, "check_mismatch")


@FAST
@given(DIN, TEXT, st.sampled_from(["https://lotrack.example/v/", "/v/", ""]))
def test_a_genuine_label_reads_as_its_unit_and_a_foreign_one_does_not(din, junk, url) -> None:
    token = make_token(KEY, "U", din)
    assert bedside.read_label(KEY, f"{url}{token}") == bedside.LabelRead(True, din)
    foreign = bedside.read_label(KEY, f"{url}{make_token(OTHER_KEY, 'U', din)}")
    assert not foreign.accepted and foreign.reason and foreign.problem == "not_genuine"
    certificate = bedside.read_label(KEY, make_token(KEY, "C", "COA-2026-0001:1"))
    assert not certificate.accepted
    assert not bedside.read_label(KEY, f"{url}{token}{junk}x?", "wedge").accepted


# The wristband and the whole bedside check, through the service and the API -------------------


@DB
@given(patient=LONG_TEXT, scan=LONG_TEXT)
def test_any_wristband_and_label_text_get_a_recorded_no_go(session, patient, scan) -> None:
    session.rollback()  # each example starts from the demo data
    key = Ed25519PrivateKey.generate()  # nothing scanned can be signed by it
    before = session.scalar(select(func.count()).select_from(BedsideScan))
    record, verdict = bedside.check_scan(
        session, user(session, "nurse"), key=key, patient_text=patient, scan_text=scan
    )
    session.flush()
    assert not verdict.go and verdict.reasons
    assert not record.go and json.loads(record.reasons) == list(verdict.reasons)
    assert session.scalar(select(func.count()).select_from(BedsideScan)) == before + 1


@pytest.fixture
def nurse_headers(demo_app) -> dict[str, str]:
    with demo_app.extensions["lotrack_db"].sessionmaker() as s:
        token = create_token(s, None, user(s, "nurse"))
        s.commit()
    return {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}


@DB
@given(
    patient=st.one_of(LONG_TEXT, st.integers(), st.none(), st.lists(TEXT, max_size=2)),
    scan=st.one_of(LONG_TEXT, st.floats(), st.booleans()),
)
def test_the_api_bedside_check_answers_any_text_with_a_verdict_or_names_the_field(
    client, nurse_headers, patient, scan
) -> None:
    # ensure_ascii: a lone surrogate travels as a \ud800 escape, as a client library sends it.
    body = json.dumps({"patient": patient, "scan": scan}, ensure_ascii=True)
    resp = client.post("/api/v1/bedside/check", data=body, headers=nurse_headers)
    assert resp.is_json, resp.get_data(as_text=True)
    answer = resp.get_json()
    if resp.status_code == 200:
        assert answer["go"] is False and answer["reasons"]
        assert all(isinstance(r, str) and r for r in answer["reasons"])
    else:
        assert resp.status_code == 422, answer
        assert set(answer["fields"]) & {"patient", "scan"}, answer


@DB
@given(token=LONG_TEXT)
def test_any_text_after_v_gets_a_verdict_not_an_error(client, token) -> None:
    path = "/v/" + quote(token.encode("utf-8", "surrogatepass"), safe="")
    resp = client.get(path, headers={"Accept": "application/json"})
    assert resp.status_code in (200, 404), resp.status_code
    if resp.status_code == 200:
        assert resp.get_json()["genuine"] is False
