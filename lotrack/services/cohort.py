"""The protocol's dose cohorts: a code and a dose level (cells/kg or a fixed number of cells),
named by each patient and prescription; recorded by the medical director."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from lotrack.domain import clinical as rules
from lotrack.domain.dose import DOSE_BASES
from lotrack.domain.errors import Conflict, ValidationFailed
from lotrack.domain.permissions import require
from lotrack.domain.text import N_, said
from lotrack.models import DoseCohort, User
from lotrack.services import audit
from lotrack.services.common import Page, page_of


def named(session: Session, code: str | None) -> DoseCohort | None:
    return session.scalar(select(DoseCohort).where(DoseCohort.code == (code or "").strip()))


def list_all(session: Session) -> list[DoseCohort]:
    return list(session.scalars(select(DoseCohort).order_by(DoseCohort.code)))


def choices(session: Session) -> str:
    codes = [c.code for c in list_all(session)]
    if not codes:
        return N_("no dose cohort is recorded yet")
    return said("one of %(choices)s", choices=", ".join(codes))


def add_cohort(
    session: Session, actor: User, *, code: str, dose_basis: str, amount: int
) -> DoseCohort:
    """A protocol dose cohort and its dose level: cells/kg, or a fixed number of cells."""
    require(actor.role, "cohorts.manage")
    code = (code or "").strip()
    fields: dict[str, str] = {}
    if not code or len(code) > 24:
        fields["code"] = N_("1 to 24 characters")
    if dose_basis not in DOSE_BASES:
        fields["dose_basis"] = said("one of %(choices)s", choices=", ".join(DOSE_BASES))
    if not 0 < amount <= rules.MAX_DOSE_PER_KG:
        fields["amount"] = said("from 1 to %(max)s", max=f"{rules.MAX_DOSE_PER_KG:,}")
    if fields:
        raise ValidationFailed(N_("The dose cohort cannot be recorded."), fields)
    if named(session, code) is not None:
        raise Conflict(
            said("Cohort %(code)s exists already.", code=code), {"code": N_("already used")}
        )
    cohort = DoseCohort(code=code, dose_basis=dose_basis, amount=amount, created_by_id=actor.id)
    audit.created(session, actor, cohort)
    return cohort


def page_of_cohorts(session: Session, page: int = 1, per_page: int = 50) -> Page[DoseCohort]:
    """A page of the protocol's dose cohorts, by code."""
    return page_of(session, select(DoseCohort).order_by(DoseCohort.code), page, per_page)
