"""What a QC result is recorded on (a lot, a bank, a passage) and the pinned specification test
that judges it, named in sentences a person reads."""

from __future__ import annotations

from lotrack.domain.errors import Conflict, ValidationFailed
from lotrack.domain.specs import SpecTest
from lotrack.domain.text import N_, said
from lotrack.models import CellBank, Lot, Passage
from lotrack.services import specs

Subject = Lot | CellBank | Passage


def subject_label(subject: Subject) -> str:
    if isinstance(subject, Lot):
        return said("lot %(lot)s", lot=subject.lot_number)
    if isinstance(subject, CellBank):
        return said("bank %(bank)s", bank=subject.code)
    return said("passage %(number)s of run %(run)s", number=subject.number, run=subject.run.code)


def pinned_version(subject: Subject):  # noqa: ANN201 (SpecVersion | None)
    if isinstance(subject, Passage):
        return subject.run.spec_version
    return subject.spec_version


def pinned_test(subject: Subject, code: str) -> tuple[object, SpecTest]:
    version = pinned_version(subject)
    if version is None:
        raise Conflict(unpinned(subject), {"test": N_("no specification pinned")})
    test = specs.content_of(version).test(code or "")
    if test is None:
        codes = ", ".join(t.code for t in specs.content_of(version).tests)
        raise ValidationFailed(
            said("%(test)s is not a test of %(spec)s.", test=code, spec=version.label),
            {"test": said("one of %(choices)s", choices=codes)},
        )
    return version, test


def unpinned(subject: Subject) -> str:
    """Why a subject's results cannot be judged: no specification pinned. (The sentence keeps
    what `str.capitalize` made of the subject's label: the rest of it in lower case.)"""
    if isinstance(subject, Lot):
        return said(
            "Lot %(lot)s has no specification pinned; results cannot be judged.",
            lot=subject.lot_number.lower(),
        )
    if isinstance(subject, CellBank):
        return said(
            "Bank %(bank)s has no specification pinned; results cannot be judged.",
            bank=subject.code.lower(),
        )
    return said(
        "Passage %(number)s of run %(run)s has no specification pinned; results cannot be judged.",
        number=subject.number,
        run=subject.run.code.lower(),
    )
