"""Scenario files: real events from the directives, replayed by the simulator.

A scenario is plain data (TOML or JSON, see ``producers/scenarios/``): a date range,
exact case counts on given days, quiet periods without community cases, outbreak
waves and busier checkpoints. It is checked twice: its shape by pydantic, then its
units and dates against the registry it will be replayed on. Every problem is listed
at once, in Vietnamese and English.
"""

from __future__ import annotations

import json
import tomllib
from datetime import date, timedelta
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from contract.errors import ConfigError
from contract.registry import Registry, Unit, UnitKind
from producers.epidemic import CaseSplit, Overrides, Wave

CASES_DATASET = "district-daily"
CHECKPOINT_DATASET = "checkpoint-daily"


class ScenarioError(ConfigError):
    """A scenario file cannot be read, is malformed, or does not fit the registry."""


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, validate_by_name=True)


class _Period(_Entry):
    first: date = Field(alias="from")
    last: date = Field(alias="to")

    @model_validator(mode="after")
    def _ordered(self) -> _Period:
        if self.first > self.last:
            raise ValueError(f"'from' {self.first} sau 'to' {self.last} / 'from' is after 'to'")
        return self


class CaseEntry(_Entry):
    """Exact new cases in one unit (a commune rolls up to the unit that reports)."""

    date: date
    unit: str = Field(min_length=1)
    community: int = Field(0, ge=0, le=100_000)
    quarantined: int = Field(0, ge=0, le=100_000)
    unknown_source: int = Field(0, ge=0, le=100_000)


class QuietEntry(_Period):
    """Days a province had no community cases."""

    province: str = Field(min_length=1)


class WaveEntry(_Entry):
    """An outbreak wave in one reporting unit."""

    unit: str = Field(min_length=1)
    start: date
    days: int = Field(ge=1, le=120)
    peak_cases: float = Field(ge=0, le=100_000)
    community_share: float = Field(0.2, ge=0, le=1)


class SurgeEntry(_Period):
    """Checkpoints screening more people than usual (traffic x factor)."""

    units: list[str] = Field(min_length=1)
    factor: float = Field(gt=0, le=20)


