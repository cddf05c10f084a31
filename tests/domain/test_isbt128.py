"""DIN check characters: ISO/IEC 7064 MOD 37-2 as ICCBBA ST-001 specifies (shared/reference)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lotrack.domain.isbt128 import (
    ALPHABET,
    check_character,
    check_value,
    eye_readable,
    flags_disagree,
    make_din,
    parse_din,
    type3_flags,
)


def test_published_iccbba_example() -> None:
    # ST-001 appendix A: G1234 17 654321 -> checksum 10 -> 'A' (type 3 flag 60 + 10 = 70).
    assert check_value("G123417654321") == 10
    assert check_character("G123417654321") == "A"
    assert 60 + check_value("G123417654321") == 70


def reference_check(din: str) -> str:
    """The algorithm written out a second, independent way (iterated form of ISO 7064)."""
    p = 0
    for ch in din:
        p = ((p + ALPHABET.index(ch)) * 2) % 37
    return ALPHABET[(38 - p) % 37]


facility = st.from_regex(r"[A-NP-Z1-9][0-9A-Z]{4}", fullmatch=True)


@given(facility, st.integers(0, 99), st.integers(1, 999_999))
def test_check_character_agrees_with_the_iterated_form(fac: str, year: int, seq: int) -> None:
    din = make_din(fac, year, seq)
    assert len(din) == 13
    assert check_character(din) == reference_check(din)


@given(facility, st.integers(0, 99), st.integers(1, 999_999), st.integers(0, 12), st.data())
def test_any_single_character_change_is_caught(fac, year, seq, pos, data) -> None:
    din = make_din(fac, year, seq)
    allowed = "0123456789" if pos >= 5 else "ABCDEFGHIJKLMNPQRSTUVWXYZ123456789"
    new = data.draw(st.sampled_from([c for c in allowed if c != din[pos]]))
    changed = din[:pos] + new + din[pos + 1 :]
    assert parse_din(changed + check_character(din)).valid is False


@given(facility, st.integers(0, 99), st.integers(1, 999_998))
def test_adjacent_transposition_is_caught(fac: str, year: int, seq: int) -> None:
    din = make_din(fac, year, seq)
    for i in range(12):
        if din[i] != din[i + 1]:
            swapped = din[:i] + din[i + 1] + din[i] + din[i + 2 :]
            assert check_value(swapped) != check_value(din)


def test_eye_readable_form() -> None:
    assert eye_readable("G123417654321") == "G1234 17 654321"


@pytest.mark.parametrize(
    "text,valid,din",
    [
        ("G1234 17 654321 A", True, "G123417654321"),
        ("=G12341765432100", True, "G123417654321"),  # bar-coded with flags 00
        ("g123417654321a", True, "G123417654321"),
        ("G123417654321B", False, "G123417654321"),  # wrong check character
        ("O123417654321", False, "O123417654321"),  # O is never a facility's first character
        ("G1234176543", False, "G1234176543"),
        ("", False, ""),
    ],
)
def test_parse_din(text: str, valid: bool, din: str) -> None:
    parsed = parse_din(text)
    assert parsed.valid is valid
    assert parsed.din == din
    if not valid:
        assert parsed.reason


@given(st.text(max_size=40))
def test_parse_never_raises(text: str) -> None:
    parsed = parse_din(text)
    assert isinstance(parsed.valid, bool)


def test_make_din_refuses_bad_facility_and_sequence() -> None:
    with pytest.raises(ValueError, match="facility"):
        make_din("O9999", 26, 1)
    with pytest.raises(ValueError, match="sequence"):
        make_din("A9999", 26, 1_000_000)


# isbt128.md: "A 'type 3' flag pair carries 60 + checksum (`70` for that example)"; flags are
# "`00` by default". A bar-coded DIN whose type 3 flags disagree is refused, never read.
@pytest.mark.parametrize(
    "text,valid,flags",
    [
        ("=G12341765432170", True, "70"),  # ST-001's example with its type 3 flags
        ("=G12341765432100", True, "00"),
        ("=G12341765432112", True, "12"),  # below 60: no checksum carried
        ("=G12341765432171", False, "71"),
        ("=G12341765432160", False, "60"),
        ("=G12341765432199", False, "99"),  # beyond 60 + 36: no DIN has it
        ("G12341765432171", False, "71"),  # without the "=" too
        ("=H12341765432170", False, "70"),  # one DIN character misread: the flags catch it
    ],
)
def test_parse_din_checks_type_3_flags(text: str, valid: bool, flags: str) -> None:
    parsed = parse_din(text)
    assert (parsed.valid, parsed.flags, parsed.flag_mismatch) == (valid, flags, not valid)
    if not valid:
        assert "do not agree" in parsed.reason and parsed.reason.template  # said(): translatable


def test_type3_flags_of_the_published_example() -> None:
    assert type3_flags("G123417654321") == "70"  # isbt128.md: 60 + checksum 10
    assert flags_disagree("G123417654321", "70") is None
    assert flags_disagree("G123417654321", "00") is None


@given(facility, st.integers(0, 99), st.integers(1, 999_999), st.integers(0, 12), st.data())
def test_any_single_din_character_changed_under_type3_flags_is_refused(
    fac: str, year: int, seq: int, pos: int, data: st.DataObject
) -> None:
    din = make_din(fac, year, seq)
    allowed = "0123456789" if pos >= 5 else "ABCDEFGHIJKLMNPQRSTUVWXYZ123456789"
    new = data.draw(st.sampled_from([c for c in allowed if c != din[pos]]))
    changed = din[:pos] + new + din[pos + 1 :]
    parsed = parse_din(f"={changed}{type3_flags(din)}")
    assert not parsed.valid and parsed.flag_mismatch
