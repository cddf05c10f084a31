"""Dates people judge by the calendar, judged in one zone by one function each.

A unit's expiry date is printed with its zone ("2028-08-17 23:59 (Asia/Shanghai)"): it may be used
until that date ends there, wherever it is scanned. "Today" is the calendar date in the zone too.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo


def local_date(moment: dt.datetime, zone: str) -> dt.date:
    """The calendar date at `moment` in `zone`."""
    return moment.astimezone(ZoneInfo(zone)).date()


def expires_at(expires_on: dt.date, zone: str) -> dt.datetime:
    """The first instant after the expiry date has ended in `zone` (its midnight, in UTC)."""
    try:
        midnight = dt.datetime.combine(expires_on + dt.timedelta(days=1), dt.time(), ZoneInfo(zone))
        return midnight.astimezone(dt.UTC)
    except OverflowError:  # a date at the calendar's end: it ends after any time we can name
        return dt.datetime.max.replace(tzinfo=dt.UTC)


def expired(expires_on: dt.date | None, now: dt.datetime, zone: str) -> bool:
    """Whether a unit dated to `expires_on` is past its expiry at `now` (no date: expired)."""
    return expires_on is None or now >= expires_at(expires_on, zone)


def named(moment: dt.datetime, zone: str, *, seconds: bool = False) -> str:
    """A stored UTC time in `zone`, named as pages show it: "2025-06-01 14:03 Asia/Shanghai
    (UTC+08:00)" (with seconds where a record is signed to the second)."""
    local = moment.astimezone(ZoneInfo(zone))
    offset = local.strftime("%z")
    clock = "%H:%M:%S" if seconds else "%H:%M"
    return f"{local:%Y-%m-%d} {local.strftime(clock)} {zone} (UTC{offset[:3]}:{offset[3:]})"
