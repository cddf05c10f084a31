"""ISBT 128 data structures on a cell-therapy label, encoded for Code 128 and parsed back: the DIN
with its flag characters (001) and the product code (003); the expiry (005) is isbt128_expiry.py.

Source: shared/reference/isbt128.md (data identifiers, lengths, flag rule, date format). The MOD
37-2 checksum is `isbt128.check_value`, the one implementation. A parser returns a typed value or
raises `ValidationFailed` naming the field and what is wrong with it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lotrack.domain.errors import ValidationFailed
from lotrack.domain.isbt128 import (
    DIN_RE,
    TYPE3_BASE,
    check_character,
    eye_readable,
    flags_disagree,
    type3_flags,
)
from lotrack.domain.text import N_, said

# Data identifiers (reference: "Bar-coded as `=` ...", "Product code (003): `=<`",
# "Expiration date and time (005): `&>`").
DIN_ID, PRODUCT_ID, EXPIRY_ID = "=", "=<", "&>"
NO_FLAGS = "00"  # reference: "`00` by default"
DIN_DATA_LENGTH = 15  # reference: "`=` followed by 15 characters `αppppyynnnnnnff`"
PRODUCT_LENGTH = 8  # reference: "`=<` + 8 characters"
# Reference: "codes YA000-YZ999 are set aside for clinical-trial products" (the 5-character
# description code that opens the 8); a site with registered codes configures its own pattern.
DEFAULT_PRODUCT_PATTERN = r"Y[A-Z][0-9]{3}"

_FLAGS = re.compile(r"[0-9]{2}")
_PRODUCT = re.compile(r"[0-9A-Z]{8}")


@dataclass(frozen=True)
class Din001:
    """A DIN read from data structure 001, with its flag characters."""

    din: str  # the 13 characters; the flags are not part of it
    flags: str  # "00"-"59": no checksum carried; otherwise the type 3 pair of this DIN

    @property
    def checked(self) -> bool:
        """Whether the flags carried the DIN's checksum (and it agreed)."""
        return int(self.flags) >= TYPE3_BASE


@dataclass(frozen=True)
class ProductCode:
    """A product code read from data structure 003."""

    code: str  # the 8 characters after "=<"

    @property
    def description(self) -> str:
        """The 5-character description code that opens the product code."""
        return self.code[:5]


@dataclass(frozen=True)
class Symbol:
    """What one Code 128 symbol carries and the eye-readable text printed with it."""

    data: str  # data identifier first, exactly the characters bar-coded
    eye: str
    check: str = ""  # the DIN's keyboard check character, printed boxed beside `eye`


def structure_of(text: str) -> str | None:
    """Which data structure ('001', '003', '005') scanned text is, by its data identifier."""
    raw = (text or "").strip()
    for ident, name in ((PRODUCT_ID, "003"), (EXPIRY_ID, "005"), (DIN_ID, "001")):
        if raw.startswith(ident):  # "=<" before "=": the product code's begins with the DIN's
            return name
    return None


def refuse(field: str, message: str, hint: str) -> ValidationFailed:
    """A refusal of scanned or printed data: the sentence, and what `field` should be."""
    return ValidationFailed(message, {field: hint})


def scanned(text: str) -> str:
    """What a scanner sent, without a keyboard wedge's line end, in upper case."""
    # A wedge with caps lock on sends lower case. Non-ASCII stays as it is, for the patterns to
    # refuse: upper() would turn some of it into ASCII letters ('ı' becomes 'I').
    raw = (text or "").strip()
    return raw.upper() if raw.isascii() else raw


# ---- 001: donation identification number with flag characters ---------------------------------


def encode_001(din: str, *, checked: bool = True) -> str:
    """'=' + DIN + flags: type 3 flags by default, '00' when `checked` is False."""
    if not DIN_RE.fullmatch(din):
        raise refuse(
            "din",
            said("Not a 13-character DIN: %(din)s.", din=din),
            N_("13 characters like A9999 26 000001"),
        )
    return f"{DIN_ID}{din}{type3_flags(din) if checked else NO_FLAGS}"


