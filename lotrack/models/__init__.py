"""SQLAlchemy models, one concept per module; importing this package registers every table on
Base.metadata."""

from lotrack.models.adverse_event import AdverseEvent, AdverseEventReport, AdverseEventUpdate
from lotrack.models.attachment import Attachment
from lotrack.models.audit import AuditCheckpoint, AuditEvent, AuditHead
from lotrack.models.bedside import BedsideScan
from lotrack.models.cellbank import CellBank, Vial, VialWithdrawal
from lotrack.models.cold_chain import ColdChainLog, ExcursionDecision
from lotrack.models.containment import Containment, ContainmentLot
from lotrack.models.deviation import Deviation
from lotrack.models.document import Certificate, LabelPrint
from lotrack.models.donor import Clone, Donor, DonorScreening
from lotrack.models.enrolment import Enrolment, RoleGrant
from lotrack.models.equipment import EquipmentEvent, Instrument
from lotrack.models.exceptional import ExceptionalRelease
from lotrack.models.follow_up import FollowUp
from lotrack.models.infusion import Infusion, Thaw
from lotrack.models.investigation import Investigation
from lotrack.models.lockout import KnownAddress, LoginThrottle
from lotrack.models.lot import Lot
from lotrack.models.mail import MailOutbox
from lotrack.models.material import Material, MaterialLot, MaterialUse
from lotrack.models.notification import Notification
from lotrack.models.numbering import NumberSequence
from lotrack.models.patient import Patient
from lotrack.models.prescription import Allocation, DoseCohort, Prescription
from lotrack.models.production import Passage, ProductionRun
from lotrack.models.record_signature import RecordSignature
from lotrack.models.result import Result
from lotrack.models.retained import RetainedSample, RetainedSampleWithdrawal
from lotrack.models.shipment import Shipment, ShipmentUnit
from lotrack.models.signature import Signature
from lotrack.models.spec import SpecVersion
from lotrack.models.unit import DinSequence, Unit
from lotrack.models.user import ApiToken, Site, User

__all__ = [
    "AdverseEvent",
    "AdverseEventReport",
    "AdverseEventUpdate",
    "Allocation",
    "ApiToken",
    "Attachment",
    "AuditCheckpoint",
    "AuditEvent",
    "AuditHead",
    "BedsideScan",
    "CellBank",
    "Certificate",
    "Clone",
    "ColdChainLog",
    "Containment",
    "ContainmentLot",
    "Deviation",
    "DinSequence",
    "Donor",
    "DonorScreening",
    "DoseCohort",
    "Enrolment",
    "EquipmentEvent",
    "ExceptionalRelease",
    "ExcursionDecision",
    "FollowUp",
    "Infusion",
    "Instrument",
    "Investigation",
    "KnownAddress",
    "LabelPrint",
    "LoginThrottle",
    "Lot",
    "MailOutbox",
    "Material",
    "MaterialLot",
    "MaterialUse",
    "Notification",
    "NumberSequence",
    "Passage",
    "Patient",
    "Prescription",
    "ProductionRun",
    "RecordSignature",
    "Result",
    "RetainedSample",
    "RetainedSampleWithdrawal",
    "RoleGrant",
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
