"""Grades CTCAE v4.03 defines by a measurement, proposed from the measurement.

Each rule restates the numbers of its term's grade texts (ctcae_v403_terms.json): a temperature,
a blood count against the lower limit of normal (LLN), or a laboratory value as a multiple of the
upper limit of normal (ULN). Only the measurable part is proposed: "life-threatening
consequences" (grade 4 anemia, say) is the investigator's judgement, who confirms or overrides
the proposal with a reason. Arithmetic is Decimal, as entered; never float.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from lotrack.domain.errors import ValidationFailed
from lotrack.domain.text import N_, Said, said


@dataclass(frozen=True)
class Rule:
    kind: str  # "fever", "below" (value < cut, LLN for grade 1) or "uln" (value / ULN > cut)
    unit: str
    cuts: tuple[tuple[int, Decimal], ...] = ()  # (grade, cut), worst first; grade 1's is LLN/ULN


def _d(text: str) -> Decimal:
    return Decimal(text)


def _below(unit: str, g2: str, g3: str, g4: str | None = None) -> Rule:
    cuts = ([(4, _d(g4))] if g4 else []) + [(3, _d(g3)), (2, _d(g2))]
    return Rule("below", unit, tuple(cuts))


def _uln(g2: str, g3: str, g4: str) -> Rule:
    return Rule("uln", "× ULN", ((4, _d(g4)), (3, _d(g3)), (2, _d(g2)), (1, Decimal(1))))


COUNT = "10^9/L"
RULES: dict[str, Rule] = {
    "Fever": Rule("fever", "°C"),
    "Neutrophil count decreased": _below(COUNT, "1.5", "1.0", "0.5"),
    "Platelet count decreased": _below(COUNT, "75", "50", "25"),
    "White blood cell decreased": _below(COUNT, "3.0", "2.0", "1.0"),
    "Lymphocyte count decreased": _below(COUNT, "0.8", "0.5", "0.2"),
    "Anemia": _below("g/dL", "10.0", "8.0"),  # grade 4 is "life-threatening": judged, not measured
    "Alanine aminotransferase increased": _uln("3.0", "5.0", "20.0"),
    "Aspartate aminotransferase increased": _uln("3.0", "5.0", "20.0"),
    "Alkaline phosphatase increased": _uln("2.5", "5.0", "20.0"),
    "GGT increased": _uln("2.5", "5.0", "20.0"),
    "Blood bilirubin increased": _uln("1.5", "3.0", "10.0"),
    "Creatinine increased": _uln("1.5", "3.0", "6.0"),
}


@dataclass(frozen=True)
class Measurement:
    value: str  # as entered
    reference: str = ""  # the laboratory's LLN or ULN, as entered, in the value's unit
    hours: str = ""  # how long a fever above 40.0 °C lasted


@dataclass(frozen=True)
class Proposal:
    grade: int | None  # None: the measurement meets no grade (not an adverse event by CTCAE)
    why: Said


def _number(text: str, field: str) -> Decimal:
    try:
        number = Decimal(str(text).strip())
    except InvalidOperation:
        number = Decimal("NaN")
    if not number.is_finite() or number < 0:
        raise ValidationFailed(
            N_("The measurement cannot be read."), {field: N_("a number, e.g. 38.6")}
        )
    return number


def _fever(m: Measurement) -> Proposal:
    t = _number(m.value, "measurement")
    if t < Decimal("38.0"):
        return Proposal(None, said("%(value)s °C is below 38.0 °C: not fever by CTCAE.", value=t))
    if t <= Decimal("39.0"):
        return Proposal(1, said("%(value)s °C is 38.0 - 39.0 °C: grade 1.", value=t))
    if t <= Decimal("40.0"):
        return Proposal(2, said("%(value)s °C is >39.0 - 40.0 °C: grade 2.", value=t))
    if not str(m.hours).strip():
        raise ValidationFailed(
            N_("Above 40.0 °C the grade depends on how long the fever lasted."),
            {"hours": N_("hours above 40.0 °C")},
        )
    hours = _number(m.hours, "hours")
    grade = 3 if hours <= 24 else 4
    return Proposal(
        grade,
        said(
            "%(value)s °C for %(hours)s h is >40.0 °C for %(span)s: grade %(grade)s.",
            value=t,
            hours=hours,
            span="<=24 h" if grade == 3 else ">24 h",
            grade=grade,
        ),
    )


def propose(term: str, m: Measurement) -> Proposal:
    """The grade `term`'s definition gives `m`; refuses a term graded otherwise, by field."""
    rule = RULES.get(term)
    if rule is None:
        raise ValidationFailed(
            said("CTCAE does not grade %(term)s by a measurement lotrack reads.", term=term),
            {"measurement": N_("not a measured term")},
        )
    if rule.kind == "fever":
        return _fever(m)
    value = _number(m.value, "measurement")
    if not str(m.reference).strip():
        name = N_("the laboratory's lower limit of normal (LLN)")
        if rule.kind == "uln":
            name = N_("the laboratory's upper limit of normal (ULN)")
        raise ValidationFailed(N_("The grade needs the normal limit."), {"reference": name})
    ref = _number(m.reference, "reference")
    if ref == 0:
        raise ValidationFailed(
            N_("A normal limit of 0 is not plausible."), {"reference": N_("above zero")}
        )
    if rule.kind == "uln":
        ratio = value / ref
        for grade, cut in rule.cuts:
            if ratio > cut:
                return Proposal(
                    grade,
                    said(
                        "%(value)s is %(ratio)s × ULN (%(uln)s), above %(cut)s × ULN: grade"
                        " %(grade)s.",
                        value=value,
                        ratio=f"{ratio:.2f}",
                        uln=ref,
                        cut=cut,
                        grade=grade,
                    ),
                )
        return Proposal(
            None, said("%(value)s is not above the ULN (%(uln)s).", value=value, uln=ref)
        )
    for grade, cut in rule.cuts:
        if value < cut:
            return Proposal(
                grade,
                said(
                    "%(value)s %(unit)s is below %(cut)s: grade %(grade)s.",
                    value=value,
                    unit=rule.unit,
                    cut=cut,
                    grade=grade,
                ),
            )
    if value < ref:
        return Proposal(
            1,
            said(
                "%(value)s %(unit)s is below the LLN (%(lln)s): grade 1.",
                value=value,
                unit=rule.unit,
                lln=ref,
            ),
        )
    return Proposal(
        None,
        said(
            "%(value)s %(unit)s is not below the LLN (%(lln)s).",
            value=value,
            unit=rule.unit,
            lln=ref,
        ),
    )