def parse_001(text: str) -> Din001:
    """The DIN and flags of a scanned 001; refused when the flags disagree with the DIN."""
    raw = scanned(text)
    if not raw.startswith(DIN_ID) or raw.startswith(PRODUCT_ID):
        raise refuse(
            "din",
            N_("Not a DIN bar code (data structure 001): it must begin with '='."),
            N_("begins with '='"),
        )
    data = raw[len(DIN_ID) :]
    if len(data) != DIN_DATA_LENGTH:
        raise refuse(
            "din",
            said(
                "DIN bar code: %(count)s characters after '=', where 15 are expected (13 of the"
                " DIN and 2 flag characters).",
                count=len(data),
            ),
            N_("15 characters after '='"),
        )
    din, flags = data[:13], data[13:]
    if not DIN_RE.fullmatch(din):
        raise refuse(
            "din",
            said(
                "DIN bar code: %(din)s is not a DIN (a facility id of 5 characters, first A-N,"
                " P-Z or 1-9, then 8 digits).",
                din=din,
            ),
            N_("13 characters like A9999 26 000001"),
        )
    if not _FLAGS.fullmatch(flags):
        raise refuse(
            "flags",
            said("DIN bar code: the flag characters %(flags)s are not two digits.", flags=flags),
            N_("two digits"),
        )
    disagreement = flags_disagree(din, flags)
    if disagreement is not None:
        # Type 3 flags that disagree: the DIN or the flags were misread or misprinted.
        raise refuse(
            "flags",
            said("DIN bar code: %(why)s.", why=disagreement),
            said("type 3 flags %(expected)s", expected=type3_flags(din)),
        )
    return Din001(din, flags)


def din_symbol(din: str, *, checked: bool = True) -> Symbol:
    """The 001 symbol: '=' + DIN + flags, printed as 'G1234 17 654321' with its check character."""
    return Symbol(encode_001(din, checked=checked), eye_readable(din), check_character(din))


# ---- 003: product code ---------------------------------------------------------------------------


def encode_003(code: str, pattern: str = DEFAULT_PRODUCT_PATTERN) -> str:
    """'=<' + the 8-character product code, whose description code must match `pattern`."""
    return PRODUCT_ID + _product_code(code, pattern)


def parse_003(text: str, pattern: str = DEFAULT_PRODUCT_PATTERN) -> ProductCode:
    """The product code of a scanned 003, its description code matched against `pattern`."""
    raw = scanned(text)
    if not raw.startswith(PRODUCT_ID):
        raise refuse(
            "product_code",
            N_("Not a product code bar code (data structure 003): it must begin with '=<'."),
            N_("begins with '=<'"),
        )
    return ProductCode(_product_code(raw[len(PRODUCT_ID) :], pattern))


def _product_code(code: str, pattern: str) -> str:
    if len(code) != PRODUCT_LENGTH or not _PRODUCT.fullmatch(code):
        raise refuse(
            "product_code",
            said(
                "Product code %(code)s: 8 letters (A-Z) or digits are expected.",
                code=code,
            ),
            N_("8 letters or digits"),
        )
    if not re.fullmatch(pattern, code[:5]):
        raise refuse(
            "product_code",
            said(
                "Product code %(code)s: the description code %(description)s is not one this"
                " site uses (%(pattern)s).",
                code=code,
                description=code[:5],
                pattern=pattern,
            ),
            said("a description code matching %(pattern)s", pattern=pattern),
        )
    return code


def product_symbol(code: str, pattern: str = DEFAULT_PRODUCT_PATTERN) -> Symbol:
    """The 003 symbol, its eye-readable text the 8 characters of the code."""
    return Symbol(encode_003(code, pattern), _product_code(code, pattern))
