"""SQLAlchemy models; importing this package registers every table on Base.metadata."""

from lotrack.models.audit import AuditEvent, AuditHead
from lotrack.models.cellbank import CellBank, Vial, VialWithdrawal
from lotrack.models.clinical import (
    AdverseEvent,
    Allocation,
    BedsideScan,
    FollowUp,
    Infusion,
    Patient,
    Prescription,
    Shipment,
    ShipmentUnit,
    Thaw,
)
from lotrack.models.document import Certificate, LabelPrint
from lotrack.models.donor import Clone, Donor, DonorScreening
from lotrack.models.lot import DinSequence, Lot, NumberSequence, Unit
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
    "AdverseEvent",
    "Allocation",
    "ApiToken",
    "Attachment",
    "AuditEvent",
    "AuditHead",
    "BedsideScan",
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
    "FollowUp",
    "Infusion",
    "Investigation",
    "LabelPrint",
    "Lot",
    "Notification",
    "NumberSequence",
    "Passage",
    "Patient",
    "Prescription",
    "ProductionRun",
    "Result",
    "Shipment",
    "ShipmentUnit",
    "Signature",
    "Site",
    "SpecVersion",
    "Thaw",
    "Unit",
    "User",
    "Vial",
    "VialWithdrawal",
]
