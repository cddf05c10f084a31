"""ISBT 128 data structures on a cell-therapy label, encoded for Code 128 and parsed back: the DIN
with its flag characters (001), the product code (003) and the expiration date and time (005).

Source: shared/reference/isbt128.md (data identifiers, lengths, flag rule, date format). The MOD
37-2 checksum is `isbt128.check_value`, the one implementation. A parser returns a typed value or
raises `ValidationFailed` naming the field and what is wrong with it.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from lotrack.domain.errors import ValidationFailed
from lotrack.domain.isbt128 import (
    DIN_RE,
    TYPE3_BASE,
    check_character,
    eye_readable,
    flags_disagree,
    type3_flags,
)
from lotrack.domain.text import N_, Said, said

# Data identifiers (reference: "Bar-coded as `=` ...", "Product code (003): `=<`",
# "Expiration date and time (005): `&>`").
DIN_ID, PRODUCT_ID, EXPIRY_ID = "=", "=<", "&>"
NO_FLAGS = "00"  # reference: "`00` by default"
DIN_DATA_LENGTH = 15  # reference: "`=` followed by 15 characters `αppppyynnnnnnff`"
PRODUCT_LENGTH = 8  # reference: "`=<` + 8 characters"
# Reference: "codes YA000-YZ999 are set aside for clinical-trial products" (the 5-character
# description code that opens the 8); a site with registered codes configures its own pattern.
DEFAULT_PRODUCT_PATTERN = r"Y[A-Z][0-9]{3}"
NO_TIME = dt.time(23, 59)  # reference: "2359 when no time is given"

_FLAGS = re.compile(r"[0-9]{2}")
_PRODUCT = re.compile(r"[0-9A-Z]{8}")
_EXPIRY = re.compile(r"([0-9])([0-9]{2})([0-9]{3})([0-9]{2})([0-9]{2})")


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
class Expiry:
    """An expiration date and time read from data structure 005, in the site's zone."""

    local: dt.datetime  # aware, in the zone it was printed for, to the minute


@dataclass(frozen=True)
class Symbol:
    """What one Code 128 symbol carries and the eye-readable text printed with it."""

    data: str  # data identifier first, exactly the characters bar-coded
    eye: str
    check: str = ""  # the DIN's keyboard check character, printed boxed beside `eye`


def _refuse(field: str, message: str, hint: str) -> ValidationFailed:
    return ValidationFailed(message, {field: hint})


def _scanned(text: str) -> str:
    """What a scanner sent, without a keyboard wedge's line end, in upper case."""
    # A wedge with caps lock on sends lower case. Non-ASCII stays as it is, for the patterns to
    # refuse: upper() would turn some of it into ASCII letters ('ı' becomes 'I').
    raw = (text or "").strip()
    return raw.upper() if raw.isascii() else raw


# ---- 001: donation identification number with flag characters ---------------------------------


def encode_001(din: str, *, checked: bool = True) -> str:
    """'=' + DIN + flags: type 3 flags by default, '00' when `checked` is False."""
    if not DIN_RE.fullmatch(din):
        raise _refuse(
            "din",
            said("Not a 13-character DIN: %(din)s.", din=din),
            N_("13 characters like A9999 26 000001"),
        )
    return f"{DIN_ID}{din}{type3_flags(din) if checked else NO_FLAGS}"


