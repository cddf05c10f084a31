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
from lotrack.models import Clone, Donor, DonorScreening, User
from lotrack.services import audit, lookback
from lotrack.services.common import Page, check_code, norm, page_of


def get_donor(session: Session, code: str) -> Donor:
    donor = session.scalar(
        select(Donor)
        .where(Donor.code == norm(code))
        .options(selectinload(Donor.screening), selectinload(Donor.clones))
    )
    if donor is None:
        raise NotFound(f"No donor with code {code}.", {"donor": f"no donor with code {code}"})
    return donor


def list_donors(session: Session, page: int = 1, per_page: int = 50) -> Page[Donor]:
    return page_of(session, select(Donor).order_by(Donor.code), page, per_page)


def register_donor(session: Session, actor: User, *, code: str, consent_date: dt.date) -> Donor:
    """A donor is known by a code only: no name or record number is ever stored."""
    require(actor.role, "manufacturing.write")
    code = check_code(code, "code")
    if consent_date > utcnow().date():
        raise ValidationFailed(
            "The consent date is in the future.", {"consent_date": "cannot be in the future"}
        )
    if session.scalar(select(func.count()).where(Donor.code == code)):
        raise Conflict(f"A donor with code {code} exists already.", {"code": "already used"})
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
        fields["marker"] = f"one of {', '.join(rules.MARKERS)}"
    if result not in rules.RESULTS:
        fields["result"] = f"one of {', '.join(rules.RESULTS)}"
    if not (method or "").strip():
        fields["method"] = "required (e.g. chemiluminescent immunoassay, NAT)"
    if tested_on > utcnow().date():
        fields["tested_on"] = "cannot be in the future"
    if fields:
        raise ValidationFailed("The screening result cannot be recorded.", fields)
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
        fields["determination"] = "one of eligible, ineligible, incomplete"
    if not (responsible_person or "").strip():
        fields["responsible_person"] = "the name of the person who made the determination"
    if fields:
        raise ValidationFailed("The determination cannot be recorded.", fields)
    if determination == Determination.ELIGIBLE:
        problems = rules.eligibility_problems(
            rules.ScreeningResult(s.marker, s.method, s.result) for s in donor.screening
        )
        if problems:
            raise ValidationFailed(
                "The donor cannot be determined eligible: " + "; ".join(problems) + ".",
                {"determination": "; ".join(problems)},
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
        raise NotFound(f"No clone with code {code}.", {"clone": f"no clone with code {code}"})
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
            f"No donor with code {donor_code}.", {"donor": f"no donor with code {donor_code}"}
        )
    if derived_on < donor.consent_date:
        raise ValidationFailed(
            "A clone cannot be derived before the donor's consent.",
            {"derived_on": f"before the donor's consent date {donor.consent_date}"},
        )
    if session.scalar(select(func.count()).where(Clone.code == code)):
        raise Conflict(f"A clone with code {code} exists already.", {"code": "already used"})
    clone = Clone(code=code, donor=donor, derived_on=derived_on)
    audit.created(session, actor, clone)
    return clone
