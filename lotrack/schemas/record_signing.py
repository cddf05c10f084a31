"""Input schemas of the QA decisions on records that are signed (bank qualification, specification
approval, deviation closure, investigation conclusion): each the decision's own fields and the
signer's username, password, meaning and comment, shared by the HTML forms and the JSON API."""

from __future__ import annotations

from typing import Any

from lotrack.domain.record_signatures import RecordMeaning
from lotrack.schemas.base import InputSchema, OneOf, text_field
from lotrack.schemas.quality import ConclusionIn, QualifyIn
from lotrack.schemas.release import CloseIn
from lotrack.services import signature

SIGN_FIELDS = ("username", "password", "meaning", "reason")


class RecordSignIn(InputSchema):
    """The signer's credentials, re-entered at each signing (21 CFR 11.200), and the meaning. The
    password is kept exactly as typed, checked by the service and never shown back."""

    username = text_field(
        max=64, metadata={"description": "the signer's own username: a signature is yours"}
    )
    password = text_field(
        max=200, metadata={"description": "checked now; failures count to lockout"}
    )
    meaning = text_field(
        max=60,
        validate=OneOf([m.value for m in RecordMeaning]),
        metadata={
            "description": "the decision's meaning: 'qualified' or 'not qualified' (a bank),"
            " 'approved' (a specification), 'closed' (a deviation), 'concluded' (an"
            " investigation)"
        },
    )
    reason = text_field(
        max=2000, required=False, load_default="", metadata={"description": "a comment"}
    )

    verbatim_fields = ("password",)


class QualifySignedIn(QualifyIn, RecordSignIn):
    """A bank's qualification; its (required) reason is the signature's."""


class CloseSignedIn(CloseIn, RecordSignIn):
    """A deviation's closure."""


class ConclusionSignedIn(ConclusionIn, RecordSignIn):
    """An investigation's conclusion."""


def split_sign_in(data: dict[str, Any]) -> tuple[signature.SignIn, dict[str, Any]]:
    """What the signer typed, as the services take it, and the decision's own fields."""
    signed = signature.SignIn(
        data["username"], data["password"], data["meaning"], data.get("reason", "")
    )
    rest = {k: v for k, v in data.items() if k not in SIGN_FIELDS}
    return signed, rest
