"""Who may do what: one table an auditor can read. Site scoping is applied by the services."""

from __future__ import annotations

from enum import StrEnum

from lotrack.domain.errors import Forbidden
from lotrack.domain.text import Said, said


class Role(StrEnum):
    TECHNICIAN = "technician"
    QA = "qa"
    MEDICAL_DIRECTOR = "medical_director"
    CLINICAL = "clinical"
    ADMIN = "admin"


ROLES = tuple(Role)

# Granting these takes a second administrator's approval (DESIGN.md, Security): the two signing
# roles, and admin itself, since an admin could otherwise make a second admin to approve with.
NEEDS_SECOND_PERSON = frozenset({Role.QA, Role.MEDICAL_DIRECTOR, Role.ADMIN})


class GrantState(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REFUSED = "refused"


# action -> roles allowed. Admins manage accounts and read the record; they do not enter GMP data.
ALLOWED: dict[str, frozenset[Role]] = {
    "manufacturing.read": frozenset({Role.TECHNICIAN, Role.QA, Role.MEDICAL_DIRECTOR, Role.ADMIN}),
    "manufacturing.write": frozenset({Role.TECHNICIAN}),
    # Receiving material lots and keeping instrument records is bench work; approving a material
    # lot for use is QA's signed decision.
    "materials.write": frozenset({Role.TECHNICIAN}),
    "materials.inspect": frozenset({Role.QA}),
    "equipment.write": frozenset({Role.TECHNICIAN}),
    "donor.determine": frozenset({Role.QA}),
    "specs.approve": frozenset({Role.QA}),
    "results.write": frozenset({Role.TECHNICIAN}),
    "results.verify": frozenset({Role.TECHNICIAN, Role.QA}),
    "investigation.manage": frozenset({Role.QA}),
    "bank.qualify": frozenset({Role.QA}),
    "release.decide": frozenset({Role.QA}),
    "labels.print": frozenset({Role.TECHNICIAN, Role.QA}),
    "clinical.read": frozenset({Role.CLINICAL, Role.QA, Role.MEDICAL_DIRECTOR, Role.ADMIN}),
    "clinical.write": frozenset({Role.CLINICAL}),
    "allocation.write": frozenset({Role.TECHNICIAN, Role.QA}),
    "shipment.send": frozenset({Role.TECHNICIAN, Role.QA}),
    "shipment.read": frozenset(
        {Role.TECHNICIAN, Role.QA, Role.CLINICAL, Role.MEDICAL_DIRECTOR, Role.ADMIN}
    ),
    "shipment.receive": frozenset({Role.CLINICAL}),
    "bedside.scan": frozenset({Role.CLINICAL}),
    "adverse.write": frozenset({Role.CLINICAL, Role.MEDICAL_DIRECTOR}),
    # The site notifies the sponsor of a serious event; the sponsor (QA, the medical director)
    # sends the expedited report to the regulator. Either records what was sent.
    "adverse.report": frozenset({Role.CLINICAL, Role.QA, Role.MEDICAL_DIRECTOR}),
    "reports.read": frozenset({Role.CLINICAL, Role.QA, Role.MEDICAL_DIRECTOR, Role.ADMIN}),
    "exceptional.request": frozenset({Role.QA}),
    "exceptional.sign": frozenset({Role.QA, Role.MEDICAL_DIRECTOR}),
    # The treating physician: clinical staff of the patient's site (the service checks the site).
    "exceptional.accept": frozenset({Role.CLINICAL}),
    "deviation.write": frozenset({Role.TECHNICIAN, Role.QA}),
    "deviation.close": frozenset({Role.QA}),
    "audit.read": frozenset({Role.QA, Role.ADMIN}),
    "users.manage": frozenset({Role.ADMIN}),
    "site.read": frozenset({Role.CLINICAL, Role.QA, Role.ADMIN}),
    # Names every site's patients.
    "trace.read": frozenset({Role.QA, Role.MEDICAL_DIRECTOR, Role.ADMIN}),
}


def may(role: str | None, action: str) -> bool:
    return role is not None and role in ALLOWED[action]


def require(role: str | None, action: str) -> None:
    if not may(role, action):
        allowed = ", ".join(sorted(ALLOWED[action]))
        raise Forbidden(
            said(
                "Your role (%(role)s) may not do this; it needs: %(roles)s.",
                role=Said(str(role)) if role else said("none"),  # a coded word, translated
                roles=allowed,
            )
        )
