"""ISBT 128-shaped donation identification numbers and the ISO/IEC 7064 MOD 37-2 check character.

Source: ICCBBA ST-001 (see shared/reference/isbt128.md). Worked example: G1234 17 654321 -> 'A'.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lotrack.domain.text import N_, Said, said

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ*"
FACILITY_RE = re.compile(r"^[A-NP-Z1-9][0-9A-Z]{4}$")
DIN_RE = re.compile(r"^[A-NP-Z1-9][0-9A-Z]{4}[0-9]{2}[0-9]{6}$")
MAX_SEQUENCE = 999_999
# Reference: "A 'type 3' flag pair carries 60 + checksum" (checksum 0-36: 60-96). Lower pairs
# ("00" by default) carry no checksum; 97-99 could only be a type 3 pair that cannot agree.
TYPE3_BASE = 60


def check_value(din: str) -> int:
    """The MOD 37-2 checksum (0-36) over the 13 DIN characters."""
    total = 0
    for n, char in enumerate(reversed(din.upper()), start=1):
        total += ALPHABET.index(char) * (2**n)
    return (38 - total % 37) % 37


def check_character(din: str) -> str:
    """The keyboard check character printed boxed beside the eye-readable DIN."""
    if not DIN_RE.match(din):
        raise ValueError(f"not a 13-character DIN: {din!r}")
    return ALPHABET[check_value(din)]


def type3_flags(din: str) -> str:
    """The type 3 flag pair of a DIN: 60 + its checksum ('70' for G1234 17 654321)."""
    return f"{TYPE3_BASE + check_value(din):02d}"


def flags_disagree(din: str, flags: str) -> Said | None:
    """Why two flag digits read with a DIN contradict it; None when they carry no checksum or
    carry this DIN's."""
    if int(flags) < TYPE3_BASE or flags == type3_flags(din):
        return None
    return said(
        "the flag characters %(flags)s do not agree with DIN %(din)s (its type 3 flags are"
        " %(expected)s): the DIN or the flags were misread or misprinted",
        flags=flags,
        din=eye_readable(din),
        expected=type3_flags(din),
    )


def is_valid_facility_id(facility_id: str) -> bool:
    return bool(FACILITY_RE.match(facility_id))


def make_din(facility_id: str, year: int, sequence: int) -> str:
    """facility id (5) + two-digit nominal year + six-digit sequence within that year."""
    if not is_valid_facility_id(facility_id):
        raise ValueError(f"facility id {facility_id!r}: 5 characters, first A-N, P-Z or 1-9")
    if not 1 <= sequence <= MAX_SEQUENCE:
        raise ValueError(f"sequence {sequence} outside 1..{MAX_SEQUENCE}")
    return f"{facility_id}{year % 100:02d}{sequence:06d}"


def eye_readable(din: str) -> str:
    """'G1234 17 654321' as printed on labels."""
    return f"{din[:5]} {din[5:7]} {din[7:]}"


@dataclass(frozen=True)
class ParsedDin:
    din: str
    check: str | None  # the check character given with it, if any
    valid: bool
    reason: str
    flags: str | None = None  # the two flag digits of a bar-coded DIN, if any
    flag_mismatch: bool = False  # type 3 flags that contradict the DIN: misread or misprinted


# The label's other bar codes (isbt128_structures.py): scanned into a DIN field, say which it is.
OTHER_STRUCTURES = {
    "=<": N_("that is the label's product code bar code (003), not its DIN"),
    "&>": N_("that is the label's expiry bar code (005), not its DIN"),
}


def parse_din(text: str) -> ParsedDin:
    """Read a DIN as typed or scanned: spaces ignored, optional '=' prefix, flags or check char."""
    raw = re.sub(r"\s+", "", text or "").upper()
    if raw[:2] in OTHER_STRUCTURES:
        return ParsedDin(raw, None, False, OTHER_STRUCTURES[raw[:2]])
    if raw.startswith("="):
        raw = raw[1:]
    flags = None
    if len(raw) == 15 and re.fullmatch(r"[0-9]{2}", raw[13:]):  # bar-coded: two flag digits
        raw, flags = raw[:13], raw[13:]
    body, given = (raw[:13], raw[13:]) if len(raw) == 14 else (raw, None)
    if not DIN_RE.match(body):
        return ParsedDin(
            body, given, False, N_("not a DIN: expected 13 characters like A9999 26 000001")
        )
    if given is not None and given != check_character(body):
        return ParsedDin(
            body,
            given,
            False,
            said("check character %(given)s does not match this DIN", given=given),
        )
    disagreement = flags_disagree(body, flags) if flags is not None else None
    if disagreement is not None:
        return ParsedDin(body, None, False, disagreement, flags, flag_mismatch=True)
    return ParsedDin(body, given, True, "", flags)
