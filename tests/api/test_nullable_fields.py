"""Every response field that can be null says so in the OpenAPI document: derived from the
models, a field read from a nullable column, or named after a many-to-one relationship that may
be absent, is `nullable: true` (a generated client otherwise crashes on the first null)."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterator
from typing import Any

from marshmallow import Schema
from sqlalchemy.orm import Mapper, RelationshipDirection

import lotrack.api
from lotrack.db import Base

# Response schemas whose names do not spell their model's (ResultOut reads a Result, etc.).
MODEL_OF = {
    "Bank": "CellBank",
    "Run": "ProductionRun",
    "TraceRun": "ProductionRun",
    "TracePassage": "Passage",
    "Screening": "DonorScreening",
    "Withdrawal": "VialWithdrawal",
    "ShipmentItem": "ShipmentUnit",
    "Exceptional": "ExceptionalRelease",
    "HeldLot": "Lot",
}
# Fields read from a nullable column that the API never answers null, and why.
NEVER_NULL = {
    ("InvestigationDetail", "siblings_reviewed"): "the API answers [] when none was reviewed",
}
SUFFIXES = ("Out", "Detail", "Row", "Ref")


def response_schemas() -> Iterator[type[Schema]]:
    seen: set[type[Schema]] = set()
    for info in pkgutil.iter_modules(lotrack.api.__path__):
        module = importlib.import_module(f"lotrack.api.{info.name}")
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, Schema)
                and value.__name__.endswith(SUFFIXES)
                and value not in seen
            ):
                seen.add(value)
                yield value


def model_of(schema: type[Schema]) -> Mapper[Any] | None:
    mappers = {m.class_.__name__: m for m in Base.registry.mappers}
    stem = schema.__name__
    for suffix in SUFFIXES:
        stem = stem.removesuffix(suffix)
    return mappers.get(MODEL_OF.get(stem, stem))


def may_be_null(mapper: Mapper[Any], source: str) -> bool:
    """A nullable column, or a many-to-one relationship whose every key column is nullable."""
    column = mapper.columns.get(source)
    if column is not None:
        return bool(column.nullable)
    rel = mapper.relationships.get(source)
    return (
        rel is not None
        and rel.direction is RelationshipDirection.MANYTOONE
        and all(c.nullable for c in rel.local_columns)
    )


def nullable_fields() -> Iterator[tuple[str, str]]:
    """(schema, property) of every response field the models say may be null."""
    for schema in response_schemas():
        mapper = model_of(schema)
        if mapper is None:
            continue
        for name, field in schema._declared_fields.items():
            source = (field.attribute or name).split(".")[0]
            if may_be_null(mapper, source) and (schema.__name__, name) not in NEVER_NULL:
                yield schema.__name__, field.data_key or name


def says_nullable(prop: dict[str, Any]) -> bool:
    """`nullable: true`, or (a nested schema that may be null) an anyOf with a nullable branch."""
    branches = prop.get("anyOf", []) + prop.get("oneOf", [])
    return prop.get("nullable") is True or any(says_nullable(b) for b in branches)


def test_every_field_the_models_let_be_null_is_nullable_in_the_document(client) -> None:
    components = client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]
    checked = [(s, p) for s, p in nullable_fields() if s in components]
    assert len(checked) >= 40  # the derivation still finds the fields (names did not drift)
    missing = [f"{s}.{p}" for s, p in checked if not says_nullable(components[s]["properties"][p])]
    assert not missing, f"nullable in the models, not in the OpenAPI document: {missing}"


def test_the_derivation_maps_the_main_schemas_to_their_models() -> None:
    mapped = {s.__name__: model_of(s) for s in response_schemas()}
    for schema, model in (("LotOut", "Lot"), ("BankOut", "CellBank"), ("InfusionOut", "Infusion")):
        assert mapped[schema] is not None and mapped[schema].class_.__name__ == model
