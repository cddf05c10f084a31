"""When a result may be dated: the rule for `performed_on`, judged by the facility's calendar.

`performed_on` is the day the sample was taken and tested; for a test with incubation days
(sterility) it is the day the sample was inoculated, and the incubation runs from it
(`specs.judge` holds a reading back until `performed_on + incubation_days`). A date stands when it
is
1. not in the future: `today` is the facility's calendar date, not the UTC one;
2. not before its subject existed: a lot's harvest, a bank's banking, a passage's seeding;
3. for an incubated test, not before an incubation already on record for the same test of the
   same subject (the entry it completes or corrects, or one invalidated before it). An earlier
   start would make the incubation look longer than it ran; a later one only makes the wait
   grow. A start date recorded wrongly is explained in a deviation or an investigation, never
   re-dated to shorten the incubation.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from lotrack.domain.errors import ValidationFailed
from lotrack.domain.text import said

# What a refusal calls a test that was not named.
THE_TEST = said("the test")


@dataclass(frozen=True)
class Start:
    """The day a subject came to be, and what that day was ("the harvest of lot CFM-2025-0005")."""

    on: dt.date
    event: str


@dataclass(frozen=True)
class DateRefusal:
    """Why a test date cannot stand: a sentence for the person, and the field's short reason."""

    message: str
    field: str


def date_refusal(
    performed_on: dt.date,
    *,
    today: dt.date,
    start: Start,
    test: str = THE_TEST,
    incubation_days: int | None = None,
    incubation_on_record: dt.date | None = None,
) -> DateRefusal | None:
    """Why `performed_on` cannot be a test date, or None if it can: a future date first, else
    the highest floor it falls below (so the next date entered is not refused again).

    `incubation_on_record` is the latest inoculation date already recorded for this test of the
    subject; it binds only a test with `incubation_days`."""
    if performed_on > today:
        return DateRefusal(
            said(
                "%(test)s: the test date %(date)s is in the future; today is %(today)s at the"
                " facility.",
                test=test,
                date=performed_on,
                today=today,
            ),
            said("in the future (today is %(today)s)", today=today),
        )
    crossed: list[tuple[dt.date, DateRefusal]] = []  # each floor the date falls below
    if performed_on < start.on:
        crossed.append(
            (
                start.on,
                DateRefusal(
                    said(
                        "%(test)s: the test date %(date)s is before %(event)s on %(start)s;"
                        " a sample cannot be tested before it exists.",
                        test=test,
                        date=performed_on,
                        event=start.event,
                        start=start.on,
                    ),
                    said("not before %(start)s (%(event)s)", start=start.on, event=start.event),
                ),
            )
        )
    if (
        incubation_days is not None
        and incubation_on_record is not None
        and performed_on < incubation_on_record
    ):
        crossed.append(
            (
                incubation_on_record,
                DateRefusal(
                    said(
                        "%(test)s: the incubation on record started %(started)s; dating it"
                        " %(date)s would shorten the %(days)s-day incubation. Incubation counts"
                        " from inoculation: its start may move later, never earlier. If the"
                        " recorded start date is wrong, open a deviation or an investigation to"
                        " explain it.",
                        test=test,
                        started=incubation_on_record,
                        date=performed_on,
                        days=incubation_days,
                    ),
                    said(
                        "not before %(started)s (the incubation on record started then; a wrong"
                        " start date is explained in a deviation or investigation)",
                        started=incubation_on_record,
                    ),
                ),
            )
        )
    if crossed:
        # Name the highest floor, so that the date the person enters next is not refused again.
        return max(crossed, key=lambda floor: floor[0])[1]
    return None


def check_test_date(
    performed_on: dt.date,
    *,
    today: dt.date,
    start: Start,
    test: str = THE_TEST,
    incubation_days: int | None = None,
    incubation_on_record: dt.date | None = None,
) -> None:
    """Refuse a test date that cannot stand: ValidationFailed naming `performed_on`."""
    refusal = date_refusal(
        performed_on,
        today=today,
        start=start,
        test=test,
        incubation_days=incubation_days,
        incubation_on_record=incubation_on_record,
    )
    if refusal is not None:
        raise ValidationFailed(refusal.message, {"performed_on": refusal.field})
