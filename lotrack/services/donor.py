"""Donors, their screening results and eligibility determination, and clones."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload, selectinload

from lotrack.db import utcnow
from lotrack.domain import donor as rules
from lotrack.domain.errors import Conflict, NotFound, ValidationFailed
from lotrack.domain.permissions import require
from lotrack.domain.states import Determination
from lotrack.domain.text import N_, said
from lotrack.models import Clone, Donor, DonorScreening, User
from lotrack.services import audit, lookback
from lotrack.services.common import Page, check_code, in_turn, norm, page_of


def get_donor(session: Session, code: str) -> Donor:
    donor = session.scalar(
        select(Donor)
        .where(Donor.code == norm(code))
        .options(selectinload(Donor.screening), selectinload(Donor.clones))
    )
    if donor is None:
        raise NotFound(
            said("No donor with code %(code)s.", code=code),
            {"donor": said("no donor with code %(code)s", code=code)},
        )
    return donor


def list_donors(session: Session, page: int = 1, per_page: int = 50) -> Page[Donor]:
    return page_of(session, select(Donor).order_by(Donor.code), page, per_page)


def register_donor(session: Session, actor: User, *, code: str, consent_date: dt.date) -> Donor:
    """A donor is known by a code only: no name or record number is ever stored."""
    require(actor.role, "manufacturing.write")
    code = check_code(code, "code")
    if consent_date > utcnow().date():
        raise ValidationFailed(
            N_("The consent date is in the future."),
            {"consent_date": N_("cannot be in the future")},
        )
    if session.scalar(select(func.count()).where(Donor.code == code)):
        raise Conflict(
            said("A donor with code %(code)s exists already.", code=code),
            {"code": N_("already used")},
        )
    donor = Donor(code=code, consent_date=consent_date, determination=Determination.INCOMPLETE)
    audit.created(session, actor, donor)
    return donor


def record_screening(
    session: Session,
    actor: User,
    donor: Donor,
    *,
    marker: str,
    method: str,
    result: str,
    tested_on: dt.date,
) -> DonorScreening:
    require(actor.role, "manufacturing.write")
    fields: dict[str, str] = {}
    if marker not in rules.MARKERS:
        fields["marker"] = said("one of %(choices)s", choices=", ".join(rules.MARKERS))
    if result not in rules.RESULTS:
        fields["result"] = said("one of %(choices)s", choices=", ".join(rules.RESULTS))
    if not (method or "").strip():
        fields["method"] = N_("required (e.g. chemiluminescent immunoassay, NAT)")
    if tested_on > utcnow().date():
        fields["tested_on"] = N_("cannot be in the future")
    if fields:
        raise ValidationFailed(N_("The screening result cannot be recorded."), fields)
    row = DonorScreening(
        donor=donor, marker=marker, method=method.strip(), result=result, tested_on=tested_on
    )
    audit.created(session, actor, row)
    return row


def determine_eligibility(
    session: Session,
    actor: User,
    donor: Donor,
    *,
    determination: str,
    responsible_person: str,
    reason: str,
) -> Donor:
    """Record the responsible person's determination; 'eligible' needs complete, clear screening."""
    require(actor.role, "donor.determine")
    fields: dict[str, str] = {}
    if determination not in {d.value for d in Determination}:
        fields["determination"] = N_("one of eligible, ineligible, incomplete")
    if not (responsible_person or "").strip():
        fields["responsible_person"] = N_("the name of the person who made the determination")
    if fields:
        raise ValidationFailed(N_("The determination cannot be recorded."), fields)
    if determination == Determination.ELIGIBLE:
        problems = rules.eligibility_problems(
            rules.ScreeningResult(s.marker, s.method, s.result) for s in donor.screening
        )
        if problems:
            raise ValidationFailed(
                said(
                    "The donor cannot be determined eligible: %(problems)s.",
                    problems=in_turn(problems),
                ),
                {"determination": in_turn(problems)},
            )
    audit.changed(
        session,
        actor,
        donor,
        {
            "determination": determination,
            "determined_by": responsible_person.strip(),
            "determined_at": utcnow(),
        },
        reason,
    )
    lookback.reassess(
        session,
        actor,
        lookback.lots_of_donor(session, donor),
        cause=f"Donor {donor.code} determined {determination}",
        trigger=donor,
    )
    return donor


def get_clone(session: Session, code: str) -> Clone:
    clone = session.scalar(select(Clone).where(Clone.code == norm(code)))
    if clone is None:
        raise NotFound(
            said("No clone with code %(code)s.", code=code),
            {"clone": said("no clone with code %(code)s", code=code)},
        )
    return clone


def list_clones(session: Session, page: int = 1, per_page: int = 50) -> Page[Clone]:
    stmt = select(Clone).options(joinedload(Clone.donor)).order_by(Clone.code)
    return page_of(session, stmt, page, per_page)


def register_clone(
    session: Session, actor: User, *, code: str, donor_code: str, derived_on: dt.date
) -> Clone:
    require(actor.role, "manufacturing.write")
    code = check_code(code, "code")
    donor = session.scalar(select(Donor).where(Donor.code == norm(donor_code)))
    if donor is None:
        raise ValidationFailed(
            said("No donor with code %(code)s.", code=donor_code),
            {"donor": said("no donor with code %(code)s", code=donor_code)},
        )
    if derived_on < donor.consent_date:
        raise ValidationFailed(
            N_("A clone cannot be derived before the donor's consent."),
            {
                "derived_on": said(
                    "before the donor's consent date %(date)s", date=donor.consent_date
                )
            },
        )
    if session.scalar(select(func.count()).where(Clone.code == code)):
        raise Conflict(
            said("A clone with code %(code)s exists already.", code=code),
            {"code": N_("already used")},
        )
    clone = Clone(code=code, donor=donor, derived_on=derived_on)
    audit.created(session, actor, clone)
    return clone
