"""Validation rules: expressions, operators, missing values, severities and the shipped rules."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from contract.datasets import Catalog
from contract.errors import ConfigError
from contract.rules import (
    Expression,
    MissingValueStrategy,
    Operator,
    RuleOutcome,
    check,
    resolve,
)

NEVER = MissingValueStrategy.NEVER_SKIP
ANY = MissingValueStrategy.SKIP_IF_ANY_VALUE_MISSING
ALL = MissingValueStrategy.SKIP_IF_ALL_VALUES_MISSING


def _check(
    left: str,
    op: str,
    right: str,
    values: dict[str, int],
    left_missing: MissingValueStrategy = NEVER,
    right_missing: MissingValueStrategy = NEVER,
) -> RuleOutcome:
    return check(
        Expression.parse(left),
        Operator(op),
        Expression.parse(right),
        values,
        left_missing,
        right_missing,
    )


# --- operators -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("op", "a", "b", "broken"),
    [
        ("==", 3, 3, False),
        ("==", 3, 4, True),
        ("!=", 3, 4, False),
        ("!=", 3, 3, True),
        (">", 4, 3, False),
        (">", 3, 3, True),
        (">=", 3, 3, False),
        (">=", 2, 3, True),
        ("<", 2, 3, False),
        ("<", 3, 3, True),
        ("<=", 3, 3, False),
        ("<=", 4, 3, True),
    ],
)
def test_comparison_operators_hold_or_break(op: str, a: int, b: int, broken: bool) -> None:
    outcome = _check("a", op, "b", {"a": a, "b": b})
    assert outcome == RuleOutcome(broken=broken, skipped=False, left=a, right=b)


@pytest.mark.parametrize(
    ("values", "broken"),
    [
        ({"a": 1, "b": 2}, False),
        ({"a": 0, "b": 0}, False),  # 0 is a reported value
        ({}, False),
        ({"a": 1}, True),
        ({"b": 0}, True),
    ],
)
def test_compulsory_pair_needs_both_sides_or_neither(values: dict[str, int], broken: bool) -> None:
    assert _check("a", "compulsory_pair", "b", values).broken is broken


@pytest.mark.parametrize(
    ("values", "broken"),
    [
        ({"a": 1}, False),
        ({"b": 2}, False),
        ({}, False),
        ({"a": 1, "b": 2}, True),
        ({"a": 0, "b": 0}, True),  # 0 is a reported value
    ],
)
def test_exclusive_pair_forbids_both_sides(values: dict[str, int], broken: bool) -> None:
    assert _check("a", "exclusive_pair", "b", values).broken is broken


def test_pair_sides_may_be_sums_and_disaggregated_metrics() -> None:
    values = {"vaccine_dose1.age_18_49": 4}
    assert _check("vaccine_dose1", "compulsory_pair", "x + y", values).broken
    assert not _check("vaccine_dose1", "compulsory_pair", "x + y", {**values, "y": 0}).broken
    assert not _check("vaccine_dose1", "exclusive_pair", "x + y", values).broken


# --- missing values ----------------------------------------------------------------------


@pytest.mark.parametrize("side", ["left", "right"])
@pytest.mark.parametrize(
    ("strategy", "values", "skipped", "side_value", "broken"),
    [
        # "x + y" is compared with z == 5.
        (ANY, {"x": 5}, True, None, False),  # y absent: not 0, the rule is skipped
        (ANY, {"x": 5, "y": 0}, False, 5, False),  # y reported as 0: evaluated
        (ANY, {"x": 9, "y": 0}, False, 9, True),
        (ANY, {}, True, None, False),
        (ALL, {"x": 5}, False, 5, False),  # one present: evaluated, absent as 0
        (ALL, {"x": 4}, False, 4, True),
        (ALL, {}, True, None, False),  # all absent: skipped
        (NEVER, {"x": 5}, False, 5, False),  # absent counts as 0
        (NEVER, {}, False, 0, True),  # 0 == 5 is broken
    ],
)
def test_missing_value_strategy_on_each_side(
    side: str,
    strategy: MissingValueStrategy,
    values: dict[str, int],
    skipped: bool,
    side_value: int | None,
    broken: bool,
) -> None:
    values = {**values, "z": 5}
    if side == "left":
        outcome = _check("x + y", "==", "z", values, left_missing=strategy)
        evaluated = outcome.left
    else:
        outcome = _check("z", "==", "x + y", values, right_missing=strategy)
        evaluated = outcome.right
    assert outcome.skipped is skipped
    assert outcome.broken is broken
    if not skipped:
        assert evaluated == side_value


def test_a_skipped_side_skips_the_whole_rule_even_if_the_other_would_break() -> None:
    # positives reported, tests not: with skip_if_any the rule cannot judge, so it does not.
    outcome = _check("pos", "<=", "tests", {"pos": 50}, ANY, ANY)
    assert outcome.skipped and not outcome.broken
    # never_skip would read the absent tests as 0 and break.
    assert _check("pos", "<=", "tests", {"pos": 50}, NEVER, NEVER).broken


# --- expressions -------------------------------------------------------------------------


def test_disaggregated_metric_without_option_sums_its_options() -> None:
    values = {
        "vaccine_dose1.age_18_49": 3,
        "vaccine_dose1.age_65_plus": 4,
        "vaccine_dose2.age_18_49": 100,
    }
    expr = Expression.parse("vaccine_dose1")
    assert expr.evaluate(values, NEVER) == 7
    assert Expression.parse("vaccine_dose1.age_65_plus").evaluate(values, NEVER) == 4
    assert expr.evaluate({"vaccine_dose2.age_18_49": 1}, ANY) is None  # no option reported
    assert _check("vaccine_dose2", "<=", "vaccine_dose1", values).broken


def test_resolved_values_add_totals_only_where_the_report_gives_none() -> None:
    values = {"a": 1, "a.x": 2, "b.x": 3, "b.y": 4, "c": 5}
    assert resolve(values) == {**values, "b": 7}  # "a" stays as reported, not 1 + 2
    for key in ("a", "b", "c", "b.y", "d"):
        expr = Expression.parse(key)
        assert expr.lookup(resolve(values), key) == expr.lookup(values, key)


def test_a_metric_is_not_confused_with_one_whose_code_it_prefixes() -> None:
    expr = Expression.parse("tests_pcr")
    assert expr.lookup({"tests_pcr_positive": 5}, "tests_pcr") is None
    assert expr.evaluate({"tests_pcr_positive": 5}, ANY) is None


@pytest.mark.parametrize(
    ("text", "values", "expected"),
    [
        ("a - b + 10", {"a": 5, "b": 3}, 12),
        ("100 - a", {"a": 30}, 70),
        ("a-b", {"a": 5, "b": 7}, -2),
        ("  a +b  ", {"a": 1, "b": 2}, 3),
        ("7", {}, 7),
        ("a - 2 - b", {"a": 10, "b": 3}, 5),
    ],
)
def test_constants_and_subtraction(text: str, values: dict[str, int], expected: int) -> None:
    assert Expression.parse(text).evaluate(values, NEVER) == expected


def test_a_constant_side_is_never_skipped_and_compares_with_a_metric() -> None:
    assert not _check("cases_new", "<=", "5", {"cases_new": 5}, ALL, ALL).broken
    assert _check("cases_new", "<=", "5", {"cases_new": 6}, ALL, ALL).broken


@pytest.mark.parametrize("text", ["a +", "+ a", "a b", "a * b", "", "   ", "a - - b", "A", "a.b.c"])
def test_malformed_expressions_are_config_errors(text: str) -> None:
    with pytest.raises(ConfigError, match="expression"):
        Expression.parse(text)


# --- severities through a dataset --------------------------------------------------------


def _catalog(rules: list[dict[str, Any]]) -> Catalog:
    return Catalog.model_validate(
        {
            "categories": {
                "age": {
                    "name_vi": "Nhóm tuổi",
                    "name_en": "Age band",
                    "options": [
                        {"code": "young", "name_vi": "Trẻ", "name_en": "Young"},
                        {"code": "old", "name_vi": "Già", "name_en": "Old"},
                    ],
                }
            },
            "datasets": [
                {
                    "code": "test-daily",
                    "name_vi": "Thử",
                    "name_en": "Test",
                    "metrics": [
                        {"code": "a", "name_vi": "A", "name_en": "A"},
                        {"code": "b", "name_vi": "B", "name_en": "B"},
                        {"code": "c", "name_vi": "C", "name_en": "C"},
                        {"code": "d", "name_vi": "D", "name_en": "D", "category": "age"},
                    ],
                    "rules": rules,
                }
            ],
        }
    )


def _rule(rule_id: str, left: str, right: str, severity: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": rule_id,
        "left": left,
        "operator": "<=",
        "right": right,
        "severity": severity,
        "message_vi": f"Lỗi {rule_id}",
        "message_en": f"Problem {rule_id}",
        **extra,
    }


def test_rule_severity_decides_error_or_warning() -> None:
    catalog = _catalog(
        [_rule("a_le_b", "a", "b", "error"), _rule("c_le_b", "c", "b + d", "warning")]
    )
    dataset = catalog.get("test-daily")
    assert dataset is not None
    found = dataset.check_rules({"a": 5, "b": 3, "c": 9, "d.young": 1, "d.old": 1})
    assert [(v.code, v.severity) for v in found] == [("a_le_b", "error"), ("c_le_b", "warning")]
    warning = found[1]
    assert warning.fields == ["b", "c", "d"]
    assert warning.message_vi.startswith("Lỗi c_le_b") and "c = 9" in warning.message_vi
    assert warning.message_en.startswith("Problem c_le_b") and "b + d = 5" in warning.message_en
    assert dataset.check_rules({"a": 3, "b": 3, "c": 3}) == []


def test_rule_missing_value_strategy_per_side_overrides_the_default() -> None:
    catalog = _catalog(
        [
            _rule(
                "a_le_b",
                "a",
                "b",
                "error",
                missing_value_strategy="never_skip",
                right_missing_value_strategy="skip_if_any_value_missing",
            )
        ]
    )
    dataset = catalog.get("test-daily")
    assert dataset is not None
    assert dataset.check_rules({"a": 5}) == []  # b absent: skipped, not read as 0
    assert [v.code for v in dataset.check_rules({"b": 0, "a": 5})] == ["a_le_b"]


# --- invalid configuration ---------------------------------------------------------------

DATASET_TOML = """
[categories.age]
name_vi = "Nhóm tuổi"
name_en = "Age band"
options = [{ code = "young", name_vi = "Trẻ", name_en = "Young" }]

