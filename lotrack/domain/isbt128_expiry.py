"""ISBT 128 data structure 005, the expiration date and time, in the site's zone: encoded for
Code 128, parsed back, and compared with a unit's recorded expiry.

Source: shared/reference/isbt128.md: "`&>cyyjjjhhmm` -- century digit (0 for 20xx), year, day of
year, hour, minute; 2359 when no time is given".
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from lotrack.domain.isbt128_structures import EXPIRY_ID, Symbol, refuse, scanned
from lotrack.domain.text import N_, Said, said

NO_TIME = dt.time(23, 59)  # reference: "2359 when no time is given"
_EXPIRY = re.compile(r"([0-9])([0-9]{2})([0-9]{3})([0-9]{2})([0-9]{2})")


@dataclass(frozen=True)
class Expiry:
    """An expiration date and time read from data structure 005, in the site's zone."""

    local: dt.datetime  # aware, in the zone it was printed for, to the minute


def encode_005(expires: dt.datetime | dt.date, zone: str) -> str:
    """'&>cyyjjjhhmm' in `zone`: a date alone at 23:59, a time cut to its minute."""
    # Cut, never rounded: a label must not show an expiry later than the record.
    local = expiry_local(expires, zone)
    if not 2000 <= local.year <= 2099:
        # The reference gives the century digit for 20xx only (0).
        raise refuse(
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
    raw = scanned(text)
    if not raw.startswith(EXPIRY_ID):
        raise refuse(
            "expiry",
            N_("Not an expiry bar code (data structure 005): it must begin with '&>'."),
            N_("begins with '&>'"),
        )
    data = raw[len(EXPIRY_ID) :]
    found = _EXPIRY.fullmatch(data)
    if found is None:
        raise refuse(
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
        raise refuse(
            "expiry",
            said("Expiry bar code: century digit %(digit)s; 0 (20xx) is expected.", digit=c),
            N_("century digit 0"),
        )
    year, day, hour, minute = 2000 + int(yy), int(jjj), int(hh), int(mm)
    days = dt.date(year, 12, 31).timetuple().tm_yday  # 365, or 366 in a leap year
    if not 1 <= day <= days or hour > 23 or minute > 59:
        raise refuse(
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
        raise refuse(
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
