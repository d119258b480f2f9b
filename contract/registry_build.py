"""Build reporting-unit registries from the ``vietnamadminunits`` data, not by hand.

Two hierarchies: ``2021`` (province > district > commune, plus the COVID-19 checkpoints of
``data/checkpoints.toml``), valid until Vietnam abolished districts on 2025-07-01, and
``2025`` (province > commune) from that day on.
"""

from __future__ import annotations

import argparse
import tomllib
from collections.abc import Mapping
from datetime import date
from importlib import metadata, resources
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from unidecode import unidecode
from vietnamadminunits.database.main import query

from contract.errors import ConfigError
from contract.registry import Registry, Unit, UnitKind

Hierarchy = Literal["2021", "2025"]

# The provinces of the source directives: Thái Nguyên, Bắc Giang, Lạng Sơn, Lai Châu, Hải Dương.
DEMO_PROVINCES = ["19", "24", "20", "12", "30"]

DEFAULT_ASSIGNMENTS: dict[UnitKind, list[str]] = {
    UnitKind.PROVINCE: [],
    UnitKind.DISTRICT: ["district-daily"],
    UnitKind.COMMUNE: [],
    UnitKind.CHECKPOINT: ["checkpoint-daily"],
}

LAST_DAY_2021_ERA = date(2025, 6, 30)
FIRST_DAY_2025_ERA = date(2025, 7, 1)
_KIND_ORDER = list(UnitKind)


