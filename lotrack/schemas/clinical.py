"""Input schemas of the clinic, shared by the HTML forms and the JSON API (issue 6): patients,
consent, the eligibility checklist, prescriptions, allocation, shipments, the bedside check, thaws,
infusions, adverse events and the one-month visit; and the photo of a label, decoded with zxing-cpp.

Times: the forms send the site's local wall-clock time (the edge names the zone); the API takes
ISO 8601 with its zone (`ZonedIn` subclasses). The services check values against the rules.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from decimal import Decimal
from typing import IO, Any

from marshmallow import Schema, fields, post_load

from lotrack.domain import clinical as rules
from lotrack.domain.bedside import WITNESSED
from lotrack.domain.dose import DOSE_BASES
from lotrack.domain.errors import ValidationFailed
from lotrack.domain.isbt128_structures import structure_of
from lotrack.domain.states import ScanMethod
from lotrack.domain.text import N_, said
from lotrack.schemas import adverse as adverse_io
from lotrack.schemas.base import (
    DECIMAL_MAX,
    INT32_MAX,
    INT64_MAX,
    REQUIRED,
    InputSchema,
    Length,
    OneOf,
    Range,
    WholeNumber,
    ZonedIn,
    at_most_places,
    date_field,
    decimal_field,
    local_time_field,
    no_nul,
    text_field,
    zoned_time_field,
)

METHODS = tuple(m.value for m in ScanMethod)
RESPONSES = tuple(r.value for r in rules.Response)
CHECKLIST = rules.INCLUSION + rules.EXCLUSION


def _din_list(description: str, required: bool = True) -> fields.List:
    optional: dict[str, Any] = {} if required else {"load_default": list}
    return fields.List(
        fields.String(validate=[Length(min=1, max=40), no_nul]),
        required=required,
        validate=Length(min=1 if required else 0, max=200),
        error_messages=REQUIRED,
        metadata={"description": description},
        **optional,
    )


def _whole(low: int, high: int, **kw: Any) -> WholeNumber:
    return WholeNumber(
        error_messages={**REQUIRED, "invalid": N_("a whole number")},
        validate=Range(min=low, max=high, error=said("from %(min)s to %(max)s", min=low, max=high)),
        **{"required": True, **kw},
    )


# ---- patients --------------------------------------------------------------------------------


class PatientIn(InputSchema):
    subject_code = text_field(max=32, metadata={"description": "site-scoped code, never a name"})
    weight_kg = decimal_field()
    indication = text_field(max=24, validate=OneOf(rules.INDICATIONS))
    cohort = text_field(
        max=24, metadata={"description": "the protocol dose cohort's code, e.g. 1e6/kg"}
    )
    age_band = text_field(
        max=8,
        validate=OneOf(rules.AGE_BANDS),
        metadata={"description": "age at enrolment (ICH E11 bands); never a date of birth"},
    )
    sex = text_field(max=8, validate=OneOf(rules.SEXES))


class ConsentIn(InputSchema):
    consent_date = date_field()


def _answer(text: str, inclusion: bool) -> fields.Boolean:
    kind = "inclusion" if inclusion else "exclusion"
    return fields.Boolean(
        required=False,
        error_messages={"invalid": N_("yes or no")},
        metadata={"description": f"{kind}: {text}"},
    )


# One field per checklist item (domain/clinical.py); an item left out stays unanswered.
EligibilityIn = InputSchema.from_dict(
    {key: _answer(text, True) for key, text in rules.INCLUSION}
    | {key: _answer(text, False) for key, text in rules.EXCLUSION},
    name="EligibilityIn",
)


class PrescriptionIn(InputSchema):
    cohort = text_field(
        max=24,
        required=False,
        load_default=None,
        metadata={"description": "the protocol dose cohort (default: the patient's)"},
    )
    dose_per_kg = _whole(
        1,
        INT64_MAX,
        required=False,
        load_default=None,
        metadata={"description": "cells per kg, e.g. 1000000: if given, the cohort's level"},
    )
    fixed_cells = _whole(
        1,
        INT64_MAX,
        required=False,
        load_default=None,
        metadata={"description": "a fixed dose in cells: if given, the cohort's level"},
    )
    planned_on = date_field()


class CohortIn(InputSchema):
    code = text_field(max=24)
    dose_basis = text_field(max=8, validate=OneOf(DOSE_BASES))
    amount = _whole(1, INT64_MAX, metadata={"description": "cells per kg, or cells if fixed"})


class AllocationIn(InputSchema):
    list_fields = ("units",)
    units = _din_list("the DINs to set aside for this prescription")


# ---- shipments -------------------------------------------------------------------------------


class ShipmentIn(InputSchema):
    list_fields = ("units",)
    site = text_field(max=20, metadata={"description": "the receiving site's code"})
    units = _din_list("the DINs shipped")


class ReceiveIn(InputSchema):
    list_fields = ("received",)
    received = _din_list("the DINs that arrived (anything else is a discrepancy)", False)
    condition = text_field(max=2000)
    temperature_record = text_field(max=2000)


# ---- bedside ---------------------------------------------------------------------------------


class CheckIn(InputSchema):
    patient = text_field(max=200, metadata={"description": "the wristband text as scanned"})
    scan = text_field(
        max=400,
        metadata={
            "description": "the label's QR text; or its Code 128 DIN (13 characters, optionally"
            ' after ISBT 128\'s "=" and before the two flag characters) read by a scanner, camera'
            " or photo; or a DIN typed with its check character (method typed)"
        },
    )
    method = text_field(
        required=False,
        load_default=None,
        validate=OneOf(METHODS),
        metadata={
            "description": "how the label was read: wedge (scanner), camera, photo or typed;"
            ' left out, a DIN without "=" is taken as typed (it needs its check character)'
        },
    )
    expiry = text_field(
        required=False,
        load_default="",
        max=200,
        metadata={
            "description": 'the label\'s expiry bar code (ISBT 128 data structure 005, "&>" then'
            " 10 digits) as scanned, to be compared with the unit's recorded expiry; a difference"
            " or an unreadable one is a NO-GO (codes expiry_mismatch, expiry_unreadable)"
        },
    )
    acknowledge_exceptional = fields.Boolean(
        load_default=False, error_messages={"invalid": N_("true or false")}
    )


class PhotoCheckIn(InputSchema):
    """The form fields beside the photo (multipart)."""

    patient = text_field(max=200)
    acknowledge_exceptional = fields.Boolean(
        load_default=False, error_messages={"invalid": N_("true or false")}
    )


class ThawIn(InputSchema):
    din = text_field(max=40, metadata={"description": "DIN, with or without its check character"})
    thawed_at = local_time_field()


class ZonedThawIn(ZonedIn, ThawIn):
    thawed_at = zoned_time_field()


class InfusionIn(InputSchema):
    scan_id = _whole(1, INT64_MAX, metadata={"description": "the GO bedside check"})
    witness = text_field(max=64, metadata={"description": "username of the second clinician"})
    witness_password = text_field(
        max=200,
        metadata={
            "description": "the witness's own password, re-entered now (21 CFR 11.200);"
            " a wrong one counts toward the witness's lockout"
        },
    )
    witness_meaning = text_field(
        max=40,
        validate=OneOf(
            [WITNESSED],
            error=said('the meaning of this signature is "%(meaning)s"', meaning=WITNESSED),
        ),
        metadata={"description": f'the meaning of the witness\'s signature: "{WITNESSED}"'},
    )
    started_at = local_time_field()
    stopped_at = local_time_field(required=False)
    volume_ml = fields.Decimal(
        required=True,
        as_string=True,
        validate=[
            Range(
                min=Decimal("0.1"),
                max=DECIMAL_MAX,
                error=said("from 0.1 to %(max)s", max=DECIMAL_MAX),
            ),
            at_most_places(2),
        ],
        error_messages={
            **REQUIRED,
            "invalid": N_("a number, e.g. 16.3"),
            "special": N_("a finite number"),
        },
        # The document states the bounds as numbers (apispec would print a Decimal as a string).
        metadata={
            "description": "mL given from the unit (what the bedside check says to draw)",
            "minimum": 0.1,
            "maximum": float(DECIMAL_MAX),
        },
    )
    premedication = text_field(max=2000, required=False, load_default="")
    vital_signs = text_field(max=2000, required=False, load_default="")
    immediate_reactions = text_field(max=2000, required=False, load_default="")

    verbatim_fields = ("witness_password",)


class ZonedInfusionIn(ZonedIn, InfusionIn):
    started_at = zoned_time_field()
    stopped_at = zoned_time_field(required=False)


# ---- adverse events and the one-month visit -------------------------------------------------


class AdverseEventIn(InputSchema):
    list_fields = ("seriousness",)
    term = text_field(max=120, metadata={"description": "a CTCAE v4.03 term"})
    grade = _whole(1, INT32_MAX, metadata={"description": "a grade CTCAE defines for the term"})
    onset_on = date_field()
    attribution = text_field(max=12, validate=OneOf(rules.ATTRIBUTIONS))
    seriousness = fields.List(
        fields.String(validate=OneOf(rules.SERIOUSNESS)),
        load_default=[],
        validate=Length(max=len(rules.SERIOUSNESS)),
        metadata={"description": "the regulatory criteria met; empty when not serious"},
    )
    outcome = text_field(max=24, validate=OneOf(rules.OUTCOMES))
    description = text_field(max=5000, required=False, load_default="")
    locals().update(adverse_io.FIRST_REPORT_FIELDS)

    @post_load
    def _measurement(self, data: dict[str, Any], **_kw: Any) -> dict[str, Any]:
        return adverse_io.to_measurement(data)


class PatientAdverseEventIn(AdverseEventIn):
    patient = text_field(max=64, metadata={"description": "the wristband, e.g. SZ-GIMI/SUBJ-001"})


class FollowUpIn(InputSchema):
    visit_on = date_field()
    response = text_field(max=12, validate=OneOf(RESPONSES))
    notes = text_field(max=5000, required=False, load_default="")


class ReportArgs(Schema):
    format = fields.String(load_default="json", validate=OneOf(["json", "csv"]))


# ---- the photographed label ------------------------------------------------------------------

NO_IMAGE = {"image": N_("a JPEG or PNG photo of the unit label")}
# A phone's label photo has 12 million pixels or fewer; more is refused before it is decoded, and
# what is read is brought down to READ_SIDE pixels a side, so one photo holds a bedside worker for
# a bounded time (a 9400 × 9400 image took 5 s each before; three at once stalled the bedside).
MAX_PHOTO_PIXELS = 50_000_000
READ_SIDE = 3000


@dataclass(frozen=True)
class PhotoRead:
    """What a photo of a label gave: the code that identifies the unit, and its expiry (005)."""

    scan: str  # "" when no code was found: the check then records a NO-GO
    expiry: str = ""


def read_photo(stream: IO[bytes]) -> PhotoRead:
    """The label's codes in a photo. A QR code with a verification URL wins over the DIN's bar
    code (001, which carries no signature); the expiry bar code (005), when read, is compared."""
    try:
        import zxingcpp
        from PIL import Image
    except ImportError as err:  # pragma: no cover - zxing-cpp is a dependency of the project
        raise ValidationFailed(
            N_("This server cannot read photos; scan or type the label."), NO_IMAGE
        ) from err
    try:
        with warnings.catch_warnings():
            # A decompression bomb is refused like any other unreadable upload.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(stream) as image:
                width, height = image.size
                if width * height > MAX_PHOTO_PIXELS:
                    raise ValidationFailed(
                        said(
                            "The photo has %(pixels)s million pixels; at most %(limit)s million"
                            " are read. Take it again at a lower resolution.",
                            pixels=f"{width * height / 1_000_000:.1f}",
                            limit=MAX_PHOTO_PIXELS // 1_000_000,
                        ),
                        NO_IMAGE,
                    )
                image.draft("L", (READ_SIDE, READ_SIDE))  # a JPEG is decoded at a smaller scale
                gray = image.convert("L")
                # A box reduction by a whole factor to READ_SIDE or less: a tenth of the time of
                # a Lanczos pass over 50 million pixels (which took 2 s), and as readable.
                factor = -(-max(gray.size) // READ_SIDE)
                if factor > 1:
                    gray = gray.reduce(factor)
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as err:
        raise ValidationFailed(N_("The upload is not a photo lotrack can read."), NO_IMAGE) from err
    except Image.DecompressionBombWarning as err:
        raise ValidationFailed(N_("The photo is too large to read."), NO_IMAGE) from err
    # Only the symbologies a label carries (its QR code and its Code 128 DIN): looking for every
    # other kind took four times as long on a busy 50-million-pixel photo.
    label_formats = (zxingcpp.BarcodeFormat.QRCode, zxingcpp.BarcodeFormat.Code128)
    codes = zxingcpp.read_barcodes(gray, formats=label_formats)
    qr = [c.text for c in codes if c.format == zxingcpp.BarcodeFormat.QRCode]
    bars = [c.text for c in codes if c.format == zxingcpp.BarcodeFormat.Code128 and c.text]
    kind = {t: structure_of(t) for t in bars}
    expiry = next((t for t in bars if kind[t] == "005"), "")
    # The DIN's 001 before anything else bar-coded: the product code names no unit.
    ordered = sorted(qr, key=lambda t: "/v/" not in t)
    ordered += sorted((t for t in bars if kind[t] != "005"), key=lambda t: kind[t] != "001")
    return PhotoRead(ordered[0] if ordered else "", expiry)
