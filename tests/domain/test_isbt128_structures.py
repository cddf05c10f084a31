"""ISBT 128 data structures 001 (DIN with flags), 003 (product code) and 005 (expiry), as
shared/reference/isbt128.md gives them: its examples, refusals, and encode-then-parse properties."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lotrack.domain.errors import ValidationFailed
from lotrack.domain.isbt128 import ALPHABET, FACILITY_RE, MAX_SEQUENCE, make_din, type3_flags
from lotrack.domain.isbt128_expiry import encode_005, expiry_disagrees, expiry_symbol, parse_005
from lotrack.domain.isbt128_structures import (
    DEFAULT_PRODUCT_PATTERN,
    Din001,
    din_symbol,
    encode_001,
    encode_003,
    parse_001,
    parse_003,
    product_symbol,
)

SHANGHAI = "Asia/Shanghai"  # config.py SITE_TIME_ZONE default

# ---- the reference's examples --------------------------------------------------------------------

# isbt128.md "Check character": ST-001 appendix A, G1234 17 654321 -> checksum 10 -> 'A'; "A type 3
# flag pair carries 60 + checksum (`70` for that example)"; 001 is "=" + 13 + 2 flag characters.
PUBLISHED_001 = [
    ("G123417654321", "70", "=G12341765432170"),
]


@pytest.mark.parametrize("din,flags,data", PUBLISHED_001)
def test_the_published_din_example_as_data_structure_001(din: str, flags: str, data: str) -> None:
    assert type3_flags(din) == flags
    assert encode_001(din) == data
    assert parse_001(data) == Din001(din, flags)
    assert parse_001(data).checked
    # isbt128.md: flags "`00` by default" -- no checksum carried, the DIN read all the same.
    assert encode_001(din, checked=False) == f"={din}00"
    assert parse_001(f"={din}00") == Din001(din, "00") and not parse_001(f"={din}00").checked


@pytest.mark.parametrize("flags", ["00", "01", "12", "59"])
def test_flags_below_60_carry_no_checksum_and_the_din_is_read(flags: str) -> None:
    # isbt128.md: only a type 3 pair (60 + checksum) says anything about the DIN.
    assert parse_001(f"=G123417654321{flags}") == Din001("G123417654321", flags)
    assert not parse_001(f"=G123417654321{flags}").checked


def test_the_published_din_is_printed_with_its_eye_readable_text_and_check_character() -> None:
    # isbt128.md: "printed as `G1234 17 654321` with a boxed keyboard check character" ('A').
    symbol = din_symbol("G123417654321")
    assert (symbol.data, symbol.eye, symbol.check) == ("=G12341765432170", "G1234 17 654321", "A")


# isbt128.md "Other data structures": 003 is "=<" + 8 characters; YA000-YZ999 are set aside for
# clinical-trial products (the default pattern). Built from that format, not published examples.
@pytest.mark.parametrize("code", ["YA000000", "YZ999000", "YK123A01"])
def test_product_codes_in_the_clinical_trial_range(code: str) -> None:
    assert encode_003(code) == "=<" + code
    assert parse_003("=<" + code).code == code
    assert parse_003("=<" + code).description == code[:5]
    assert (product_symbol(code).data, product_symbol(code).eye) == ("=<" + code, code)


def test_a_site_configures_its_own_description_codes() -> None:
    # isbt128.md: "for cellular therapy the description code starts with `S`".
    assert parse_003("=<S1234000", pattern=r"S[0-9A-Z]{4}").code == "S1234000"
    with pytest.raises(ValidationFailed, match="description code S1234"):
        parse_003("=<S1234000")  # not in the default clinical-trial range


# isbt128.md 005: "`&>cyyjjjhhmm` -- century digit (0 for 20xx), year, day of year, hour, minute;
# 2359 when no time is given". Built from that format, not published examples.
EXPIRIES_005 = [
    (dt.date(2026, 12, 31), "&>0263652359"),  # day 365 of a common year, no time: 2359
    (dt.date(2028, 12, 31), "&>0283662359"),  # day 366 of a leap year
    (dt.date(2027, 1, 1), "&>0270012359"),
    (dt.datetime(2027, 3, 1, 8, 5, tzinfo=ZoneInfo(SHANGHAI)), "&>0270600805"),
    # Stored in UTC, printed in the site's zone: 2026-12-31 16:30 UTC is 1 January 00:30 there.
    (dt.datetime(2026, 12, 31, 16, 30, tzinfo=dt.UTC), "&>0270010030"),
    # Seconds are cut, never rounded up: a label never shows an expiry later than the record.
    (dt.datetime(2027, 6, 1, 9, 59, 59, tzinfo=ZoneInfo(SHANGHAI)), "&>0271520959"),
]


@pytest.mark.parametrize("expires,data", EXPIRIES_005)
def test_expiry_as_data_structure_005(expires: dt.datetime | dt.date, data: str) -> None:
    assert encode_005(expires, SHANGHAI) == data
    read = parse_005(data, SHANGHAI).local
    assert read.tzinfo == ZoneInfo(SHANGHAI)
    assert encode_005(read, SHANGHAI) == data


def test_the_expiry_is_printed_in_the_sites_zone_named() -> None:
    symbol = expiry_symbol(dt.date(2028, 8, 17), SHANGHAI)
    assert (symbol.data, symbol.eye) == ("&>0282302359", "2028-08-17 23:59 (Asia/Shanghai)")


def test_a_date_alone_expires_at_2359_in_the_sites_zone() -> None:
    read = parse_005("&>0263652359", SHANGHAI).local
    assert read == dt.datetime(2026, 12, 31, 23, 59, tzinfo=ZoneInfo(SHANGHAI))
    assert read.astimezone(dt.UTC) == dt.datetime(2026, 12, 31, 15, 59, tzinfo=dt.UTC)


# ---- refusals: each names its field and what is wrong ------------------------------------------

REFUSED_001 = [
    ("=G12341765432171", "flags", "do not agree"),  # wrong type 3 flag (70 expected)
    ("=G12341765432160", "flags", "do not agree"),
    ("=G12341765432197", "flags", "do not agree"),  # beyond 60 + 36: no checksum gives it
    ("=G12341765432199", "flags", "do not agree"),
    ("=G1234176543217A", "flags", "two digits"),
    ("=G1234176543217", "din", "14 characters"),  # flag character missing
    ("=G123417654321700", "din", "16 characters"),
    ("G12341765432170", "din", "begin with '='"),  # data identifier missing
    ("=<G1234176543217", "din", "begin with '='"),  # a product code's identifier
    ("&>G12341765432170", "din", "begin with '='"),
    ("=O12341765432170", "din", "not a DIN"),  # O never opens a facility id
    ("=G1234 176543217", "din", "not a DIN"),  # a space inside
    ("=G1234176543X170", "din", "not a DIN"),  # a letter in the sequence
    ("=G12341765432\u0661\u0667\u0660", "din", "not a DIN"),  # Arabic-Indic digits
    ("=G\u01312341765432170", "din", "not a DIN"),  # dotless i, which upper() makes I
    ("", "din", "begin with '='"),
]


@pytest.mark.parametrize("text,field,words", REFUSED_001)
def test_a_wrong_001_is_refused_naming_the_field(text: str, field: str, words: str) -> None:
    with pytest.raises(ValidationFailed, match=words) as refused:
        parse_001(text)
    assert refused.value.fields.get(field)


def test_a_flag_mismatch_names_both_pairs_and_the_din() -> None:
    with pytest.raises(ValidationFailed) as refused:
        parse_001("=G12341765432171")
    assert "71" in refused.value.message and "70" in refused.value.message
    assert "G1234 17 654321" in refused.value.message
    assert refused.value.message.template  # said(): an edge can say it in Chinese


@pytest.mark.parametrize(
    "text,words",
    [
        ("=<YA00000", "8 letters"),  # 7 characters
        ("=<YA0000000", "8 letters"),  # 9 characters
        ("=<YA00-000", "8 letters"),
        ("=<YA0\u0660\u0660000", "8 letters"),
        ("=<SA000000", "description code SA000"),  # outside YA000-YZ999
        ("=<Y1000000", "description code Y1000"),
        ("=YA000000", "begin with '=<'"),
        ("&>YA000000", "begin with '=<'"),
    ],
)
def test_a_wrong_003_is_refused(text: str, words: str) -> None:
    with pytest.raises(ValidationFailed, match=words) as refused:
        parse_003(text)
    assert "product_code" in refused.value.fields


@pytest.mark.parametrize(
    "text,words",
    [
        ("&>0263662359", "not a date"),  # day 366 of 2026, a common year
        ("&>0260002359", "not a date"),  # day 000
        ("&>0263652400", "not a date"),  # 24:00
        ("&>0263652360", "not a date"),  # minute 60
        ("&>1263652359", "century digit 1"),  # the reference knows 0 (20xx) only
        ("&>026365235", "not 10 digits"),
        ("&>02636523590", "not 10 digits"),
        ("&>02636523 9", "not 10 digits"),
        ("&>026365235\u0669", "not 10 digits"),
        ("=>0263652359", "begin with '&>'"),
        ("0263652359", "begin with '&>'"),
    ],
)
def test_a_wrong_005_is_refused(text: str, words: str) -> None:
    with pytest.raises(ValidationFailed, match=words) as refused:
        parse_005(text, SHANGHAI)
    assert "expiry" in refused.value.fields


def test_a_wall_time_skipped_by_daylight_saving_is_refused() -> None:
    # New York, 2027-03-14 (day 073): clocks go from 02:00 to 03:00; 02:30 never happens.
    with pytest.raises(ValidationFailed, match="does not exist"):
        parse_005("&>0270730230", "America/New_York")
    assert parse_005("&>0270730330", "America/New_York").local.hour == 3


def test_years_outside_20xx_and_naive_times_are_not_encoded() -> None:
    with pytest.raises(ValidationFailed, match="2000-2099"):
        encode_005(dt.date(2100, 1, 1), SHANGHAI)
    with pytest.raises(ValueError, match="timezone-aware"):
        encode_005(dt.datetime(2027, 1, 1, 12, 0), SHANGHAI)


def test_encoders_refuse_what_they_could_not_print() -> None:
    with pytest.raises(ValidationFailed, match="13-character DIN"):
        encode_001("G12341765432")
    with pytest.raises(ValidationFailed, match="description code"):
        encode_003("SA000000")


# ---- properties: encode then parse gives back the same values ------------------------------------

FAST = settings(max_examples=300, deadline=None, derandomize=True, database=None)
DIN = st.builds(
    make_din, st.from_regex(FACILITY_RE, fullmatch=True).filter(lambda f: "\n" not in f),
    st.integers(0, 99), st.integers(1, MAX_SEQUENCE),
)  # fmt: skip
ZONES = st.sampled_from([SHANGHAI, "UTC", "America/New_York", "Europe/London"])


@FAST
@given(DIN, st.booleans())
def test_001_round_trip(din: str, checked: bool) -> None:
    read = parse_001(encode_001(din, checked=checked))
    assert read.din == din and read.checked is checked
    assert parse_001(encode_001(din, checked=checked).lower() + "\r\n") == read  # a wedge's read


@FAST
@given(DIN, st.integers(0, 15), st.sampled_from(ALPHABET + "=<&> -0"))
def test_any_single_character_change_of_a_001_with_flags_never_reads_another_din(
    din: str, position: int, new: str
) -> None:
    """MOD 37-2 in the type 3 flags catches every single substitution: a changed 001 is refused,
    or (a flag pair turned to '00') read as the same DIN -- never as another unit's."""
    data = encode_001(din)
    changed = data[:position] + new + data[position + 1 :]
    try:
        read = parse_001(changed)
    except ValidationFailed:
        return
    assert read.din == din
    assert position >= 14 or changed == data  # only the flags, or nothing, changed


