"""Times are stored in UTC and shown in the viewer's zone with the zone named (DESIGN.md)."""

from __future__ import annotations

import datetime as dt

from flask import g

from lotrack.i18n import local_time
from tests.conftest import user


def test_a_utc_time_is_shown_in_the_facility_zone_with_its_name(demo_app) -> None:
    with demo_app.test_request_context():
        g.actor = None
        shown = local_time(dt.datetime(2026, 11, 25, 20, 30, tzinfo=dt.UTC))
    # Shanghai is UTC+8 all year: 20:30 UTC is 04:30 the next day there.
    assert shown == "2026-11-26 04:30 Asia/Shanghai (UTC+08:00)"


def test_a_site_user_sees_their_site_zone_and_nothing_is_shown_for_no_time(
    demo_app, session
) -> None:
    nurse = user(session, "nurse")
    nurse.site.time_zone = "Europe/Paris"  # not committed: only this render sees it
    with demo_app.test_request_context():
        g.actor = nurse
        summer = local_time(dt.datetime(2026, 7, 1, 12, 0, tzinfo=dt.UTC))
        winter = local_time(dt.datetime(2026, 1, 1, 12, 0, tzinfo=dt.UTC))
        none = local_time(None)
    assert summer == "2026-07-01 14:00 Europe/Paris (UTC+02:00)"
    assert winter == "2026-01-01 13:00 Europe/Paris (UTC+01:00)"
    assert none == "—"
