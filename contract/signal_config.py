"""Surveillance signal rules per dataset, loaded from ``signals.toml``.

Four rules: ``quiet_days`` (first cases after N quiet days), ``unknown_source``, ``ewma``
(CDC NSSP-ESSENCE's EWMA) and ``ears_c2``. Every metric a rule names is checked against
the dataset catalog, so a typo fails at start-up, in Vietnamese and English, not at the
first report. ``streams/detectors.py`` evaluates the rules; docs/signals.md explains them.
"""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError, ValidationInfo, field_validator, model_validator

from contract.datasets import Catalog
from contract.errors import ConfigError
from contract.signal_rules import (
    RULE_NAMES,
    Bilingual,
    Config,
    EarsC2Rule,
    EwmaRule,
    QuietDaysRule,
    RuleConfig,
    Severity,
    UnknownSourceRule,
)

__all__ = [
    "EarsC2Rule",
    "EwmaRule",
    "QuietDaysRule",
    "RuleConfig",
    "Severity",
    "SignalConfig",
    "SignalConfigError",
    "UnknownSourceRule",
]

BUILTIN_SIGNALS = "signals.toml"


class SignalConfigError(ConfigError):
    """``signals.toml`` is invalid; says why in Vietnamese and in English."""

    def __init__(self, message_vi: str, message_en: str) -> None:
        self.message_vi = message_vi
        self.message_en = message_en
        super().__init__(f"{message_vi}\n{message_en}")


class DatasetSignals(Config):
    dataset: str
    rules: list[RuleConfig] = Field(default_factory=list)

    @field_validator("rules", mode="before")
    @classmethod
    def _known_rules(cls, raw: Any) -> Any:
        for i, item in enumerate(raw if isinstance(raw, list) else []):
            name = item.get("rule") if isinstance(item, dict) else None
            if name not in RULE_NAMES:
                known = ", ".join(RULE_NAMES)
                raise Bilingual(
                    f"quy tắc số {i + 1}: loại quy tắc {name!r} không tồn tại (có: {known})",
                    f"rule {i + 1}: unknown rule {name!r} (known: {known})",
                )
        return raw