class CheckpointEntry(BaseModel):
    """One checkpoint as written in ``data/checkpoints.toml``."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^CP-\d{2}-\d{2}$")
    name: str = Field(min_length=1)
    commune: str = Field(description="2021-era GSO ward code of the commune it sits in")
    road: str = ""
    lat: float | None = None
    lon: float | None = None
    active_from: date
    active_to: date | None = None


def _load_toml(name: str) -> dict[str, Any]:
    """Read a TOML file shipped in ``contract/data``."""
    try:
        with resources.files("contract").joinpath("data", name).open("rb") as fh:
            return tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read contract/data/{name}: {exc}") from exc


def load_checkpoints() -> list[CheckpointEntry]:
    """Load the checkpoint definitions."""
    entries = _load_toml("checkpoints.toml").get("checkpoint", [])
    try:
        return [CheckpointEntry.model_validate(entry) for entry in entries]
    except ValidationError as exc:
        raise ConfigError(f"contract/data/checkpoints.toml is invalid: {exc}") from exc


def load_population() -> dict[str, int]:
    """Load 2021-era province population totals, keyed by province code."""
    table = _load_toml("population.toml").get("province", {})
    return {str(code): int(total) for code, total in table.items()}


def _source(hierarchy: Hierarchy) -> str:
    return f"vietnamadminunits {metadata.version('vietnamadminunits')} ({hierarchy}-era)"


def _check_provinces(provinces: list[str], table: str) -> None:
    """Raise ConfigError naming the valid codes if any province code is unknown."""
    valid = sorted({r["provinceCode"] for r in query(f"SELECT DISTINCT provinceCode FROM {table}")})
    unknown = [p for p in provinces if p not in valid]
    if unknown:
        raise ConfigError(
            f"unknown province code(s) {', '.join(unknown)} / mã tỉnh không hợp lệ; "
            f"valid codes in table {table}: {', '.join(valid)}"
        )


def _rows(table: str, provinces: list[str]) -> list[dict[str, Any]]:
    # Codes are validated against the data first, so inlining them in SQL is safe.
    codes = ", ".join(f"'{p}'" for p in provinces)
    rows: list[dict[str, Any]] = query(f"SELECT * FROM {table} WHERE provinceCode IN ({codes})")
    return rows


def _unit(name: str, **fields: Any) -> Unit:
    return Unit(name=name, name_ascii=unidecode(name), **fields)


def _build_2021(
    provinces: list[str], communes: bool, checkpoints: bool, assign: Mapping[UnitKind, list[str]]
) -> list[Unit]:
    source = _source("2021")
    population = load_population()
    # A 2021 province lives on after 2025-07-01 only if its code still names the same
    # province (Bắc Giang's code 24 now belongs to the merged Bắc Ninh).
    continuing = {
        (r["provinceCode"], r["provinceShort"])
        for r in query("SELECT DISTINCT provinceCode, provinceShort FROM admin_units")
    }
    units: dict[str, Unit] = {}
    wards: dict[str, dict[str, Any]] = {}
    for r in _rows("admin_units_legacy", provinces):
        pcode, dcode, wcode = r["provinceCode"], r["districtCode"], r["wardCode"]
        if pcode not in units:
            ends = None if (pcode, r["provinceShort"]) in continuing else LAST_DAY_2021_ERA
            units[pcode] = _unit(
                r["province"], unit_id=pcode, kind=UnitKind.PROVINCE, province_id=pcode,
                population=population.get(pcode), lat=r["provinceLat"], lon=r["provinceLon"],
                datasets=list(assign.get(UnitKind.PROVINCE, [])), active_to=ends, source=source,
            )  # fmt: skip
        if dcode not in units:
            units[dcode] = _unit(
                r["district"], unit_id=dcode, kind=UnitKind.DISTRICT, parent_id=pcode,
                province_id=pcode, district_id=dcode, lat=r["districtLat"], lon=r["districtLon"],
                datasets=list(assign.get(UnitKind.DISTRICT, [])), active_to=LAST_DAY_2021_ERA,
                source=source,
            )  # fmt: skip
        if wcode is None:  # island districts have no communes
            continue
        wards[wcode] = r
        if communes:
            units[wcode] = _unit(
                r["ward"], unit_id=wcode, kind=UnitKind.COMMUNE, parent_id=dcode,
                province_id=pcode, district_id=dcode, lat=r["wardLat"], lon=r["wardLon"],
                datasets=list(assign.get(UnitKind.COMMUNE, [])), active_to=LAST_DAY_2021_ERA,
                source=source,
            )  # fmt: skip
    if checkpoints:
        for cp in load_checkpoints():
            ward = wards.get(cp.commune)
            if ward is None:
                if cp.id[3:5] in provinces:
                    raise ConfigError(f"checkpoint {cp.id}: unknown commune {cp.commune}")
                continue  # its province is not being built
            units[cp.id] = _unit(
                cp.name, unit_id=cp.id, kind=UnitKind.CHECKPOINT,
                parent_id=ward["districtCode"], province_id=ward["provinceCode"],
                district_id=ward["districtCode"],
                lat=ward["wardLat"] if cp.lat is None else cp.lat,
                lon=ward["wardLon"] if cp.lon is None else cp.lon,
                datasets=list(assign.get(UnitKind.CHECKPOINT, [])),
                active_from=cp.active_from, active_to=cp.active_to,
                source=f"checkpoints.toml; coordinates of {ward['ward']} from {source}",
            )  # fmt: skip
    return list(units.values())


def _build_2025(
    provinces: list[str], communes: bool, assign: Mapping[UnitKind, list[str]]
) -> list[Unit]:
    source = _source("2025")
    units: dict[str, Unit] = {}
    for r in _rows("admin_units", provinces):
        pcode = r["provinceCode"]
        if pcode not in units:
            units[pcode] = _unit(
                r["province"], unit_id=pcode, kind=UnitKind.PROVINCE, province_id=pcode,
                lat=r["provinceLat"], lon=r["provinceLon"],
                datasets=list(assign.get(UnitKind.PROVINCE, [])),
                active_from=FIRST_DAY_2025_ERA, source=source,
            )  # fmt: skip
        if communes:
            units[r["wardCode"]] = _unit(
                r["ward"], unit_id=r["wardCode"], kind=UnitKind.COMMUNE, parent_id=pcode,
                province_id=pcode, lat=r["wardLat"], lon=r["wardLon"],
                datasets=list(assign.get(UnitKind.COMMUNE, [])),
                active_from=FIRST_DAY_2025_ERA, source=source,
            )  # fmt: skip
    return list(units.values())


def build_registry(
    provinces: list[str],
    hierarchy: Hierarchy = "2021",
    communes: bool = True,
    checkpoints: bool = True,
    assignments: Mapping[UnitKind, list[str]] = DEFAULT_ASSIGNMENTS,
) -> Registry:
    """Build the registry of the given provinces (GSO codes) in one hierarchy."""
    if hierarchy == "2021":
        _check_provinces(provinces, "admin_units_legacy")
        units = _build_2021(provinces, communes, checkpoints, assignments)
        extra = "; population: 2019 census, GSO"
        extra += "; checkpoints: checkpoints.toml" if checkpoints else ""
    elif hierarchy == "2025":
        # The 2021 checkpoints sit in districts that no longer exist: none in 2025.
        _check_provinces(provinces, "admin_units")
        units = _build_2025(provinces, communes, assignments)
        extra = ""
    else:
        raise ConfigError(f"unknown hierarchy {hierarchy!r}; expected '2021' or '2025'")
    # Stable order so the generated file only changes when the data does.
    units.sort(key=lambda u: (_KIND_ORDER.index(u.kind), u.unit_id))
    return Registry(units, hierarchy=hierarchy, source=_source(hierarchy) + extra)


def main(argv: list[str] | None = None) -> None:
    """Write a registry file (``python -m contract.registry_build --out PATH``)."""
    parser = argparse.ArgumentParser(description="Write a baocao reporting-unit registry file.")
    parser.add_argument("--out", type=Path, required=True, help="registry JSON file to write")
    parser.add_argument("--province", action="append", help="GSO province code (repeatable)")
    parser.add_argument("--hierarchy", choices=["2021", "2025"], default="2021")
    parser.add_argument("--no-communes", action="store_true", help="provinces and districts only")
    parser.add_argument("--no-checkpoints", action="store_true")
    args = parser.parse_args(argv)
    registry = build_registry(
        args.province or DEMO_PROVINCES,
        hierarchy=args.hierarchy,
        communes=not args.no_communes,
        checkpoints=not args.no_checkpoints,
    )
    registry.dump(args.out)
    print(f"wrote {len(registry)} units to {args.out}")


if __name__ == "__main__":
    main()
