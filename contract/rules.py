"""Validation rules as in DHIS2: two expressions, an operator, a missing-value strategy.

Expressions are sums and differences of value keys (``cases_new``,
``vaccine_dose2.age_18_49``) and whole numbers. They are parsed once, never ``eval``-ed.
A key naming a disaggregated metric without an option means the sum of its options.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from contract.errors import ConfigError


class Operator(StrEnum):
    EQ = "=="
    NE = "!="
    GT = ">"
    GE = ">="
    LT = "<"
    LE = "<="
    COMPULSORY_PAIR = "compulsory_pair"
    EXCLUSIVE_PAIR = "exclusive_pair"


class MissingValueStrategy(StrEnum):
    NEVER_SKIP = "never_skip"
    SKIP_IF_ANY_VALUE_MISSING = "skip_if_any_value_missing"
    SKIP_IF_ALL_VALUES_MISSING = "skip_if_all_values_missing"


_COMPARE = {
    Operator.EQ: lambda a, b: a == b,
    Operator.NE: lambda a, b: a != b,
    Operator.GT: lambda a, b: a > b,
    Operator.GE: lambda a, b: a >= b,
    Operator.LT: lambda a, b: a < b,
    Operator.LE: lambda a, b: a <= b,
}

_TOKEN = re.compile(
    r"\s*(?:(?P<op>[+-])|(?P<num>\d+)|(?P<key>[a-z][a-z0-9_]*(?:\.[a-z][a-z0-9_]*)?))"
)


class Resolved(dict[str, int]):
    """A report's values plus each disaggregated metric's total under its bare key.

    Built once per report (``resolve``) so every rule term is one dict lookup instead
    of a scan of the report's keys: validation runs on every event of the stream.
    """


def resolve(values: Mapping[str, int]) -> Resolved:
    """``values`` with ``metric`` = sum of ``metric.*`` added wherever it is not given."""
    out = Resolved()
    for key, value in values.items():
        dot = key.find(".")
        while dot != -1:
            prefix = key[:dot]
            out[prefix] = out.get(prefix, 0) + value
            dot = key.find(".", dot + 1)
    out.update(values)  # a key given itself wins over its options' sum, as in lookup
    return out


@dataclass(frozen=True)
class Term:
    sign: int
    key: str | None  # None for a constant
    constant: int = 0


@dataclass(frozen=True)
class Expression:
    """A parsed ``a + b - 3`` expression."""

    text: str
    terms: tuple[Term, ...]

    @property
    def keys(self) -> list[str]:
        return [t.key for t in self.terms if t.key is not None]

    @classmethod
    def parse(cls, text: str) -> Expression:
        terms: list[Term] = []
        pos, sign, expect_operand = 0, 1, True
        stripped = text.rstrip()
        while pos < len(stripped):
            match = _TOKEN.match(stripped, pos)
            if match is None:
                raise ConfigError(f"cannot parse expression {text!r} at position {pos}")
            pos = match.end()
            if match.group("op"):
                if expect_operand:
                    raise ConfigError(f"expression {text!r}: operator without operand")
                sign, expect_operand = (1 if match.group("op") == "+" else -1), True
                continue
            if not expect_operand:
                raise ConfigError(f"expression {text!r}: missing + or - between operands")
            if match.group("num"):
                terms.append(Term(sign, None, int(match.group("num"))))
            else:
                terms.append(Term(sign, match.group("key")))
            expect_operand = False
        if expect_operand:
            raise ConfigError(f"expression {text!r} is empty or ends with an operator")
        return cls(text, tuple(terms))

    def lookup(self, values: Mapping[str, int], key: str) -> int | None:
        """The value of ``key``, summing options of a disaggregated metric; None if absent."""
        return _resolved(values).get(key)

    def evaluate(self, values: Mapping[str, int], strategy: MissingValueStrategy) -> int | None:
        """The expression's value, or None when the strategy says the rule is skipped."""
        values = _resolved(values)
        total, keyed, missing = 0, 0, 0
        for term in self.terms:
            if term.key is None:
                total += term.sign * term.constant
                continue
            keyed += 1
            value = values.get(term.key)
            if value is None:
                missing += 1
            else:
                total += term.sign * value
        if strategy is MissingValueStrategy.SKIP_IF_ANY_VALUE_MISSING and missing:
            return None
        if (
            strategy is MissingValueStrategy.SKIP_IF_ALL_VALUES_MISSING
            and keyed
            and missing == keyed
        ):
            return None
        return total

    def has_any_value(self, values: Mapping[str, int]) -> bool:
        values = _resolved(values)
        return any(values.get(t.key) is not None for t in self.terms if t.key is not None)


def _resolved(values: Mapping[str, int]) -> Resolved:
    return values if type(values) is Resolved else resolve(values)


@dataclass(frozen=True)
class RuleOutcome:
    """Whether a rule held, was skipped for missing values, or was broken."""

    broken: bool
    skipped: bool
    left: int | None
    right: int | None


def check(
    left: Expression,
    operator: Operator,
    right: Expression,
    values: Mapping[str, int],
    left_missing: MissingValueStrategy,
    right_missing: MissingValueStrategy,
) -> RuleOutcome:
    """Evaluate one rule against a report's values."""
    if operator in (Operator.COMPULSORY_PAIR, Operator.EXCLUSIVE_PAIR):
        has_left, has_right = left.has_any_value(values), right.has_any_value(values)
        if operator is Operator.COMPULSORY_PAIR:
            broken = has_left != has_right
        else:
            broken = has_left and has_right
        return RuleOutcome(broken, False, None, None)
    lv = left.evaluate(values, left_missing)
    rv = right.evaluate(values, right_missing)
    if lv is None or rv is None:
        return RuleOutcome(False, True, lv, rv)
    return RuleOutcome(not _COMPARE[operator](lv, rv), False, lv, rv)
