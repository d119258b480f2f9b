"""What every section of the brief reads: the area, its units, the day and its instants."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from contract.datasets import Catalog
from sinks.brief import queries
from warehouse.client import Warehouse


@dataclass(frozen=True)
class Unit:
    """A unit of the area as ``units_current`` holds it."""

    unit_id: str
    name: str
    kind: str
    province_id: str
    district_id: str | None
    population: int | None
    by_age: Mapping[str, int]
    datasets: tuple[str, ...]
    active_from: date
    active_to: date | None

    def expected(self, dataset: str, day: date) -> bool:
        active = self.active_from <= day and (self.active_to is None or day <= self.active_to)
        return active and dataset in self.datasets


@dataclass(frozen=True)
class Context:
    """What every section reads: the area, its units, the day and its instants."""

    wh: Warehouse
    catalog: Catalog
    province_id: str | None
    day: date
    tz: ZoneInfo
    now: datetime
    deadlines: Mapping[str, datetime]
    units: Mapping[str, Unit]

    def params(self, **more: Any) -> dict[str, Any]:
        base: dict[str, Any] = {"day": self.day, "now": self.now.astimezone(UTC)}
        if self.province_id is not None:
            base["province"] = self.province_id
        return {**base, **more}

    def rows(self, template: str, kinds: tuple[str, ...] = (), **params: Any) -> list[Any]:
        area = queries.area_filter(self.province_id, kinds)
        text = queries.sql(template, area, self.deadlines)
        return self.wh.query_rows(text, self.params(**params))

    def name(self, unit_id: str | None) -> str:
        unit = self.units.get(unit_id or "")
        return unit.name if unit else (unit_id or "")

    def parent(self, unit_id: str) -> str:
        """The name that tells a unit apart: its district's, or nationally its province's."""
        unit = self.units.get(unit_id)
        if unit is None:
            return ""
        if self.province_id is None:
            return "" if unit.kind == "province" else self.name(unit.province_id)
        if unit.district_id and unit.district_id != unit.unit_id:
            return self.name(unit.district_id)
        return ""

    def expected(self, dataset: str) -> list[Unit]:
        return [u for u in self.units.values() if u.expected(dataset, self.day)]
