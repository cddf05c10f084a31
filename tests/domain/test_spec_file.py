"""Specification files: the defaults parse, anything ambiguous is refused by name, the canonical
form round-trips and its hash moves with every edit."""

from __future__ import annotations

import dataclasses
import json
from decimal import Decimal
from pathlib import Path

import pytest

from lotrack import PROJECT_ROOT
from lotrack.domain.errors import ValidationFailed
from lotrack.domain.spec_file import content_hash, from_plain, parse_spec, to_plain
from lotrack.domain.specs import Bound, Interval, Kind, Stage

SPEC_FILES = sorted(Path(PROJECT_ROOT, "specs").glob("*.toml"))
HEAD = 'product = "cfMSC"\nstage = "release"\ntitle = "A test specification"\n'
VIAB = """
[[tests]]
code = "VIAB"
name = "Viability"
method = "Trypan blue"
unit = "%"
kind = "numeric"
decimals = 1
lower = "80.0"
source = "a source"
"""


def parsed(name: str):
    path = Path(PROJECT_ROOT, "specs", name)
    return parse_spec(path.read_text(encoding="utf-8"), path.name)


def refusal(text: str, where: str = "bad.toml") -> ValidationFailed:
    with pytest.raises(ValidationFailed) as err:
        parse_spec(text, where)
    assert err.value.message.startswith(f"{where}:")
    return err.value


def test_there_is_one_default_file_per_stage():
    stages = {parse_spec(p.read_text(encoding="utf-8"), p.name).stage for p in SPEC_FILES}
    assert stages == set(Stage) and len(SPEC_FILES) == len(Stage)


@pytest.mark.parametrize("path", SPEC_FILES, ids=lambda p: p.name)
def test_every_default_spec_parses_and_names_a_source_for_every_test(path):
    content = parse_spec(path.read_text(encoding="utf-8"), path.name)
    assert content.product == "cfMSC" and content.tests
    for t in content.tests:
        assert len(t.source) > 10, t.code
        if t.kind != Kind.QUALITATIVE:
            assert t.limits.lower.value is not None or t.limits.upper.value is not None


def test_the_release_spec_holds_the_isct_panel_and_the_safety_tests():
    release = parsed("cfmsc-release.toml")
    codes = {t.code for t in release.tests}
    assert {
        "VIAB", "CELLS", "CD105", "CD73", "CD90", "CD45", "CD34", "CD14-CD11B", "CD79A-CD19",
        "HLA-DR", "STERILITY", "MYCO", "ENDOTOXIN", "KARYOTYPE", "STR", "POTENCY", "TRILINEAGE",
    } <= codes  # fmt: skip
    assert release.test("STERILITY").incubation_days == 14
    assert release.test("CD19").alternatives == ("CD79a", "CD19")
    assert release.test("ENDOTOXIN").limits.upper == Bound(Decimal("0.50"), False)
    assert release.test("BSA").required is False
    assert release.limits["post_thaw_use_minutes"] == "60"


def test_the_in_process_spec_states_passage_and_doubling_limits():
    limits = parsed("cfmsc-in-process.toml").limits
    assert int(limits["max_passage"]) == 10 and Decimal(limits["max_cumulative_pdl"]) > 0


