"""Input schemas of the quality record (results, investigations, bank decisions), shared by the
HTML forms and the JSON API. Presence and type here; the services judge the values."""

from __future__ import annotations

from marshmallow import validate

from lotrack.domain.states import Qualification
from lotrack.schemas import InputSchema, _date, _text


class ResultIn(InputSchema):
    """`test` is the spec's test code, or for a panel the alternative measured (CD14, CD11b...)."""

    test = _text(max=40)
    value = _text(max=60)
    unit = _text(max=20, required=False, load_default="")
    performed_on = _date(
        "the test date; for an incubated test (sterility) the inoculation date, from which the"
        " incubation counts: not in the future (the facility's calendar), not before the lot's"
        " harvest, the bank's banking or the passage's seeding, and for a correction or a final"
        " reading never earlier than the incubation on record"
    )
    method = _text(max=200, required=False, load_default="")
    instrument = _text(max=120, required=False, load_default="")
    reagent_lot = _text(max=60, required=False, load_default="")


class CorrectionIn(ResultIn):
    """A replacement value and why the old one was wrong; the test defaults to the old one's."""

    test = _text(max=40, required=False, load_default=None)
    reason = _text(max=2000)


class ImportDefaultsIn(InputSchema):
    """Values for columns an instrument export leaves out."""

    performed_on = _text(max=10, required=False, load_default="")
    instrument = _text(max=120, required=False, load_default="")
    method = _text(max=200, required=False, load_default="")
    reagent_lot = _text(max=60, required=False, load_default="")


class FindingsIn(InputSchema):
    findings = _text(max=5000)


class ConclusionIn(InputSchema):
    conclusion = _text(validate=validate.OneOf(["confirmed_oos", "invalidated"]))
    findings = _text(max=5000)
    assignable_cause = _text(max=2000, required=False, load_default="")


class QualifyIn(InputSchema):
    decision = _text(
        validate=validate.OneOf([Qualification.QUALIFIED.value, Qualification.NOT_QUALIFIED.value])
    )
    reason = _text(max=2000)