[[datasets]]
code = "test-daily"
name_vi = "Thử"
name_en = "Test"
metrics = [
  { code = "a", name_vi = "A", name_en = "A" },
  { code = "b", name_vi = "B", name_en = "B", category = "age" },
]

[[datasets.rules]]
id = "r1"
left = "LEFT"
operator = "OPERATOR"
right = "b"
severity = "error"
message_vi = "Lỗi"
message_en = "Problem"
"""


def _toml(left: str, operator: str) -> str:
    return DATASET_TOML.replace("LEFT", left).replace("OPERATOR", operator)


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "datasets.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_valid_toml_file_loads(tmp_path: Path) -> None:
    catalog = Catalog.load(_write(tmp_path, _toml("a", "<=")))
    dataset = catalog.get("test-daily")
    assert dataset is not None and [r.id for r in dataset.rules] == ["r1"]
    assert catalog.value_keys(dataset) == ["a", "b.young"]


@pytest.mark.parametrize(
    ("left", "operator", "complaint"),
    [
        ("zzz", "<=", "unknown metric 'zzz'"),
        ("b.old", "<=", "unknown option 'old'"),
        ("a.young", "<=", "unknown option 'young'"),  # a has no disaggregation
        ("a +", "<=", "expression"),
        ("a", "=>", "operator"),
    ],
)
def test_a_rule_that_cannot_work_makes_the_catalog_invalid(
    tmp_path: Path, left: str, operator: str, complaint: str
) -> None:
    path = _write(tmp_path, _toml(left, operator))
    with pytest.raises(ConfigError, match="invalid") as info:
        Catalog.load(path)
    assert complaint in str(info.value)


def test_a_toml_syntax_error_is_a_config_error(tmp_path: Path) -> None:
    path = _write(tmp_path, "[[datasets]\ncode = ")
    with pytest.raises(ConfigError, match="cannot read datasets"):
        Catalog.load(path)


def test_a_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read datasets"):
        Catalog.load(tmp_path / "nope.toml")


# --- the shipped rules -------------------------------------------------------------------


@pytest.fixture(scope="module")
def builtin() -> Catalog:
    return Catalog.load()


@pytest.mark.parametrize(
    ("dataset", "rule_id", "bad", "good", "fields", "quoted"),
    [
        (
            "district-daily",
            "pcr_positive_le_tests",
            {"tests_pcr": 10, "tests_pcr_positive": 11},
            {"tests_pcr": 10, "tests_pcr_positive": 10},
            ["tests_pcr", "tests_pcr_positive"],
            "tests_pcr_positive = 11; tests_pcr = 10",
        ),
        (
            "district-daily",
            "antigen_positive_le_tests",
            {"tests_antigen": 40, "tests_antigen_positive": 41},
            {"tests_antigen": 40, "tests_antigen_positive": 2},
            ["tests_antigen", "tests_antigen_positive"],
            "tests_antigen_positive = 41; tests_antigen = 40",
        ),
        (
            "district-daily",
            "case_breakdown_le_cases",
            {
                "cases_new": 3,
                "cases_community": 2,
                "cases_quarantined": 1,
                "cases_unknown_source": 1,
            },
            {"cases_new": 3, "cases_community": 2, "cases_quarantined": 1},
            ["cases_community", "cases_new", "cases_quarantined", "cases_unknown_source"],
            "cases_community + cases_quarantined + cases_unknown_source = 4; cases_new = 3",
        ),
        (
            "checkpoint-daily",
            "checkpoint_antigen_positive_le_tests",
            {"people_screened": 90, "tests_antigen": 5, "tests_antigen_positive": 6},
            {"people_screened": 90, "tests_antigen": 5, "tests_antigen_positive": 5},
            ["tests_antigen", "tests_antigen_positive"],
            "tests_antigen_positive = 6; tests_antigen = 5",
        ),
        (
            "checkpoint-daily",
            "epidemic_area_le_screened",
            {"people_screened": 100, "from_epidemic_areas": 101},
            {"people_screened": 100, "from_epidemic_areas": 100},
            ["from_epidemic_areas", "people_screened"],
            "from_epidemic_areas = 101; people_screened = 100",
        ),
    ],
)
def test_shipped_rules_reject_violations_and_accept_valid_reports(
    builtin: Catalog,
    dataset: str,
    rule_id: str,
    bad: dict[str, int],
    good: dict[str, int],
    fields: list[str],
    quoted: str,
) -> None:
    ds = builtin.get(dataset)
    assert ds is not None
    errors = [v for v in ds.check_rules(bad) if v.severity == "error"]
    assert [v.code for v in errors] == [rule_id]
    violation = errors[0]
    assert violation.fields == fields
    assert violation.message_vi and violation.message_en
    assert violation.message_vi != violation.message_en
    # The numbers that broke the rule are quoted so the submitter can find them.
    assert quoted in violation.message_vi and quoted in violation.message_en
    assert ds.check_rules(good) == []


def test_positives_without_tests_are_not_an_error_but_a_pairing_warning(builtin: Catalog) -> None:
    ds = builtin.get("district-daily")
    assert ds is not None
    found = ds.check_rules({"tests_pcr_positive": 5})  # tests absent, not 0
    assert [(v.code, v.severity) for v in found] == [("pcr_pair", "warning")]


def test_case_breakdown_alone_is_checked_against_absent_new_cases(builtin: Catalog) -> None:
    ds = builtin.get("district-daily")
    assert ds is not None
    # cases_new is never_skip: a breakdown without the total counts the total as 0.
    assert [v.code for v in ds.check_rules({"cases_community": 2})] == ["case_breakdown_le_cases"]
    # Only the total reported: the breakdown side is skipped, nothing to complain about.
    assert ds.check_rules({"cases_new": 4}) == []


def test_every_shipped_rule_speaks_both_languages(builtin: Catalog) -> None:
    rules = [r for ds in builtin.datasets for r in ds.rules]
    assert len(rules) >= 10
    for rule in rules:
        assert rule.message_vi.strip() and rule.message_en.strip(), rule.id
        assert rule.message_vi != rule.message_en, rule.id