@pytest.mark.parametrize(
    "edit, field, says",
    [
        (("lower = \"80.0\"", "lower = 80.0"), "tests[0] VIAB.lower", "TOML floats"),
        (("lower = \"80.0\"", "lower = true"), "tests[0] VIAB.lower", "string"),
        (("lower = \"80.0\"", "lower = \"eighty\""), "tests[0] VIAB.lower", "not a number"),
        (("lower = \"80.0\"", "lower = \"NaN\""), "tests[0] VIAB.lower", "finite"),
        (("lower = \"80.0\"", "lower = \"Infinity\""), "tests[0] VIAB.lower", "finite"),
        (("lower = \"80.0\"", 'lowr = "80.0"'), "tests[0] VIAB.lowr", "unknown key"),
        (("decimals = 1", "decimals = 1.0"), "tests[0] VIAB.decimals", "whole number"),
        (("decimals = 1", "decimals = 7"), "tests[0] VIAB.decimals", "between 0 and 6"),
        (("decimals = 1", "decimals = 1\nrequired = \"yes\""), "tests[0] VIAB.required", "true"),
        (("decimals = 1", "decimals = 1\nupper = \"70\""), "tests[0] VIAB.upper", "below"),
        (("lower = \"80.0\"", 'alert_lower = "85"'), "tests[0] VIAB.lower", "lower or an upper"),
        (('kind = "numeric"', 'kind = "number"'), "tests[0] VIAB.kind", "numeric, qualitative"),
        (('source = "a source"', 'source = " "'), "tests[0] VIAB.source", "required"),
        (('method = "Trypan blue"', ""), "tests[0] VIAB.method", "required"),
        (('unit = "%"', "unit = 1"), "tests[0] VIAB.unit", "text"),
        (("decimals = 1", "decimals = 1\nincubation_days = 0"), "tests[0] VIAB.incubation_days",
         "at least 1"),
        (("decimals = 1", 'decimals = 1\naccepted = ["ok"]'), "tests[0] VIAB.accepted", "limits"),
        (("decimals = 1", 'decimals = 1\nalternatives = ["A", "B"]'),
         "tests[0] VIAB.alternatives", "only a panel"),
        (('stage = "release"', 'stage = "final"'), "stage", "release, MCB, WCB"),
        (('title = "A test specification"', ""), "title", "required"),
        (("[[tests]]", "[limits]\nmax = 1.5\n[[tests]]"), "limits.max", "string"),
        (("[[tests]]", 'titel = "typo"\n[[tests]]'), "titel", "unknown key"),
        (("[[tests]]", "[[test]]"), "test", "unknown key"),
        (("lower = \"80.0\"", 'lower = "80.0'), "file", ""),
    ],
)  # fmt: skip
def test_a_doubtful_file_is_refused_naming_file_test_and_field(edit, field, says):
    old, new = edit
    text = (HEAD + VIAB).replace(old, new, 1)
    fields = refusal(text).fields
    assert field in fields, fields
    assert says in fields[field]


def test_a_qualitative_test_without_accepted_results_is_refused():
    text = HEAD + VIAB.replace('kind = "numeric"', 'kind = "qualitative"').replace(
        'lower = "80.0"', ""
    )
    assert "accepted results" in refusal(text).fields["tests[0] VIAB.accepted"]


@pytest.mark.parametrize(
    "alternatives, says",
    [('["CD14"]', "at least two"), ("[]", "at least two"), (None, "at least two"),
     ('["CD14", " "]', "non-empty strings")],
)  # fmt: skip
def test_a_panel_without_two_alternatives_is_refused(alternatives, says):
    test = VIAB.replace('kind = "numeric"', 'kind = "panel"')
    if alternatives is not None:
        test += f"alternatives = {alternatives}\n"
    assert says in refusal(HEAD + test).fields["tests[0] VIAB.alternatives"]


@pytest.mark.parametrize(
    "second, field",
    [
        (VIAB, "tests VIAB"),
        (VIAB.replace('"VIAB"', '"viab"'), "tests viab"),
        (VIAB.replace('"VIAB"', '"CD14"').replace('kind = "numeric"', 'kind = "panel"')
         + 'alternatives = ["CD11b", "Viab"]\n', "tests Viab"),
    ],
)  # fmt: skip
def test_a_code_used_twice_is_refused(second, field):
    fields = refusal(HEAD + VIAB + second).fields
    assert fields[field] == "the code appears twice in this specification"


def test_a_specification_without_tests_is_refused():
    assert "tests" in refusal(HEAD).fields


