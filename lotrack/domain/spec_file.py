"""Reading a specification TOML file into `SpecContent`, refusing anything ambiguous.

Every problem names the file, the test and the field, and the whole file is refused: a half-read
specification is worse than none. Limits are written as strings ("95.0") or integers, never as
TOML floats, which are binary and would not compare exactly.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from decimal import Decimal, InvalidOperation
from typing import Any

from lotrack.domain.errors import ValidationFailed
from lotrack.domain.specs import Bound, Interval, Kind, SpecContent, SpecTest, Stage
from lotrack.domain.text import N_, Said, said

TEST_KEYS = frozenset(
    {
        "code",
        "name",
        "method",
        "unit",
        "kind",
        "decimals",
        "lower",
        "lower_inclusive",
        "upper",
        "upper_inclusive",
        "alert_lower",
        "alert_upper",
        "accepted",
        "rejected",
        "alternatives",
        "incubation_days",
        "required",
        "source",
    }
)
TOP_KEYS = frozenset({"product", "stage", "title", "limits", "tests"})
MAX_DECIMALS = 6


class _Problems:
    def __init__(self, where: str) -> None:
        self.where = where
        self.fields: dict[str, str] = {}

    def add(self, key: str, reason: str) -> None:
        self.fields.setdefault(key, reason)

    def raise_any(self) -> None:
        if self.fields:
            raise ValidationFailed(
                said("%(file)s: the specification cannot be read.", file=self.where), self.fields
            )


def _limit(raw: Any, key: str, problems: _Problems) -> Decimal | None:
    if raw is None:
        return None
    if isinstance(raw, bool) or not isinstance(raw, (str, int)):
        problems.add(
            key, N_('write the limit as a string such as "95.0" (TOML floats are inexact)')
        )
        return None
    try:
        value = Decimal(str(raw).strip())
    except InvalidOperation:
        problems.add(key, said("'%(value)s' is not a number", value=raw))
        return None
    if not value.is_finite():
        problems.add(key, N_("must be a finite number"))
        return None
    return value


def _strings(raw: Any, key: str, problems: _Problems) -> tuple[str, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list) or not all(isinstance(x, str) and x.strip() for x in raw):
        problems.add(key, N_("a list of non-empty strings"))
        return ()
    return tuple(x.strip() for x in raw)


def _test(raw: dict[str, Any], index: int, problems: _Problems) -> SpecTest | None:
    code = str(raw.get("code", "")).strip()
    at = f"tests[{index}]" + (f" {code}" if code else "")
    for key in sorted(set(raw) - TEST_KEYS):
        problems.add(f"{at}.{key}", N_("unknown key"))
    for key in ("code", "name", "method", "source"):
        if not isinstance(raw.get(key), str) or not raw[key].strip():
            problems.add(f"{at}.{key}", N_("required text"))
    try:
        kind = Kind(raw.get("kind", ""))
    except ValueError:
        problems.add(f"{at}.kind", N_("numeric, qualitative or panel"))
        return None
    decimals = raw.get("decimals", 0)
    if isinstance(decimals, bool) or not isinstance(decimals, int):
        problems.add(f"{at}.decimals", N_("a whole number"))
        decimals = 0
    elif not 0 <= decimals <= MAX_DECIMALS:
        problems.add(f"{at}.decimals", said("between 0 and %(max)s", max=MAX_DECIMALS))
    flags = {}
    for key in ("lower_inclusive", "upper_inclusive", "required"):
        flags[key] = raw.get(key, True)
        if not isinstance(flags[key], bool):
            problems.add(f"{at}.{key}", N_("true or false"))
    lower = _limit(raw.get("lower"), f"{at}.lower", problems)
    upper = _limit(raw.get("upper"), f"{at}.upper", problems)
    alert_lower = _limit(raw.get("alert_lower"), f"{at}.alert_lower", problems)
    alert_upper = _limit(raw.get("alert_upper"), f"{at}.alert_upper", problems)
    accepted = _strings(raw.get("accepted"), f"{at}.accepted", problems)
    rejected = _strings(raw.get("rejected"), f"{at}.rejected", problems)
    alternatives = _strings(raw.get("alternatives"), f"{at}.alternatives", problems)
    days = raw.get("incubation_days")
    if days is not None and (isinstance(days, bool) or not isinstance(days, int) or days < 1):
        problems.add(f"{at}.incubation_days", N_("a whole number of days, at least 1"))
        days = None
    unit = raw.get("unit", "")
    if not isinstance(unit, str):
        problems.add(f"{at}.unit", N_("text"))
        unit = ""
    if kind == Kind.QUALITATIVE:
        if not accepted:
            problems.add(f"{at}.accepted", N_("a qualitative test lists its accepted results"))
        if lower is not None or upper is not None:
            problems.add(f"{at}.lower", N_("a qualitative test has no numeric limits"))
    else:
        if lower is None and upper is None:
            problems.add(
                f"{at}.lower",
                said("a %(kind)s test needs a lower or an upper limit", kind=Said(str(kind))),
            )
        if lower is not None and upper is not None and lower > upper:
            problems.add(f"{at}.upper", N_("below the lower limit"))
        if accepted or rejected:
            problems.add(
                f"{at}.accepted",
                said("a %(kind)s test is judged by its limits", kind=Said(str(kind))),
            )
    if kind == Kind.PANEL and len(alternatives) < 2:
        problems.add(f"{at}.alternatives", N_("a panel names at least two alternative analytes"))
    if kind != Kind.PANEL and alternatives:
        problems.add(f"{at}.alternatives", N_("only a panel has alternatives"))
    if problems.fields:
        return None
    return SpecTest(
        code=code,
        name=raw["name"].strip(),
        method=raw["method"].strip(),
        unit=unit.strip(),
        kind=kind,
        source=raw["source"].strip(),
        required=flags["required"],
        decimals=decimals,
        limits=Interval(
            Bound(lower, flags["lower_inclusive"]), Bound(upper, flags["upper_inclusive"])
        ),
        alert=Interval(Bound(alert_lower), Bound(alert_upper)),
        accepted=accepted,
        rejected=rejected,
        alternatives=alternatives,
        incubation_days=days,
    )


def parse_spec(text: str, where: str) -> SpecContent:
    """Parse one file's text; `where` (the file name) prefixes every problem."""
    problems = _Problems(where)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ValidationFailed(
            said("%(file)s: not valid TOML (%(error)s).", file=where, error=str(err)),
            {"file": str(err)},
        ) from None
    # A misspelt table ("[[test]]", "[limit]") would otherwise leave a spec silently empty.
    for key in sorted(set(data) - TOP_KEYS):
        problems.add(key, N_("unknown key"))
    for key in ("product", "stage", "title"):
        if not isinstance(data.get(key), str) or not data[key].strip():
            problems.add(key, N_("required text"))
    try:
        stage = Stage(data.get("stage"))
    except ValueError:
        problems.add("stage", ", ".join(s.value for s in Stage))
        stage = Stage.RELEASE
    limits_raw = data.get("limits", {})
    limits: dict[str, str] = {}
    if not isinstance(limits_raw, dict):
        problems.add("limits", N_("a table"))
    else:
        for key, raw in limits_raw.items():
            if isinstance(raw, bool) or not isinstance(raw, (str, int)):
                problems.add(f"limits.{key}", N_("a string or a whole number"))
            else:
                limits[key] = str(raw)
    raw_tests = data.get("tests", [])
    if not isinstance(raw_tests, list) or not all(isinstance(t, dict) for t in raw_tests):
        problems.add("tests", N_("an array of [[tests]] tables"))
        raw_tests = []
    elif not raw_tests:
        problems.add("tests", N_("a specification lists at least one [[tests]] table"))
    tests = []
    for i, raw in enumerate(raw_tests):
        parsed = _test(raw, i, problems)
        if parsed:
            tests.append(parsed)
    seen: set[str] = set()
    for t in tests:
        for code in (t.code, *t.alternatives):
            if code.casefold() in seen:
                problems.add(f"tests {code}", N_("the code appears twice in this specification"))
            seen.add(code.casefold())
    problems.raise_any()
    return SpecContent(
        product=data["product"].strip(),
        stage=stage,
        title=data["title"].strip(),
        tests=tuple(tests),
        limits=limits,
    )


