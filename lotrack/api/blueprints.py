"""The list of API blueprints, in the order they appear in the OpenAPI document."""

from __future__ import annotations

from flask_smorest import Blueprint

from lotrack.api import (
    adverse,
    bedside,
    cellbank,
    clinical,
    containment,
    deviation,
    documents,
    donor,
    equipment,
    evaluation,
    investigation,
    lineage,
    lot,
    materials,
    notify,
    production,
    release,
    result,
    specs,
    trace,
    trend,
)

ALL: list[Blueprint] = [
    donor.bp,
    cellbank.bp,
    production.bp,
    materials.bp,
    equipment.bp,
    lot.bp,
    lineage.bp,
    specs.bp,
    evaluation.bp,
    result.bp,
    investigation.bp,
    trend.bp,
    release.bp,
    deviation.bp,
    containment.bp,
    documents.bp,
    clinical.bp,
    adverse.bp,
    bedside.bp,
    trace.bp,
    notify.bp,
]