def test_every_problem_of_a_file_is_reported_at_once():
    text = (HEAD + VIAB).replace('80.0"', '80.0"\nlowr = 1').replace("decimals = 1", "")
    text += VIAB.replace('"VIAB"', '"CD90"').replace('"80.0"', "95.0")
    fields = refusal(text).fields
    assert {"tests[0] VIAB.lowr", "tests[1] CD90.lower"} <= set(fields)


@pytest.mark.parametrize("path", SPEC_FILES, ids=lambda p: p.name)
def test_the_canonical_form_round_trips_through_json(path):
    content = parse_spec(path.read_text(encoding="utf-8"), path.name)
    stored = json.dumps(to_plain(content), sort_keys=True, ensure_ascii=False)
    assert from_plain(json.loads(stored)) == content
    assert content_hash(from_plain(json.loads(stored))) == content_hash(content)


def test_the_hash_ignores_comments_layout_and_key_order_but_nothing_else():
    text = HEAD + VIAB
    same = (
        "# a comment\n"
        + HEAD
        + VIAB.replace('unit = "%"\n', "").replace(
            'source = "a source"', 'source = "a source"   # why\nunit  =  "%"'
        )
    )
    assert content_hash(parse_spec(text, "a")) == content_hash(parse_spec(same, "b"))
    for old, new in [
        ('"80.0"', '"80.00"'),
        ('"80.0"', '"80.1"'),
        ("decimals = 1", "decimals = 2"),
        ('source = "a source"', 'source = "a source."'),
        ('title = "A test specification"', 'title = "A test specification 2"'),
        ('"VIAB"', '"VIA"'),
        ("lower = ", "lower_inclusive = false\nlower = "),
        ("lower = ", 'alert_lower = "85"\nlower = '),
        ("lower = ", "required = false\nlower = "),
    ]:
        edited = parse_spec((HEAD + VIAB).replace(old, new, 1), "c")
        assert content_hash(edited) != content_hash(parse_spec(text, "a")), (old, new)


@pytest.mark.parametrize("path", SPEC_FILES, ids=lambda p: p.name)
def test_changing_any_field_of_any_test_changes_the_hash(path):
    content = parse_spec(path.read_text(encoding="utf-8"), path.name)
    digest = content_hash(content)
    assert content_hash(dataclasses.replace(content, title=content.title + ".")) != digest
    assert content_hash(dataclasses.replace(content, limits={**content.limits, "x": "1"})) != digest
    assert content_hash(dataclasses.replace(content, tests=content.tests[::-1])) != digest
    changes = {
        "code": "OTHER", "name": "other", "method": "other", "unit": "g", "source": "other",
        "kind": Kind.NUMERIC, "required": None, "decimals": 5,
        "limits": Interval(Bound(Decimal(-1))), "alert": Interval(Bound(Decimal(-2), False)),
        "accepted": ("x",), "rejected": ("y",), "alternatives": ("A", "B"), "incubation_days": 99,
    }  # fmt: skip
    assert set(changes) == {f.name for f in dataclasses.fields(content.tests[0])}
    for i, test in enumerate(content.tests):
        for name, value in changes.items():
            if name == "required":
                value = not test.required
            if getattr(test, name) == value:
                continue
            tests = list(content.tests)
            tests[i] = dataclasses.replace(test, **{name: value})
            edited = dataclasses.replace(content, tests=tuple(tests))
            assert content_hash(edited) != digest, (test.code, name)


def test_spec_lookup_finds_a_test_by_its_code_or_an_alternative():
    release = parsed("cfmsc-release.toml")
    assert release.test("cd11B").code == "CD14-CD11B"
    assert release.test(" viab ").code == "VIAB"
    assert release.test("CD11") is None
    assert release.test("CD14").criterion() == "CD14 or CD11b ≤ 2.0%"
    assert release.test("CELLS").criterion() == "≥ 64.8 10^6 cells and ≤ 79.2 10^6 cells"