def _b(bound: Bound) -> list[Any]:
    return [None if bound.value is None else str(bound.value), bound.inclusive]


def to_plain(content: SpecContent) -> dict[str, Any]:
    """The canonical data of a specification: what is hashed and stored."""
    return {
        "product": content.product,
        "stage": content.stage.value,
        "title": content.title,
        "limits": dict(sorted(content.limits.items())),
        "tests": [
            {
                "code": t.code,
                "name": t.name,
                "method": t.method,
                "unit": t.unit,
                "kind": t.kind.value,
                "source": t.source,
                "required": t.required,
                "decimals": t.decimals,
                "limits": [_b(t.limits.lower), _b(t.limits.upper)],
                "alert": [_b(t.alert.lower), _b(t.alert.upper)],
                "accepted": list(t.accepted),
                "rejected": list(t.rejected),
                "alternatives": list(t.alternatives),
                "incubation_days": t.incubation_days,
            }
            for t in content.tests
        ],
    }


def _bound(raw: list[Any]) -> Bound:
    return Bound(None if raw[0] is None else Decimal(raw[0]), bool(raw[1]))


def from_plain(data: dict[str, Any]) -> SpecContent:
    return SpecContent(
        product=data["product"],
        stage=Stage(data["stage"]),
        title=data["title"],
        limits=dict(data["limits"]),
        tests=tuple(
            SpecTest(
                code=t["code"],
                name=t["name"],
                method=t["method"],
                unit=t["unit"],
                kind=Kind(t["kind"]),
                source=t["source"],
                required=t["required"],
                decimals=t["decimals"],
                limits=Interval(_bound(t["limits"][0]), _bound(t["limits"][1])),
                alert=Interval(_bound(t["alert"][0]), _bound(t["alert"][1])),
                accepted=tuple(t["accepted"]),
                rejected=tuple(t["rejected"]),
                alternatives=tuple(t["alternatives"]),
                incubation_days=t["incubation_days"],
            )
            for t in data["tests"]
        ),
    )


def content_hash(content: SpecContent) -> str:
    text = json.dumps(to_plain(content), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()
