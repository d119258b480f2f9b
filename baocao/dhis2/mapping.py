"""The baocao ↔ DHIS2 mapping: datasets to data sets, keys to (data element, option combo).

The file (TOML, ``contract/data/dhis2-mapping.toml`` by default) names DHIS2 objects by
their *code*, the identifier baocao exchanges with (``idScheme=code``)::

    default_category_option_combo = "default"
    [category_option_combos]                 # option code -> combo, for every metric
    age_18_49 = "COC_AGE_18_49"
    [datasets.district-daily]
    data_set = "DS_DISTRICT_DAILY"
    [datasets.district-daily.data_elements]  # metric -> data element
    cases_new = "DE_CASES_NEW"
    [datasets.district-daily.category_option_combos]  # optional: one metric's option
    "vaccine_dose1.age_65_plus" = "COC_65_PLUS_DOSE1"

A key maps to one (data element, combo) pair and back; the file is checked against the
catalog when it is loaded, so a typo is an error at once, not a value gone quietly.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from importlib import resources
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from contract.datasets import Catalog, Dataset
from contract.errors import ConfigError

BUILTIN_MAPPING = "dhis2-mapping.toml"
#: DHIS2's built-in category option combo of data elements without disaggregation.
DEFAULT_COMBO = "default"
#: The prefix of the made-up codes in the built-in mapping.
EXAMPLE_PREFIX = "EXAMPLE_"

#: A DHIS2 code: the identifier of idScheme=code (any text up to 50 characters).
Code = str


class _File(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DatasetFile(_File):
    data_set: str = Field(min_length=1, max_length=50)
    data_elements: dict[str, str] = Field(default_factory=dict)
    category_option_combos: dict[str, str] = Field(default_factory=dict)


class MappingFile(_File):
    default_category_option_combo: str = Field(DEFAULT_COMBO, min_length=1, max_length=50)
    category_option_combos: dict[str, str] = Field(default_factory=dict)
    datasets: dict[str, DatasetFile] = Field(default_factory=dict)


@dataclass(frozen=True)
class Target:
    """Where one baocao value key goes in DHIS2."""

    data_element: Code
    category_option_combo: Code


@dataclass(frozen=True)
class DatasetMapping:
    """One dataset's mapping: ``targets`` by value key ("metric" or "metric.option")."""

    dataset: str
    data_set: Code
    targets: dict[str, Target]
    #: Value keys of the dataset with no target: not exported, and reported as such.
    unmapped: tuple[str, ...] = ()

    @cached_property
    def keys_by_target(self) -> dict[Target, str]:
        return {t: key for key, t in self.targets.items()}

    @cached_property
    def data_elements(self) -> frozenset[Code]:
        return frozenset(t.data_element for t in self.targets.values())

    def key_of(self, data_element: Code, combo: Code) -> str | None:
        """The value key a DHIS2 (data element, combo) pair stands for, if any."""
        return self.keys_by_target.get(Target(data_element, combo))

    def combos_of(self, data_element: Code) -> list[Code]:
        """The combos the mapping knows for a data element (for error messages)."""
        return sorted(
            t.category_option_combo for t in self.targets.values() if t.data_element == data_element
        )


@dataclass(frozen=True)
class Mapping:
    """Every dataset's mapping, by baocao code and by DHIS2 data set code."""

    datasets: dict[str, DatasetMapping]
    default_combo: Code = DEFAULT_COMBO
    source: str = BUILTIN_MAPPING
    examples: bool = False  # it still holds made-up EXAMPLE_ codes

    def get(self, dataset: str) -> DatasetMapping | None:
        return self.datasets.get(dataset)

    def by_data_set(self, data_set: Code) -> DatasetMapping | None:
        return next((d for d in self.datasets.values() if d.data_set == data_set), None)

    def with_element(self, data_element: Code) -> list[DatasetMapping]:
        """The datasets that map some key to ``data_element`` (one, or several forms)."""
        return [d for d in self.datasets.values() if data_element in d.data_elements]


