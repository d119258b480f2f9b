"""Datasets (forms) and their validation rules, loaded from ``datasets.toml``."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from functools import cached_property
from importlib import resources
from pathlib import Path
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from contract.errors import ConfigError
from contract.events import Violation
from contract.rules import Expression, MissingValueStrategy, Operator, check, resolve

BUILTIN_DATASETS = "datasets.toml"


class _Config(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CategoryOption(_Config):
    code: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name_vi: str
    name_en: str


class Category(_Config):
    """A disaggregation (DHIS2's category combo), e.g. age bands."""

    name_vi: str
    name_en: str
    options: list[CategoryOption] = Field(min_length=1)


class Metric(_Config):
    code: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name_vi: str
    name_en: str
    help_vi: str = ""
    help_en: str = ""
    category: str | None = None


class Rule(_Config):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    left: str
    operator: Operator
    right: str
    missing_value_strategy: MissingValueStrategy = MissingValueStrategy.NEVER_SKIP
    left_missing_value_strategy: MissingValueStrategy | None = None
    right_missing_value_strategy: MissingValueStrategy | None = None
    severity: str = Field(pattern=r"^(error|warning)$")
    message_vi: str = Field(min_length=1)
    message_en: str = Field(min_length=1)

    @cached_property
    def left_expr(self) -> Expression:
        return Expression.parse(self.left)

    @cached_property
    def right_expr(self) -> Expression:
        return Expression.parse(self.right)

    def violation(self, values: Mapping[str, int]) -> Violation | None:
        """Return the violation when ``values`` break this rule, else None."""
        outcome = check(
            self.left_expr,
            self.operator,
            self.right_expr,
            values,
            self.left_missing_value_strategy or self.missing_value_strategy,
            self.right_missing_value_strategy or self.missing_value_strategy,
        )
        if not outcome.broken:
            return None
        detail = (
            ""
            if outcome.left is None
            else f" [{self.left} = {outcome.left}; {self.right} = {outcome.right}]"
        )
        return Violation(
            code=self.id,
            severity="error" if self.severity == "error" else "warning",
            message_vi=self.message_vi + detail,
            message_en=self.message_en + detail,
            fields=sorted({*self.left_expr.keys, *self.right_expr.keys}),
        )


class Dataset(_Config):
    code: str = Field(pattern=r"^[a-z][a-z0-9-]*$")
    name_vi: str
    name_en: str
    period: str = Field("daily", pattern=r"^daily$")
    deadline: time = time(15, 0)
    deadline_day_offset: int = Field(0, ge=0, le=31)
    reminder_lead_minutes: int = Field(60, ge=0, le=24 * 60)
    max_value: int = Field(10_000_000, ge=1)
    metrics: list[Metric] = Field(min_length=1)
    rules: list[Rule] = Field(default_factory=list)

    @cached_property
    def metric_index(self) -> dict[str, Metric]:
        return {m.code: m for m in self.metrics}

    def metric(self, code: str) -> Metric | None:
        return self.metric_index.get(code)  # on the hot path: a dict, not a scan

    def deadline_at(self, report_date: date, tz: ZoneInfo) -> datetime:
        """The instant reports for ``report_date`` are due (zone-aware)."""
        day = report_date + timedelta(days=self.deadline_day_offset)
        return datetime.combine(day, self.deadline, tzinfo=tz)

    def check_rules(self, values: Mapping[str, int]) -> list[Violation]:
        resolved = resolve(values)  # once per report, not once per rule term
        return [v for rule in self.rules if (v := rule.violation(resolved)) is not None]


class Catalog(_Config):
    """Every dataset and category; the whole of ``datasets.toml``."""

    categories: dict[str, Category] = Field(default_factory=dict)
    datasets: list[Dataset] = Field(min_length=1)

    @model_validator(mode="after")
    def _references_resolve(self) -> Catalog:
        seen: set[str] = set()
        for ds in self.datasets:
            if ds.code in seen:
                raise ValueError(f"dataset {ds.code} is defined twice")
            seen.add(ds.code)
            codes = {m.code for m in ds.metrics}
            if len(codes) != len(ds.metrics):
                raise ValueError(f"dataset {ds.code} repeats a metric code")
            for m in ds.metrics:
                if m.category is not None and m.category not in self.categories:
                    raise ValueError(f"{ds.code}.{m.code}: unknown category {m.category}")
            for rule in ds.rules:
                for key in (*rule.left_expr.keys, *rule.right_expr.keys):
                    problem = self.key_problem(ds, key)
                    if problem:
                        raise ValueError(f"{ds.code} rule {rule.id}: {problem}")
        return self

    @cached_property
    def dataset_index(self) -> dict[str, Dataset]:
        return {d.code: d for d in self.datasets}

    @cached_property
    def option_index(self) -> dict[str, list[str]]:
        return {name: [o.code for o in c.options] for name, c in self.categories.items()}

    def get(self, code: str) -> Dataset | None:
        return self.dataset_index.get(code)

    def options(self, metric: Metric) -> list[str]:
        return [] if metric.category is None else self.option_index[metric.category]

    def key_problem(self, dataset: Dataset, key: str) -> str | None:
        """Why ``key`` is not a value key of ``dataset`` (None when it is one)."""
        code, _, option = key.partition(".")
        metric = dataset.metric(code)
        if metric is None:
            return f"unknown metric {code!r}"
        if option and option not in self.options(metric):
            return f"unknown option {option!r} for metric {code!r}"
        return None

    def allowed_keys(self, dataset: Dataset) -> frozenset[str]:
        """``value_keys`` as a set, built once per dataset: checked for every value."""
        found = self.allowed_key_index.get(dataset.code)
        if found is None or self.get(dataset.code) is not dataset:
            # A dataset that is not this catalog's own (one built by a test or a tool)
            # may share a code with another metric list: build its set afresh.
            return frozenset(self.value_keys(dataset))
        return found

    @cached_property
    def allowed_key_index(self) -> dict[str, frozenset[str]]:
        return {d.code: frozenset(self.value_keys(d)) for d in self.datasets}

    def value_keys(self, dataset: Dataset) -> list[str]:
        """Every key a report may carry: plain metrics and metric.option pairs."""
        keys: list[str] = []
        for m in dataset.metrics:
            options = self.options(m)
            keys.extend(f"{m.code}.{o}" for o in options) if options else keys.append(m.code)
        return keys

    @classmethod
    def load(cls, path: Path | None = None) -> Catalog:
        """Load datasets from a TOML file; without a path, the built-in definitions."""
        try:
            if path is None:
                raw = resources.files("contract").joinpath("data", BUILTIN_DATASETS).read_bytes()
            else:
                raw = path.read_bytes()
            data = tomllib.loads(raw.decode("utf-8"))
        except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"cannot read datasets {path or BUILTIN_DATASETS}: {exc}") from exc
        try:
            return cls.model_validate(data)
        except (ValidationError, ConfigError) as exc:
            raise ConfigError(f"datasets {path or BUILTIN_DATASETS} are invalid: {exc}") from exc
