"""Who may do what: one table an auditor can read. Site scoping is applied by the services."""

from __future__ import annotations

from enum import StrEnum

from lotrack.domain.errors import Forbidden
from lotrack.domain.text import Said, said


class Role(StrEnum):
    TECHNICIAN = "technician"
    QA = "qa"
    MEDICAL_DIRECTOR = "medical_director"
    CLINICAL = "clinical"  # nurses and other site staff: thaw, check, infuse, witness
    INVESTIGATOR = "investigator"  # a site's physician: prescribes, assesses, attributes
    ADMIN = "admin"


ROLES = tuple(Role)
# Bound to one site, seeing only its patients: nurses and the site's investigators.
SITE_ROLES = frozenset({Role.CLINICAL, Role.INVESTIGATOR})

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
    # Laying down a lot's or bank's retained samples is bench work; a sample is withdrawn by the
    # technician who retests it or by QA for an investigation.
    "retained.write": frozenset({Role.TECHNICIAN}),
    "retained.withdraw": frozenset({Role.TECHNICIAN, Role.QA}),
    "donor.determine": frozenset({Role.QA}),
    "specs.approve": frozenset({Role.QA}),
    "results.write": frozenset({Role.TECHNICIAN}),
    "results.verify": frozenset({Role.TECHNICIAN, Role.QA}),
    "investigation.manage": frozenset({Role.QA}),
    "bank.qualify": frozenset({Role.QA}),
    "release.decide": frozenset({Role.QA}),
    "labels.print": frozenset({Role.TECHNICIAN, Role.QA}),
    "clinical.read": frozenset(
        {Role.CLINICAL, Role.INVESTIGATOR, Role.QA, Role.MEDICAL_DIRECTOR, Role.ADMIN}
    ),
    # Registering a participant and recording the consent date: the site's staff.
    "clinical.write": frozenset({Role.CLINICAL, Role.INVESTIGATOR}),
    # Medical judgements are the site investigator's (a physician): the eligibility checklist,
    # the prescription, the one-month visit's response.
    "eligibility.assess": frozenset({Role.INVESTIGATOR}),
    "prescription.write": frozenset({Role.INVESTIGATOR}),
    "followup.write": frozenset({Role.INVESTIGATOR}),
    # The protocol's dose cohorts and their dose levels.
    "cohorts.manage": frozenset({Role.MEDICAL_DIRECTOR}),
    "allocation.write": frozenset({Role.TECHNICIAN, Role.QA}),
    "shipment.send": frozenset({Role.TECHNICIAN, Role.QA}),
    "shipment.read": frozenset(
        {
            Role.TECHNICIAN,
            Role.QA,
            Role.CLINICAL,
            Role.INVESTIGATOR,
            Role.MEDICAL_DIRECTOR,
            Role.ADMIN,
        }
    ),
    "shipment.receive": frozenset({Role.CLINICAL}),
    # A shipment's temperature excursion holds its units until QA decides, signed.
    "cold_chain.decide": frozenset({Role.QA}),
    # Nurses thaw, check, infuse and witness (services/infusion.py: the witness is a nurse too).
    "bedside.scan": frozenset({Role.CLINICAL}),
    # An adverse event is recorded with its attribution, the physician's judgement.
    "adverse.write": frozenset({Role.INVESTIGATOR, Role.MEDICAL_DIRECTOR}),
    # The site notifies the sponsor of a serious event; the sponsor (QA, the medical director)
    # sends the expedited report to the regulator. Either records what was sent.
    "adverse.report": frozenset({Role.INVESTIGATOR, Role.CLINICAL, Role.QA, Role.MEDICAL_DIRECTOR}),
    "reports.read": frozenset(
        {Role.CLINICAL, Role.INVESTIGATOR, Role.QA, Role.MEDICAL_DIRECTOR, Role.ADMIN}
    ),
    # The sponsor export of the trial's records (services/sdtm.py): the sponsor's side (QA, the
    # medical director) for every site; a site's investigator for the site's own subjects.
    "export.sdtm": frozenset({Role.QA, Role.MEDICAL_DIRECTOR, Role.INVESTIGATOR}),
    "exceptional.request": frozenset({Role.QA}),
    "exceptional.sign": frozenset({Role.QA, Role.MEDICAL_DIRECTOR}),
    # The treating physician: clinical staff of the patient's site (the service checks the site).
    "exceptional.accept": frozenset({Role.CLINICAL}),
    "deviation.write": frozenset({Role.TECHNICIAN, Role.QA}),
    "deviation.close": frozenset({Role.QA}),
    "audit.read": frozenset({Role.QA, Role.ADMIN}),
    "users.manage": frozenset({Role.ADMIN}),
    # Every e-mail notice and its delivery (services/mail_log.py); anyone else sees their own.
    "notify.read": frozenset({Role.QA, Role.MEDICAL_DIRECTOR, Role.ADMIN}),
    "notify.own": frozenset(Role),
    # The work waiting on one's own role (services/worklist.py); each list is scoped by role.
    "worklist.read": frozenset(Role),
    "site.read": frozenset({Role.CLINICAL, Role.INVESTIGATOR, Role.QA, Role.ADMIN}),
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
