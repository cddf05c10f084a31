"""The facility's zone, carried by every database session (set from LOTRACK_SITE_TIME_ZONE), so
that every service judges "today" and "expired" by the same calendar."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from lotrack.config import DEFAULTS
from lotrack.db import utcnow
from lotrack.domain import clock

ZONE_KEY = "facility_zone"


def facility_zone(session: Session) -> str:
    return str(session.info.get(ZONE_KEY) or DEFAULTS["SITE_TIME_ZONE"])


def today(session: Session) -> dt.date:
    """The facility's calendar date now."""
    return clock.local_date(utcnow(), facility_zone(session))


def expired(session: Session, expires_on: dt.date | None, now: dt.datetime | None = None) -> bool:
    """Whether a unit with this expiry date is past it now (or at `now`), in the facility's zone."""
    return clock.expired(expires_on, now or utcnow(), facility_zone(session))
