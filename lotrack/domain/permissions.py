"""Who may do what: one table an auditor can read. Site scoping is applied by the services."""

from __future__ import annotations

from lotrack.domain.errors import Forbidden

# action -> roles allowed. Admins manage accounts and read the record; they do not enter GMP data.
ALLOWED: dict[str, frozenset[str]] = {
    "manufacturing.read": frozenset({"technician", "qa", "medical_director", "admin"}),
    "manufacturing.write": frozenset({"technician"}),
    "donor.determine": frozenset({"qa"}),
    "specs.approve": frozenset({"qa"}),
    "results.write": frozenset({"technician"}),
    "results.verify": frozenset({"technician", "qa"}),
    "investigation.manage": frozenset({"qa"}),
    "bank.qualify": frozenset({"qa"}),
    "release.decide": frozenset({"qa"}),
    "labels.print": frozenset({"technician", "qa"}),
    "clinical.read": frozenset({"clinical", "qa", "medical_director", "admin"}),
    "clinical.write": frozenset({"clinical"}),
    "allocation.write": frozenset({"technician", "qa"}),
    "shipment.send": frozenset({"technician", "qa"}),
    "shipment.read": frozenset({"technician", "qa", "clinical", "medical_director", "admin"}),
    "shipment.receive": frozenset({"clinical"}),
    "bedside.scan": frozenset({"clinical"}),
    "adverse.write": frozenset({"clinical", "medical_director"}),
    "reports.read": frozenset({"clinical", "qa", "medical_director", "admin"}),
    "exceptional.request": frozenset({"qa"}),
    "exceptional.sign": frozenset({"qa", "medical_director"}),
    # The treating physician: clinical staff of the patient's site (the service checks the site).
    "exceptional.accept": frozenset({"clinical"}),
    "deviation.write": frozenset({"technician", "qa"}),
    "deviation.close": frozenset({"qa"}),
    "audit.read": frozenset({"qa", "admin"}),
    "users.manage": frozenset({"admin"}),
    "site.read": frozenset({"clinical", "qa", "admin"}),
    "trace.read": frozenset({"qa", "medical_director", "admin"}),  # names every site's patients
}


def may(role: str | None, action: str) -> bool:
    return role is not None and role in ALLOWED[action]


def require(role: str | None, action: str) -> None:
    if not may(role, action):
        allowed = ", ".join(sorted(ALLOWED[action]))
        raise Forbidden(f"Your role ({role or 'none'}) may not do this; it needs: {allowed}.")
