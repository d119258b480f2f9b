"""The reporting-unit registry: who reports, where they are, and when they exist.

The hierarchy is versioned, not overwritten: Vietnam abolished districts on 2025-07-01,
so a 2021-era district carries ``active_to = 2025-06-30`` and is never expected after.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from datetime import date
from enum import StrEnum
from importlib import resources
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from contract.errors import ConfigError

DEMO_REGISTRY = "registry-demo.json"


class UnitKind(StrEnum):
    PROVINCE = "province"
    DISTRICT = "district"
    COMMUNE = "commune"
    CHECKPOINT = "checkpoint"


class Unit(BaseModel):
    """One reporting unit (an administrative unit or a checkpoint)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    unit_id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9-]{0,31}$")
    name: str = Field(min_length=1, description="official Vietnamese name")
    name_ascii: str = Field("", description="name without diacritics, for search and English")
    kind: UnitKind
    parent_id: str | None = None
    province_id: str
    district_id: str | None = None
    population: int | None = Field(None, ge=0)
    population_by_age: dict[str, int] = Field(default_factory=dict)
    lat: float | None = Field(None, ge=-90, le=90)
    lon: float | None = Field(None, ge=-180, le=180)
    datasets: list[str] = Field(default_factory=list, description="datasets it must report")
    active_from: date = date(2000, 1, 1)
    active_to: date | None = None
    source: str = Field("", description="where the record comes from")

    def is_active(self, day: date) -> bool:
        return self.active_from <= day and (self.active_to is None or day <= self.active_to)


class RegistryFile(BaseModel):
    """The on-disk form of a registry."""

    model_config = ConfigDict(extra="forbid")

    hierarchy: str = Field(description="e.g. '2021' (with districts) or '2025'")
    source: str = ""
    units: list[Unit]


class Registry:
    """Look units up by id, by province and by parent."""

    def __init__(self, units: Iterable[Unit], hierarchy: str = "", source: str = "") -> None:
        self.hierarchy = hierarchy
        self.source = source
        self._units: dict[str, Unit] = {}
        for unit in units:
            if unit.unit_id in self._units:
                raise ConfigError(f"unit {unit.unit_id} appears twice in the registry")
            self._units[unit.unit_id] = unit
        for unit in self._units.values():
            if unit.parent_id is not None and unit.parent_id not in self._units:
                raise ConfigError(f"unit {unit.unit_id}: parent {unit.parent_id} is not registered")

    def __len__(self) -> int:
        return len(self._units)

    def __iter__(self) -> Iterator[Unit]:
        return iter(self._units.values())

    def __contains__(self, unit_id: object) -> bool:
        return unit_id in self._units

    def get(self, unit_id: str) -> Unit | None:
        return self._units.get(unit_id)

    def children(self, unit_id: str) -> list[Unit]:
        return [u for u in self._units.values() if u.parent_id == unit_id]

    def filter(
        self, province: str | None = None, kind: UnitKind | None = None, on: date | None = None
    ) -> list[Unit]:
        """Units of one province and/or kind, optionally only those active on a day."""
        return [
            u
            for u in self._units.values()
            if (province is None or u.province_id == province)
            and (kind is None or u.kind == kind)
            and (on is None or u.is_active(on))
        ]

    def expected(self, dataset: str, day: date) -> list[Unit]:
        """Units that must report ``dataset`` for ``day`` (active and assigned)."""
        return [u for u in self._units.values() if dataset in u.datasets and u.is_active(day)]

    def to_file(self) -> RegistryFile:
        return RegistryFile(hierarchy=self.hierarchy, source=self.source, units=list(self))

    def dump(self, path: Path) -> None:
        text = self.to_file().model_dump_json(indent=1, exclude_defaults=False)
        path.write_text(text + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: Path | None = None) -> Registry:
        """Load a registry file; without a path, the demo registry shipped with baocao."""
        try:
            if path is None:
                text = (
                    resources.files("contract").joinpath("data", DEMO_REGISTRY).read_text("utf-8")
                )
            else:
                text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"cannot read registry {path}: {exc}") from exc
        try:
            data = RegistryFile.model_validate(json.loads(text))
        except (ValueError, ValidationError) as exc:
            raise ConfigError(f"registry {path or DEMO_REGISTRY} is invalid: {exc}") from exc
        return cls(data.units, hierarchy=data.hierarchy, source=data.source)