def load(catalog: Catalog, path: Path | None = None) -> Mapping:
    """Read and check a mapping file; without a path, the built-in example mapping."""
    where = str(path) if path else BUILTIN_MAPPING
    try:
        if path is None:
            raw = resources.files("contract").joinpath("data", BUILTIN_MAPPING).read_bytes()
        else:
            raw = path.read_bytes()
        data = tomllib.loads(raw.decode("utf-8"))
        parsed = MappingFile.model_validate(data)
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, ValidationError) as exc:
        raise ConfigError(
            f"không đọc được bảng ánh xạ DHIS2 {where} / cannot read the DHIS2 mapping"
            f" {where}: {exc}"
        ) from exc
    return build(parsed, catalog, where)


def build(parsed: MappingFile, catalog: Catalog, source: str = "") -> Mapping:
    """Check a parsed mapping against the catalog and index it both ways."""
    problems: list[str] = []
    datasets: dict[str, DatasetMapping] = {}
    for code, spec in parsed.datasets.items():
        dataset = catalog.get(code)
        if dataset is None:
            problems.append(f"[datasets.{code}]: không có biểu mẫu này / no such dataset")
            continue
        datasets[code] = _dataset(dataset, spec, parsed, catalog, problems)
    seen: dict[str, str] = {}
    for d in datasets.values():
        if d.data_set in seen:
            problems.append(
                f"data_set {d.data_set!r}: dùng cho cả {seen[d.data_set]} và {d.dataset} /"
                f" is used by {seen[d.data_set]} and {d.dataset}"
            )
        seen[d.data_set] = d.dataset
    if problems:
        raise ConfigError(
            f"bảng ánh xạ DHIS2 {source} không hợp lệ / the DHIS2 mapping {source} is invalid:\n  "
            + "\n  ".join(problems)
        )
    codes = _codes(parsed)
    return Mapping(
        datasets,
        parsed.default_category_option_combo,
        source,
        examples=any(c.startswith(EXAMPLE_PREFIX) for c in codes),
    )


def _dataset(
    dataset: Dataset,
    spec: DatasetFile,
    parsed: MappingFile,
    catalog: Catalog,
    problems: list[str],
) -> DatasetMapping:
    where = f"[datasets.{dataset.code}]"
    for metric in spec.data_elements:
        if dataset.metric(metric) is None:
            problems.append(
                f"{where} data_elements.{metric}: không có chỉ tiêu này / unknown metric"
            )
    for key in spec.category_option_combos:
        problem = catalog.key_problem(dataset, key) if "." in key else "not a metric.option key"
        if problem:
            problems.append(
                f"{where} category_option_combos.{key}: không phải chỉ tiêu.nhóm của biểu mẫu"
                f" / {problem}"
            )
    targets: dict[str, Target] = {}
    unmapped: list[str] = []
    for key in catalog.value_keys(dataset):
        metric, _, option = key.partition(".")
        element = spec.data_elements.get(metric)
        combo = (
            spec.category_option_combos.get(key) or parsed.category_option_combos.get(option)
            if option
            else parsed.default_category_option_combo
        )
        if element is None or combo is None:
            unmapped.append(key)
        else:
            targets[key] = Target(element, combo)
    by_target: dict[Target, str] = {}
    for key, target in targets.items():
        if target in by_target:
            problems.append(
                f"{where} {by_target[target]} và {key} cùng ánh xạ tới / {by_target[target]}"
                f" and {key} both map to ({target.data_element},"
                f" {target.category_option_combo})"
            )
        by_target[target] = key
    return DatasetMapping(dataset.code, spec.data_set, targets, tuple(unmapped))


def _codes(parsed: MappingFile) -> Iterable[str]:
    yield parsed.default_category_option_combo
    yield from parsed.category_option_combos.values()
    for d in parsed.datasets.values():
        yield d.data_set
        yield from d.data_elements.values()
        yield from d.category_option_combos.values()
