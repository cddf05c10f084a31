"""The QA decisions on records other than a lot that are signed (21 CFR 11.50): what each record
kind is, and the meaning a signature on each decision carries."""

from __future__ import annotations

from enum import StrEnum

from lotrack.domain.errors import ValidationFailed
from lotrack.domain.text import said


class SubjectKind(StrEnum):
    """The kind of record signed; the value is the record's table (its audit entity type)."""

    CELL_BANK = "cell_bank"
    SPEC_VERSION = "spec_version"
    DEVIATION = "deviation"
    INVESTIGATION = "investigation"
    MATERIAL_LOT = "material_lot"  # its incoming inspection
    EXCURSION_DECISION = "excursion_decision"  # QA's decision on a shipment's excursion


class RecordMeaning(StrEnum):
    """What a signature on a record means; shown wherever the signature is shown."""

    QUALIFIED = "qualified"
    NOT_QUALIFIED = "not qualified"
    APPROVED = "approved"
    CLOSED = "closed"
    CONCLUDED = "concluded"
    APPROVED_FOR_USE = "approved for use"
    REJECTED = "rejected"
    HOLD_LIFTED = "hold lifted"
    RELEASED_FOR_USE = "released for use"  # units held by a cold-chain excursion, released


# The one meaning each decision is signed with: by kind, then by the decision taken ("" when the
# kind has a single decision).
MEANINGS: dict[SubjectKind, dict[str, RecordMeaning]] = {
    SubjectKind.CELL_BANK: {
        "qualified": RecordMeaning.QUALIFIED,
        "not_qualified": RecordMeaning.NOT_QUALIFIED,
    },
    SubjectKind.SPEC_VERSION: {"": RecordMeaning.APPROVED},
    SubjectKind.DEVIATION: {"": RecordMeaning.CLOSED},
    SubjectKind.INVESTIGATION: {"": RecordMeaning.CONCLUDED},
    SubjectKind.MATERIAL_LOT: {
        "approved": RecordMeaning.APPROVED_FOR_USE,
        "rejected": RecordMeaning.REJECTED,
        "lift": RecordMeaning.HOLD_LIFTED,
    },
    SubjectKind.EXCURSION_DECISION: {
        "released": RecordMeaning.RELEASED_FOR_USE,
        "rejected": RecordMeaning.REJECTED,
    },
}


def meaning_of(kind: SubjectKind, decision: str = "") -> RecordMeaning:
    """The meaning a signature on `decision` about a record of `kind` must carry."""
    by_decision = MEANINGS[kind]
    return by_decision.get(decision) or by_decision[""]


def meanings_of(kind: SubjectKind) -> tuple[str, ...]:
    """Every meaning a signature on a record of `kind` may carry, as the form offers them."""
    return tuple(m.value for m in MEANINGS[kind].values())


def check_meaning(kind: SubjectKind, typed: str, decision: str = "") -> RecordMeaning:
    """The meaning typed must be the decision's own: a signature says what was decided."""
    expected = meaning_of(kind, decision)
    if (typed or "").strip() != expected.value:
        raise ValidationFailed(
            said(
                "The meaning of this signature must be '%(meaning)s'.",
                meaning=expected.value,  # the value to send: not translated
            ),
            {"meaning": said("must be '%(meaning)s'", meaning=expected.value)},
        )
    return expected
