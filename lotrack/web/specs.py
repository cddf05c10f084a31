"""Specification versions: every version with its status, one version's tests and limits, and
QA approval (after which the version never changes)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from lotrack.domain.errors import NotFound
from lotrack.domain.permissions import may
from lotrack.domain.record_signatures import SubjectKind, meanings_of
from lotrack.domain.specs import Kind
from lotrack.domain.text import N_, said
from lotrack.models import SpecVersion
from lotrack.request_scope import actor, db_session, lockout
from lotrack.schemas.record_signing import RecordSignIn, split_sign_in
from lotrack.services import audit, record_signature, specs
from lotrack.web.forms import NO_FORM, FormState, submit
from lotrack.web.guard import permission
from lotrack.web.result import MAX_ID

bp = Blueprint("specs", __name__)
# A version's status (services.specs.status) as the reader's language names it.
STATUSES = {
    "draft": _l("draft"),
    "withdrawn draft": _l("withdrawn draft"),
    "in effect": _l("in effect"),
    "superseded": _l("superseded"),
}


def spec_status(status: str) -> str:
    return str(STATUSES.get(status, status))


bp.context_processor(
    lambda: {"may": may, "numeric": (Kind.NUMERIC, Kind.PANEL), "spec_status": spec_status}
)


@bp.get("/specs")
@permission("manufacturing.read")
def list_specs() -> ResponseReturnValue:
    session = db_session()
    rows = [(v, specs.status(session, v)) for v in specs.list_versions(session)]
    return render_template("specs/list.html", rows=rows)


def _page(version: SpecVersion, form: FormState = NO_FORM) -> str:
    session = db_session()
    return render_template(
        "specs/show.html",
        version=version,
        status=specs.status(session, version),
        content=specs.content_of(version),
        history=audit.history(session, "spec_version", str(version.id)),
        form=form,
        meanings=meanings_of(SubjectKind.SPEC_VERSION),
        signatures=record_signature.signatures_of(session, version),
    )


def _version(version_id: int) -> SpecVersion:
    if not 0 < version_id <= MAX_ID:
        raise NotFound(
            said("No specification version %(id)s.", id=version_id),
            {"spec": N_("no such version")},
        )
    return specs.get_version(db_session(), version_id)


@bp.get("/specs/<int:version_id>")
@permission("manufacturing.read")
def show_spec(version_id: int) -> ResponseReturnValue:
    return _page(_version(version_id))


@bp.post("/specs/<int:version_id>/approve")
@permission("specs.approve")
def approve_spec(version_id: int) -> ResponseReturnValue:
    version = _version(version_id)

    def act(data: dict[str, Any]) -> ResponseReturnValue:
        sign, _rest = split_sign_in(data)
        specs.approve(db_session(), actor(), version, sign_in=sign, lockout=lockout())
        flash(_("%(label)s approved: records created from now on pin it.", label=version.label))
        return redirect(url_for(".show_spec", version_id=version.id))

    return submit("approve", RecordSignIn(), act, lambda form: _page(version, form))