def parse_001(text: str) -> Din001:
    """The DIN and flags of a scanned 001; refused when the flags disagree with the DIN."""
    raw = _scanned(text)
    if not raw.startswith(DIN_ID) or raw.startswith(PRODUCT_ID):
        raise _refuse(
            "din",
            N_("Not a DIN bar code (data structure 001): it must begin with '='."),
            N_("begins with '='"),
        )
    data = raw[len(DIN_ID) :]
    if len(data) != DIN_DATA_LENGTH:
        raise _refuse(
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
        raise _refuse(
            "din",
            said(
                "DIN bar code: %(din)s is not a DIN (a facility id of 5 characters, first A-N,"
                " P-Z or 1-9, then 8 digits).",
                din=din,
            ),
            N_("13 characters like A9999 26 000001"),
        )
    if not _FLAGS.fullmatch(flags):
        raise _refuse(
            "flags",
            said("DIN bar code: the flag characters %(flags)s are not two digits.", flags=flags),
            N_("two digits"),
        )
    disagreement = flags_disagree(din, flags)
    if disagreement is not None:
        # Type 3 flags that disagree: the DIN or the flags were misread or misprinted.
        raise _refuse(
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
    raw = _scanned(text)
    if not raw.startswith(PRODUCT_ID):
        raise _refuse(
            "product_code",
            N_("Not a product code bar code (data structure 003): it must begin with '=<'."),
            N_("begins with '=<'"),
        )
    return ProductCode(_product_code(raw[len(PRODUCT_ID) :], pattern))


def _product_code(code: str, pattern: str) -> str:
    if len(code) != PRODUCT_LENGTH or not _PRODUCT.fullmatch(code):
        raise _refuse(
            "product_code",
            said(
                "Product code %(code)s: 8 letters (A-Z) or digits are expected.",
                code=code,
            ),
            N_("8 letters or digits"),
        )
    if not re.fullmatch(pattern, code[:5]):
        raise _refuse(
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


# ---- 005: expiration date and time ---------------------------------------------------------------


def encode_005(expires: dt.datetime | dt.date, zone: str) -> str:
    """'&>cyyjjjhhmm' in `zone`: a date alone at 23:59, a time cut to its minute."""
    # Cut, never rounded: a label must not show an expiry later than the record.
    local = expiry_local(expires, zone)
    if not 2000 <= local.year <= 2099:
        # The reference gives the century digit for 20xx only (0).
        raise _refuse(
            "expiry",
            said("Expiry %(year)s: only years 2000-2099 can be bar-coded.", year=local.year),
            N_("a year from 2000 to 2099"),
        )
    day = local.timetuple().tm_yday
    return f"{EXPIRY_ID}0{local.year % 100:02d}{day:03d}{local:%H%M}"


def expiry_local(expires: dt.datetime | dt.date, zone: str) -> dt.datetime:
    """The expiry as printed: in `zone`, to the minute; a date alone at 23:59 of that day."""
    tz = ZoneInfo(zone)
    if isinstance(expires, dt.datetime):
        if expires.tzinfo is None:
            raise ValueError("an expiry time must be timezone-aware")
        return expires.astimezone(tz).replace(second=0, microsecond=0)
    return dt.datetime.combine(expires, NO_TIME, tz)


def parse_005(text: str, zone: str) -> Expiry:
    """The expiry of a scanned 005 as a time in `zone`; an impossible date or time is refused."""
    raw = _scanned(text)
    if not raw.startswith(EXPIRY_ID):
        raise _refuse(
            "expiry",
            N_("Not an expiry bar code (data structure 005): it must begin with '&>'."),
            N_("begins with '&>'"),
        )
    data = raw[len(EXPIRY_ID) :]
    found = _EXPIRY.fullmatch(data)
    if found is None:
        raise _refuse(
            "expiry",
            said(
                "Expiry bar code: %(data)s is not 10 digits (century, year, day of year, hour,"
                " minute).",
                data=data,
            ),
            N_("10 digits: cyyjjjhhmm"),
        )
    c, yy, jjj, hh, mm = found.groups()  # as scanned, so a refusal shows the digits read
    if c != "0":
        raise _refuse(
            "expiry",
            said("Expiry bar code: century digit %(digit)s; 0 (20xx) is expected.", digit=c),
            N_("century digit 0"),
        )
    year, day, hour, minute = 2000 + int(yy), int(jjj), int(hh), int(mm)
    days = dt.date(year, 12, 31).timetuple().tm_yday  # 365, or 366 in a leap year
    if not 1 <= day <= days or hour > 23 or minute > 59:
        raise _refuse(
            "expiry",
            said(
                "Expiry bar code: day %(day)s of %(year)s at %(hour)s:%(minute)s is not a date"
                " and time (days 1-%(days)s, hours 00-23, minutes 00-59).",
                day=jjj,
                year=year,
                hour=hh,
                minute=mm,
                days=days,
            ),
            N_("a real date and time"),
        )
    tz = ZoneInfo(zone)
    # fold 0: a wall time met twice (clocks put back) is read as the earlier instant, the safe side.
    wall = dt.datetime(year, 1, 1, hour, minute, tzinfo=tz) + dt.timedelta(days=day - 1)
    # A wall time skipped by a daylight-saving change does not exist there: refuse, never guess.
    if wall.astimezone(dt.UTC).astimezone(tz).replace(tzinfo=None) != wall.replace(tzinfo=None):
        raise _refuse(
            "expiry",
            said(
                "Expiry bar code: %(time)s does not exist in %(zone)s (a daylight-saving change).",
                time=wall.strftime("%Y-%m-%d %H:%M"),
                zone=zone,
            ),
            N_("a time that exists in the site's zone"),
        )
    return Expiry(wall)


def expiry_symbol(expires: dt.datetime | dt.date, zone: str) -> Symbol:
    """The 005 symbol, eye-readable as '2028-08-17 23:59 (Asia/Shanghai)' like clock.py's."""
    local = expiry_local(expires, zone)
    return Symbol(encode_005(expires, zone), f"{local:%Y-%m-%d %H:%M} ({zone})")


def expiry_disagrees(label: dt.datetime, expires_on: dt.date | None, zone: str) -> Said | None:
    """Why a label's scanned 005 expiry contradicts the unit's record; None when it agrees."""
    if expires_on is None:  # nothing to compare: the unit rule refuses an unknown expiry
        return None
    # The record keeps a date (used until it ends in `zone`), printed as 23:59 of it: any other
    # time, later or earlier, means a label not printed from this record.
    record = expiry_local(expires_on, zone)
    if label == record:
        return None
    return said(
        "the label's expiry %(label)s is not the unit's recorded expiry %(record)s (%(zone)s)",
        label=label.astimezone(record.tzinfo).strftime("%Y-%m-%d %H:%M"),
        record=record.strftime("%Y-%m-%d %H:%M"),
        zone=zone,
    )
