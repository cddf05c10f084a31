"""SQLAlchemy models; importing this package registers every table on Base.metadata."""

from lotrack.models.audit import AuditEvent, AuditHead
from lotrack.models.cellbank import CellBank, Vial, VialWithdrawal
from lotrack.models.document import Certificate, LabelPrint
from lotrack.models.donor import Clone, Donor, DonorScreening
from lotrack.models.lot import DinSequence, Lot, Unit
from lotrack.models.production import Passage, ProductionRun
from lotrack.models.release import (
    Containment,
    ContainmentLot,
    Deviation,
    ExceptionalRelease,
    Notification,
    Signature,
)
from lotrack.models.result import Attachment, Investigation, Result
from lotrack.models.spec import SpecVersion
from lotrack.models.user import ApiToken, Site, User

__all__ = [
    "ApiToken",
    "Attachment",
    "AuditEvent",
    "AuditHead",
    "CellBank",
    "Certificate",
    "Clone",
    "Containment",
    "ContainmentLot",
    "Deviation",
    "DinSequence",
    "Donor",
    "DonorScreening",
    "ExceptionalRelease",
    "Investigation",
    "LabelPrint",
    "Lot",
    "Notification",
    "Passage",
    "ProductionRun",
    "Result",
    "Signature",
    "Site",
    "SpecVersion",
    "Unit",
    "User",
    "Vial",
    "VialWithdrawal",
]