class SignalConfig(Config):
    """Every dataset's signal rules; the whole of ``signals.toml``."""

    datasets: list[DatasetSignals] = Field(default_factory=list)

    @model_validator(mode="after")
    def _against_catalog(self, info: ValidationInfo) -> SignalConfig:
        context = info.context if isinstance(info.context, dict) else {}
        catalog = context.get("catalog") or Catalog.load()
        named: list[DatasetSignals] = []
        for ds in self.datasets:
            dataset = catalog.get(ds.dataset)
            if dataset is None:
                raise Bilingual(
                    f"bộ dữ liệu {ds.dataset!r} không có trong danh mục",
                    f"dataset {ds.dataset!r} is not in the catalog",
                )
            seen: set[tuple[str, str]] = set()
            rules: list[RuleConfig] = []
            for rule in ds.rules:
                where = f"{ds.dataset} {rule.rule} {rule.metric}"
                if (rule.rule, rule.metric) in seen:
                    raise Bilingual(f"{where}: khai báo hai lần", f"{where}: defined twice")
                seen.add((rule.rule, rule.metric))
                is_ratio = rule.is_ratio
                for code in rule.reads():
                    if dataset.metric(code) is None:
                        raise Bilingual(
                            f"{where}: chỉ tiêu {code!r} không có trong bộ dữ liệu {ds.dataset}",
                            f"{where}: unknown metric {code!r} for dataset {ds.dataset}",
                        )
                if is_ratio and dataset.metric(rule.metric) is not None:
                    raise Bilingual(
                        f"{where}: tên tỷ lệ trùng với một chỉ tiêu; đặt tên khác",
                        f"{where}: a ratio's name must not be a metric code; rename it",
                    )
                if is_ratio and not (rule.name_vi and rule.name_en):
                    raise Bilingual(
                        f"{where}: tỷ lệ cần name_vi và name_en",
                        f"{where}: a ratio needs name_vi and name_en",
                    )
                metric = dataset.metric(rule.metric)
                update: dict[str, str] = {}
                if metric is not None and not rule.name_vi:
                    update["name_vi"] = _lower_first(metric.name_vi)
                if metric is not None and not rule.name_en:
                    update["name_en"] = _lower_first(metric.name_en)
                rules.append(rule.model_copy(update=update) if update else rule)
            named.append(ds.model_copy(update={"rules": rules}))
        return self.model_copy(update={"datasets": named})

    @cached_property
    def _index(self) -> dict[str, list[RuleConfig]]:
        index: dict[str, list[RuleConfig]] = {}
        for ds in self.datasets:
            index.setdefault(ds.dataset, []).extend(r for r in ds.rules if r.enabled)
        return index

    def rules(self, dataset: str) -> list[RuleConfig]:
        """The enabled rules of ``dataset`` (none for a dataset without signals)."""
        return self._index.get(dataset, [])

    def metrics(self, dataset: str) -> set[str]:
        """Metric codes the enabled rules of ``dataset`` read."""
        return {code for rule in self.rules(dataset) for code in rule.reads()}

    @property
    def lookback_days(self) -> int:
        """Most days before an evaluated day that any enabled rule reads."""
        return max((r.reach() for rules in self._index.values() for r in rules), default=0)

    @classmethod
    def load(cls, path: Path | None = None, catalog: Catalog | None = None) -> SignalConfig:
        """Load the rules from a TOML file; without a path, the built-in ones."""
        where = str(path or BUILTIN_SIGNALS)
        try:
            if path is None:
                raw = resources.files("contract").joinpath("data", BUILTIN_SIGNALS).read_bytes()
            else:
                raw = path.read_bytes()
            data = tomllib.loads(raw.decode("utf-8"))
        except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise SignalConfigError(
                f"Không đọc được cấu hình tín hiệu {where}: {exc}",
                f"Cannot read the signal configuration {where}: {exc}",
            ) from exc
        try:
            return cls.model_validate(data, context={"catalog": catalog or Catalog.load()})
        except ValidationError as exc:
            raise _explain(where, exc.errors()) from exc


def _lower_first(name: str) -> str:
    """'Ca mắc mới (F0)' -> 'ca mắc mới (F0)'; an acronym ('RT-PCR …') stays as it is."""
    if len(name) > 1 and name[1].isupper():
        return name
    return name[:1].lower() + name[1:]


_VI_TYPES = {
    "missing": "thiếu trường bắt buộc",
    "extra_forbidden": "trường không được phép",
    "literal_error": "giá trị không thuộc các lựa chọn cho phép",
    "string_pattern_mismatch": "mã không hợp lệ (chữ thường, số, dấu gạch dưới)",
}


def _explain(where: str, errors: Sequence[Any]) -> SignalConfigError:
    """One line per problem, each in Vietnamese and English."""
    lines_vi: list[str] = []
    lines_en: list[str] = []
    for err in errors:
        loc = ".".join(str(p) for p in err["loc"])
        cause = (err.get("ctx") or {}).get("error")
        if isinstance(cause, Bilingual):
            vi, en = cause.vi, cause.en
        else:
            en = err["msg"]
            vi = f"{_VI_TYPES.get(err['type'], 'giá trị không hợp lệ')} ({err['msg']})"
        lines_vi.append(f"  - {loc or 'tệp'}: {vi}")
        lines_en.append(f"  - {loc or 'file'}: {en}")
    return SignalConfigError(
        f"Cấu hình tín hiệu {where} không hợp lệ:\n" + "\n".join(lines_vi),
        f"The signal configuration {where} is invalid:\n" + "\n".join(lines_en),
    )