class ScenarioFile(_Entry):
    """One scenario, as written in its file."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,63}$")
    title_vi: str = Field(min_length=1)
    title_en: str = Field(min_length=1)
    source: str = Field(min_length=1, description="where the facts come from")
    hierarchy: Literal["2021", "2025"] = "2021"
    start: date
    end: date
    seed: int = 7
    cases: list[CaseEntry] = Field(default_factory=list)
    quiet: list[QuietEntry] = Field(default_factory=list)
    waves: list[WaveEntry] = Field(default_factory=list)
    surges: list[SurgeEntry] = Field(default_factory=list)

    @model_validator(mode="after")
    def _within_range(self) -> ScenarioFile:
        if self.start > self.end:
            raise ValueError(f"start {self.start} sau end {self.end} / start is after end")
        if (self.end - self.start).days > 3660:
            raise ValueError("tối đa mười năm / a scenario spans at most ten years")
        for case in self.cases:
            if not self.start <= case.date <= self.end:
                raise ValueError(
                    f"ca bệnh ngày {case.date} nằm ngoài {self.start}..{self.end} / "
                    f"cases on {case.date} fall outside the scenario's days"
                )
        return self

    def days(self) -> list[date]:
        return [self.start + timedelta(days=n) for n in range((self.end - self.start).days + 1)]

    def overrides(self, registry: Registry) -> Overrides:
        """Resolve units and dates against ``registry``; raise ScenarioError listing all."""
        problems: list[str] = []
        out = Overrides()
        if registry.hierarchy and registry.hierarchy != self.hierarchy:
            problems.append(
                f"kịch bản dùng danh mục {self.hierarchy}, danh mục đang dùng là "
                f"{registry.hierarchy} / the scenario needs the {self.hierarchy} hierarchy, "
                f"the registry is {registry.hierarchy}"
            )
        for case in self.cases:
            _add_case(registry, case, out, problems)
        provinces = {u.province_id for u in registry}
        for quiet in self.quiet:
            if quiet.province not in provinces:
                problems.append(_unknown(quiet.province))
            out.quiet.append((quiet.province, quiet.first, quiet.last))
        for w in self.waves:
            unit = registry.get(w.unit)
            if unit is None or CASES_DATASET not in unit.datasets:
                problems.append(_not_reporting(w.unit, CASES_DATASET))
            wave = Wave(w.start, w.days, w.peak_cases, w.community_share)
            out.waves.setdefault(w.unit, []).append(wave)
        for surge in self.surges:
            for unit_id in surge.units:
                problems.extend(_check_post(registry.get(unit_id), unit_id, surge))
                out.surges.setdefault(unit_id, []).append((surge.first, surge.last, surge.factor))
        if problems:
            raise ScenarioError(_listing(self.id, problems))
        return out


def _unknown(unit_id: str) -> str:
    return f"{unit_id}: không có trong danh mục / not in the registry"


def _not_reporting(unit_id: str, dataset: str) -> str:
    return f"{unit_id}: không báo cáo {dataset} / does not report {dataset}"


def _reporting_unit(registry: Registry, unit: Unit, day: date) -> Unit | None:
    """The unit itself or its nearest ancestor that reports cases on ``day``."""
    current: Unit | None = unit
    while current is not None:
        if CASES_DATASET in current.datasets and current.is_active(day):
            return current
        current = registry.get(current.parent_id) if current.parent_id else None
    return None


def _add_case(registry: Registry, case: CaseEntry, out: Overrides, problems: list[str]) -> None:
    unit = registry.get(case.unit)
    if unit is None:
        problems.append(_unknown(case.unit))
        return
    reporter = _reporting_unit(registry, unit, case.date)
    if reporter is None:
        problems.append(
            f"{case.unit}: không có đơn vị nào báo cáo {CASES_DATASET} ngày {case.date} / "
            f"no unit reports {CASES_DATASET} for it on {case.date}"
        )
        return
    key = (reporter.unit_id, case.date)
    before = out.cases.get(key, CaseSplit())
    out.cases[key] = CaseSplit(
        before.community + case.community,
        before.quarantined + case.quarantined,
        before.unknown_source + case.unknown_source,
    )
    parts = [
        (n, vi, en)
        for n, vi, en in (
            (case.community, "ca cộng đồng", "community"),
            (case.quarantined, "ca đã cách ly", "in quarantine"),
            (case.unknown_source, "ca chưa rõ nguồn lây", "of unknown source"),
        )
        if n
    ]
    vi = ", ".join(f"{n} {what}" for n, what, _ in parts) or "0 ca"
    en = ", ".join(f"{n} {what}" for n, _, what in parts) + " cases" if parts else "no cases"
    # Name the commune: the unit that reports may be its district.
    line = f"{unit.name}: {vi} / {unit.name_ascii or unit.name}: {en}"
    previous = out.notes.get(key)
    out.notes[key] = f"{previous}; {line}" if previous else line


def _check_post(unit: Unit | None, unit_id: str, surge: SurgeEntry) -> list[str]:
    if unit is None:
        return [_unknown(unit_id)]
    if unit.kind != UnitKind.CHECKPOINT or CHECKPOINT_DATASET not in unit.datasets:
        return [_not_reporting(unit_id, CHECKPOINT_DATASET)]
    if not (unit.is_active(surge.first) and unit.is_active(surge.last)):
        return [
            f"{unit_id}: chốt không hoạt động suốt {surge.first}..{surge.last} / "
            f"the checkpoint is not active throughout {surge.first}..{surge.last}"
        ]
    return []


def _listing(name: str, problems: list[str]) -> str:
    lines = [f"kịch bản {name} không hợp lệ / scenario {name} is invalid:"]
    lines.extend(f"  - {p}" for p in problems)
    return "\n".join(lines)


# Vietnamese for pydantic's usual error types; the English is pydantic's own message.
_VI = {
    "missing": "thiếu trường bắt buộc",
    "extra_forbidden": "trường không được phép",
    "date_from_datetime_parsing": "ngày không hợp lệ (YYYY-MM-DD)",
    "date_parsing": "ngày không hợp lệ (YYYY-MM-DD)",
    "date_type": "ngày không hợp lệ (YYYY-MM-DD)",
    "int_parsing": "phải là số nguyên",
    "int_type": "phải là số nguyên",
    "greater_than_equal": "giá trị quá nhỏ",
    "greater_than": "giá trị quá nhỏ",
    "less_than_equal": "giá trị quá lớn",
    "string_pattern_mismatch": "sai định dạng",
    "string_too_short": "không được để trống",
    "too_short": "không được để trống",
    "literal_error": "giá trị không được hỗ trợ",
}


def _shape_problems(exc: ValidationError) -> list[str]:
    out = []
    for err in exc.errors(include_url=False):
        where = ".".join(str(p) for p in err["loc"]) or "(file)"
        if err["type"] == "value_error":  # our own validators speak both languages
            out.append(f"{where}: {err['ctx']['error']}")
        else:
            vi = _VI.get(err["type"], "giá trị không hợp lệ")
            out.append(f"{where}: {vi} / {err['msg']}")
    return out


def shipped() -> list[str]:
    """Ids of the scenarios shipped with baocao."""
    folder = resources.files("producers").joinpath("scenarios")
    return sorted(
        p.name.removesuffix(".toml") for p in folder.iterdir() if p.name.endswith(".toml")
    )


def _read(ref: str) -> tuple[str, str]:
    """Return (name, text) of a scenario file path or a shipped scenario id."""
    path = Path(ref)
    if path.suffix in (".toml", ".json") or path.exists():
        try:
            return str(path), path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ScenarioError(
                f"không đọc được kịch bản {ref} / cannot read scenario {ref}: {exc}"
            ) from exc
    if ref not in shipped():
        raise ScenarioError(
            f"không có kịch bản {ref!r} / no scenario {ref!r}; "
            f"có sẵn / shipped: {', '.join(shipped())}, hoặc đường dẫn tệp / or a file path"
        )
    text = resources.files("producers").joinpath("scenarios", f"{ref}.toml").read_text("utf-8")
    return ref, text


def load_scenario(ref: str) -> ScenarioFile:
    """Load a scenario from a .toml or .json path, or a shipped one by id."""
    name, text = _read(ref)
    try:
        data: Any = json.loads(text) if name.endswith(".json") else tomllib.loads(text)
    except (json.JSONDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ScenarioError(
            f"kịch bản {name} không đúng cú pháp / scenario {name} does not parse: {exc}"
        ) from exc
    try:
        return ScenarioFile.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(_listing(name, _shape_problems(exc))) from exc