@FAST
@given(st.from_regex(DEFAULT_PRODUCT_PATTERN + r"[0-9A-Z]{3}", fullmatch=True))
def test_003_round_trip(code: str) -> None:
    assert parse_003(encode_003(code)).code == code


@FAST
@given(
    st.datetimes(dt.datetime(2000, 1, 2), dt.datetime(2099, 12, 30), timezones=st.just(dt.UTC)),
    ZONES,
)
def test_005_round_trip(moment: dt.datetime, zone: str) -> None:
    data = encode_005(moment, zone)
    read = parse_005(data, zone).local
    local = moment.astimezone(ZoneInfo(zone))
    # The same wall time to the minute, in the same zone; never later than the record.
    assert read.replace(tzinfo=None) == local.replace(second=0, microsecond=0, tzinfo=None)
    assert read.astimezone(dt.UTC) <= moment
    assert encode_005(read, zone) == data


@FAST
@given(st.dates(dt.date(2000, 1, 1), dt.date(2099, 12, 31)), ZONES)
def test_005_round_trip_of_a_date(day: dt.date, zone: str) -> None:
    read = parse_005(encode_005(day, zone), zone).local
    assert (read.date(), read.hour, read.minute) == (day, 23, 59)


@FAST
@given(st.text(max_size=20))
def test_any_text_is_read_or_refused_never_anything_else(text: str) -> None:
    for parse in (parse_001, parse_003, lambda t: parse_005(t, SHANGHAI)):
        try:
            parse(text)
        except ValidationFailed as refused:
            assert refused.message and refused.fields


@FAST
@given(st.dates(dt.date(2000, 1, 1), dt.date(2099, 12, 31)), ZONES, st.integers(-3, 3))
def test_a_scanned_005_agrees_with_the_record_it_was_printed_from_only(
    day: dt.date, zone: str, days_off: int
) -> None:
    label = parse_005(encode_005(day, zone), zone).local
    assert expiry_disagrees(label, day, zone) is None
    other = day + dt.timedelta(days=days_off)
    assert (expiry_disagrees(label, other, zone) is None) is (days_off == 0)
    assert expiry_disagrees(label, None, zone) is None  # unknown: refused by the unit rule
