"""Registries of the whole country for load tests: every province, plus synthetic posts.

vietnamadminunits 1.0.4 holds, for the 2021-era hierarchy, 63 provinces, 696 districts
and 10,035 communes (10,040 rows: five island districts have no communes) and, for the
2025 hierarchy, 34 provinces and 3,321 communes. Real checkpoints exist only where
``data/checkpoints.toml`` names them, so a load test adds synthetic ones, marked as such
in their id (``CP-19-S01``), name and source.
"""

from __future__ import annotations

from typing import Literal

from unidecode import unidecode
from vietnamadminunits.database.main import query

from contract.errors import ConfigError
from contract.registry import Registry, Unit, UnitKind
from contract.registry_build import (
    FIRST_DAY_2025_ERA,
    LAST_DAY_2021_ERA,
    Hierarchy,
    build_registry,
)

ReportingLevel = Literal["district", "commune"]
MAX_SYNTHETIC = 99  # two digits in the id


def all_provinces(hierarchy: Hierarchy) -> list[str]:
    """Every province code of a hierarchy, as vietnamadminunits has them."""
    table = "admin_units_legacy" if hierarchy == "2021" else "admin_units"
    return sorted(r["provinceCode"] for r in query(f"SELECT DISTINCT provinceCode FROM {table}"))


def assignments(level: ReportingLevel) -> dict[UnitKind, list[str]]:
    """Which units report ``district-daily``: districts, or communes (no districts in 2025)."""
    return {
        UnitKind.PROVINCE: [],
        UnitKind.DISTRICT: ["district-daily"] if level == "district" else [],
        UnitKind.COMMUNE: ["district-daily"] if level == "commune" else [],
        UnitKind.CHECKPOINT: ["checkpoint-daily"],
    }


def synthetic_checkpoints(registry: Registry, per_province: int) -> list[Unit]:
    """``per_province`` posts in each province, spread evenly over its communes."""
    if not 0 <= per_province <= MAX_SYNTHETIC:
        raise ConfigError(
            f"synthetic checkpoints per province: 0..{MAX_SYNTHETIC}, not {per_province} / "
            f"số chốt giả lập mỗi tỉnh phải từ 0 đến {MAX_SYNTHETIC}"
        )
    posts: list[Unit] = []
    era_2025 = registry.hierarchy == "2025"
    for province in registry.filter(kind=UnitKind.PROVINCE):
        pid = province.unit_id
        places = (
            registry.filter(province=pid, kind=UnitKind.COMMUNE)
            or registry.filter(province=pid, kind=UnitKind.DISTRICT)
            or [province]
        )
        for n in range(per_province):
            place = places[n * len(places) // per_province]
            # A post hangs under a district in 2021; in 2025 there are none, so the province.
            parent = pid if era_2025 or place.kind == UnitKind.PROVINCE else place.district_id
            name = f"Chốt kiểm soát giả lập S{n + 1:02d} (kiểm thử tải), {place.name}"
            posts.append(
                Unit(
                    unit_id=f"CP-{pid}-S{n + 1:02d}",
                    name=name,
                    name_ascii=unidecode(name),
                    kind=UnitKind.CHECKPOINT,
                    parent_id=parent,
                    province_id=pid,
                    district_id=None if era_2025 else parent,
                    lat=place.lat,
                    lon=place.lon,
                    datasets=["checkpoint-daily"],
                    active_from=FIRST_DAY_2025_ERA if era_2025 else province.active_from,
                    active_to=None if era_2025 else LAST_DAY_2021_ERA,
                    source=f"synthetic, for load tests; placed at {place.name_ascii}",
                )
            )
    return posts


def build_national(
    hierarchy: Hierarchy = "2021",
    level: ReportingLevel | None = None,
    synthetic_per_province: int = 0,
    communes: bool = True,
) -> Registry:
    """The whole country in one hierarchy; by default districts report in 2021, communes in 2025."""
    level = level or ("district" if hierarchy == "2021" else "commune")
    if hierarchy == "2025" and level == "district":
        raise ConfigError(
            "the 2025 hierarchy has no districts: use --reporting-level commune / "
            "danh mục 2025 không còn cấp huyện: dùng --reporting-level commune"
        )
    if level == "commune" and not communes:
        raise ConfigError(
            "communes report, so they cannot be left out / cấp xã báo cáo nên phải có cấp xã"
        )
    base = build_registry(
        all_provinces(hierarchy), hierarchy, communes=communes, assignments=assignments(level)
    )
    extra = synthetic_checkpoints(base, synthetic_per_province)
    source = base.source + (
        f"; {synthetic_per_province} synthetic checkpoints per province" if extra else ""
    )
    order = list(UnitKind)  # the same stable order as build_registry's files
    units = sorted([*base, *extra], key=lambda u: (order.index(u.kind), u.unit_id))
    return Registry(units, hierarchy=hierarchy, source=source)
