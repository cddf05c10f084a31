"""Many results of one lot at once: verified in one confirmation, or entered from one grid.

Both are all or nothing. Each result still goes through the single-result rule
(`result.verify_refusal`/`verify_result`, `result.record_result`), so each verification is its own
audited event by its own verifier (verifications are not e-signed in lotrack: the audit event is
their record) and each entry is judged and dated as a single entry would be. Every refusal is
gathered before anything is written, and names each result or test it concerns.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from lotrack.domain.errors import DomainError, Forbidden, ValidationFailed
from lotrack.domain.permissions import require
from lotrack.domain.text import N_, said
from lotrack.models import Lot, Result, User
from lotrack.services import audit, specs
from lotrack.services.common import in_turn, part
from lotrack.services.result import record_result, verify_refusal, verify_result

MAX_BATCH = 500  # more than any specification has tests, times corrections


def _ids(result_ids: list[int]) -> list[int]:
    """The ids chosen, each once, in the order given; refuses an empty or oversized choice."""
    ids = list(dict.fromkeys(result_ids))
    if not ids:
        raise ValidationFailed(
            N_("Choose at least one result to verify; nothing was verified."),
            {"results": N_("required")},
        )
    if len(ids) > MAX_BATCH:
        raise ValidationFailed(
            said("At most %(max)s results at once; nothing was verified.", max=MAX_BATCH),
            {"results": said("at most %(max)s", max=MAX_BATCH)},
        )
    return ids


def verify_results(session: Session, actor: User, lot: Lot, result_ids: list[int]) -> list[Result]:
    """Verify the chosen results of `lot` as the second person, every one or none.

    A choice holding one's own result is refused as a whole (Forbidden naming each own result);
    any other refusal (not this lot's, pending, invalidated, verified already) as a whole too."""
    require(actor.role, "results.verify")
    ids = _ids(result_ids)
    found = {r.id: r for r in session.scalars(select(Result).where(Result.id.in_(ids)))}
    foreign = [i for i in ids if i not in found or found[i].lot_id != lot.id]
    if foreign:
        raise ValidationFailed(
            said(
                "Results %(ids)s are not results of lot %(lot)s; nothing was verified.",
                ids=", ".join(f"#{i}" for i in foreign),
                lot=lot.lot_number,
            ),
            {"results": said("not of lot %(lot)s", lot=lot.lot_number)},
        )
    chosen = [found[i] for i in ids]
    own = [r for r in chosen if r.analyst_id == actor.id]
    if own:
        raise Forbidden(
            said(
                "You entered %(results)s; a second person must verify them. Nothing was verified.",
                results=", ".join(f"#{r.id} {r.analyte}" for r in own),
            ),
            {f"result {r.id}": N_("must not be the analyst") for r in own},
        )
    refused = {r.id: verify_refusal(actor, r) for r in chosen}
    problems = {f"result {i}": part(err.message) for i, err in refused.items() if err}
    if problems:
        raise ValidationFailed(
            said(
                "%(bad)s of %(chosen)s results cannot be verified; nothing was verified.",
                bad=len(problems),
                chosen=len(chosen),
            ),
            problems,
        )
    return [verify_result(session, actor, r) for r in chosen]


@dataclass(frozen=True)
class GridRow:
    """One row of the grid: the test (or the panel's alternative) and what was entered."""

    test: str
    value: str
    unit: str = ""
    performed_on: dt.date | None = None
    instrument: str = ""


@dataclass(frozen=True)
class GridDefaults:
    """What every row shares unless the row says otherwise."""

    performed_on: dt.date | None = None
    method: str = ""
    instrument: str = ""
    reagent_lot: str = ""
    material_lots: list[str] = field(default_factory=list)


def record_grid(
    session: Session, actor: User, lot: Lot, rows: list[GridRow], defaults: GridDefaults
) -> list[Result]:
    """Record every filled row of the grid, or none: each refusal is keyed `TEST.field`."""
    require(actor.role, "results.write")
    filled = [r for r in rows if (r.value or "").strip()]
    if not filled:
        raise ValidationFailed(
            N_("Enter at least one value; nothing was recorded."), {"grid": N_("no value entered")}
        )
    done: list[Result] = []
    bad: dict[str, str] = {}
    content = specs.content_of(lot.spec_version) if lot.spec_version is not None else None
    for row in filled:
        # Refusals are keyed by the specification's test code (a panel's row names its analyte).
        found = content.test(row.test) if content is not None else None
        key = found.code if found is not None else row.test
        performed_on = row.performed_on or defaults.performed_on
        if performed_on is None:
            bad[f"{key}.performed_on"] = N_("required")
            continue
        try:
            done.append(
                record_result(
                    session,
                    actor,
                    lot,
                    test=row.test,
                    value=row.value,
                    unit=row.unit,
                    performed_on=performed_on,
                    method=defaults.method,
                    instrument=row.instrument or defaults.instrument,
                    reagent_lot=defaults.reagent_lot,
                    material_lots=defaults.material_lots,
                )
            )
            session.flush()
        except DomainError as err:
            reasons = err.fields or {"value": err.message}
            for name, reason in reasons.items():
                bad[f"{key}.{'test' if name == 'analyte' else name}"] = part(reason)
    if bad:
        # The edge rolls back whatever the good rows wrote: nothing of the grid stays.
        raise ValidationFailed(
            said(
                "%(bad)s of %(rows)s entries are refused (%(tests)s); nothing was recorded.",
                bad=len({k.split(".")[0] for k in bad}),
                rows=len(filled),
                tests=in_turn(dict.fromkeys(k.split(".")[0] for k in bad)),
            ),
            bad,
        )
    audit.event(
        session,
        actor,
        "results_entered_in_grid",
        lot,
        {"rows": len(done), "results": [r.id for r in done]},
    )
    return done
