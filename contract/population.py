"""Population per reporting unit: what case rates and vaccine coverage are measured against.

A province provides a CSV file (``unit_id,population`` then optional age bands,
``estimated`` and ``source``). The registry's own figures (the 2019 census for
provinces) fill the units a file leaves out; a file's row wins over the registry.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from importlib import resources
from pathlib import Path

from contract.errors import ConfigError
from contract.registry import Registry, Unit, UnitKind

DEMO_POPULATION = "population-demo.csv"
# The dataset's age options (contract/data/datasets.toml), plus the children too young
# for any of them, so that bands can add up to the total.
AGE_BANDS = ("age_0_11", "age_12_14", "age_15_17", "age_18_49", "age_50_64", "age_65_plus")
REQUIRED_COLUMNS = ("unit_id", "population")
OPTIONAL_COLUMNS = (*AGE_BANDS, "estimated", "source")
_YES = {"1", "true", "yes", "có", "x"}
_NO = {"0", "false", "no", "không", ""}


class ConfigFileError(ConfigError):
    """A configuration file is invalid at a known place (line and column, 1-based)."""

    def __init__(self, path: str, line: int, column: int, message_vi: str, message_en: str) -> None:
        self.path = path
        self.line = line
        self.column = column
        self.message_vi = message_vi
        self.message_en = message_en
        super().__init__(
            f"{path}: dòng {line}, cột {column}: {message_vi} / "
            f"line {line}, column {column}: {message_en}"
        )


@dataclass(frozen=True)
class Population:
    """People living in one unit, in total and by age band where known."""

    total: int
    by_age: Mapping[str, int]
    estimated: bool
    source: str

    def ages(self, bands: Iterable[str]) -> int | None:
        """The people in ``bands`` together; None when any of them is unknown."""
        counts = [self.by_age.get(band) for band in bands]
        return None if any(c is None for c in counts) else sum(c for c in counts if c)


def load_population(registry: Registry, path: Path | None = None) -> dict[str, Population]:
    """Population by unit id: the registry's figures overlaid with a CSV file's rows.

    Without a path, the demo estimates shipped in ``contract/data``, for the units of the
    registry they know (a province's own registry may hold none of them); a file the
    province gives must name only registered units.
    """
    pops = {
        u.unit_id: Population(
            total=u.population,
            by_age=dict(u.population_by_age),
            estimated=False,
            source=u.source or registry.source or "registry",
        )
        for u in registry
        if u.population is not None
    }
    try:
        if path is None:
            name = f"contract/data/{DEMO_POPULATION}"
            text = resources.files("contract").joinpath("data", DEMO_POPULATION).read_text("utf-8")
        else:
            name = str(path)
            text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(
            f"không đọc được tệp dân số {path or DEMO_POPULATION} / "
            f"cannot read population file {path or DEMO_POPULATION}: {exc}"
        ) from exc
    pops.update(parse_population(text, name, registry, strict=path is not None))
    return pops


def parse_population(
    text: str, name: str, registry: Registry, strict: bool = True
) -> dict[str, Population]:
    """Read population rows from CSV text; ``name`` is how errors refer to the file.

    ``strict``: a unit the registry lacks is an error; otherwise its row is left out.
    """
    header: list[str] | None = None
    out: dict[str, Population] = {}
    for lineno, line in enumerate(text.lstrip("\ufeff").splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        fields = [f.strip() for f in next(csv.reader([line]))]
        if header is None:
            header = _check_header(fields, name, lineno)
            continue
        unit_id, pop = _parse_row(
            dict(zip(header, fields, strict=False)), header, fields, name, lineno
        )
        if registry.get(unit_id) is None:
            if not strict:
                continue
            raise ConfigFileError(
                name,
                lineno,
                1,
                f"đơn vị {unit_id!r} không có trong danh mục",
                f"unit {unit_id!r} is not in the registry",
            )
        if unit_id in out:
            raise ConfigFileError(
                name,
                lineno,
                1,
                f"đơn vị {unit_id} xuất hiện hai lần",
                f"unit {unit_id} appears twice",
            )
        out[unit_id] = pop
    if header is None or (strict and not out):
        raise ConfigFileError(
            name,
            1,
            1,
            "tệp không có dòng tiêu đề hoặc không có dữ liệu",
            "the file has no header or no data rows",
        )
    return out


def _check_header(fields: list[str], name: str, lineno: int) -> list[str]:
    for col, (want, got) in enumerate(
        zip(REQUIRED_COLUMNS, [*fields, "", ""], strict=False), start=1
    ):
        if got != want:
            raise ConfigFileError(
                name,
                lineno,
                col,
                f"cột {col} phải là {want!r}, không phải {got!r}",
                f"column {col} must be {want!r}, not {got!r}",
            )
    for col, field in enumerate(fields, start=1):
        if col > len(REQUIRED_COLUMNS) and field not in OPTIONAL_COLUMNS:
            raise ConfigFileError(
                name,
                lineno,
                col,
                f"cột không biết {field!r}; dùng: {', '.join(OPTIONAL_COLUMNS)}",
                f"unknown column {field!r}; use: {', '.join(OPTIONAL_COLUMNS)}",
            )
        if fields.index(field) != col - 1:
            raise ConfigFileError(
                name, lineno, col, f"cột {field!r} lặp lại", f"column {field!r} is repeated"
            )
    return fields


def _parse_row(
    row: dict[str, str], header: list[str], fields: list[str], name: str, lineno: int
) -> tuple[str, Population]:
    if len(fields) != len(header):
        raise ConfigFileError(
            name,
            lineno,
            min(len(fields), len(header)) + 1,
            f"có {len(fields)} cột, tiêu đề có {len(header)}",
            f"{len(fields)} columns where the header has {len(header)}",
        )

    def count(column: str) -> int | None:
        raw = row[column]
        if raw == "" and column != "population":
            return None  # an age band left blank is unknown, never 0
        if not raw.isdigit():
            raise ConfigFileError(
                name,
                lineno,
                header.index(column) + 1,
                f"{column} = {raw!r}: cần số nguyên không âm, không có dấu phân cách",
                f"{column} = {raw!r}: expected a whole number >= 0 without separators",
            )
        return int(raw)

    total = count("population")
    assert total is not None
    by_age = {b: n for b in AGE_BANDS if b in row and (n := count(b)) is not None}
    if sum(by_age.values()) > total:
        raise ConfigFileError(
            name,
            lineno,
            header.index("population") + 1,
            f"tổng các nhóm tuổi ({sum(by_age.values())}) lớn hơn dân số ({total})",
            f"the age bands add up to {sum(by_age.values())}, more than the population {total}",
        )
    flag = row.get("estimated", "").lower()
    if flag not in _YES | _NO:
        raise ConfigFileError(
            name,
            lineno,
            header.index("estimated") + 1,
            f"estimated = {flag!r}: dùng 1 (ước tính) hoặc 0",
            f"estimated = {flag!r}: use 1 (an estimate) or 0",
        )
    source = row.get("source") or Path(name).name
    return row["unit_id"], Population(total, by_age, flag in _YES, source)


def area_population(
    pops: Mapping[str, Population], registry: Registry, unit_id: str, on: date | None = None
) -> Population | None:
    """The unit's own figure, else the sum of its children's (estimated if any part is).

    Scans the registry once per call: for every unit at once, use ``area_populations``.
    """
    return _Areas(pops, registry, on).of(unit_id)


def area_populations(
    pops: Mapping[str, Population], registry: Registry, on: date | None = None
) -> dict[str, Population]:
    """``area_population`` for every unit that has one, in one pass over the registry."""
    areas = _Areas(pops, registry, on)
    return {u.unit_id: p for u in registry if (p := areas.of(u.unit_id)) is not None}


class _Areas:
    """Sums children bottom-up, each unit once; checkpoints are posts, not areas."""

    def __init__(self, pops: Mapping[str, Population], registry: Registry, on: date | None):
        self._pops = pops
        self._children: dict[str, list[Unit]] = {}
        for u in registry:
            is_area = u.kind != UnitKind.CHECKPOINT and (on is None or u.is_active(on))
            if u.parent_id is not None and is_area:
                self._children.setdefault(u.parent_id, []).append(u)
        self._done: dict[str, Population | None] = {}

    def of(self, unit_id: str) -> Population | None:
        if unit_id in self._pops:
            return self._pops[unit_id]
        if unit_id not in self._done:
            self._done[unit_id] = None  # a cycle, if the registry ever had one, ends here
            parts = [self.of(c.unit_id) for c in self._children.get(unit_id, [])]
            self._done[unit_id] = _sum(parts) if parts else None
        return self._done[unit_id]


def _sum(parts: list[Population | None]) -> Population | None:
    # A partial sum would understate the denominator and inflate every rate.
    if any(p is None for p in parts):
        return None
    known = [p for p in parts if p is not None]
    bands = set.intersection(*(set(p.by_age) for p in known))
    sources = sorted({p.source for p in known})
    return Population(
        total=sum(p.total for p in known),
        by_age={b: sum(p.by_age[b] for p in known) for b in AGE_BANDS if b in bands},
        estimated=any(p.estimated for p in known),
        source=f"tổng các đơn vị trực thuộc ({len(known)}) / sum of the units below "
        f"({len(known)}): " + "; ".join(sources),
    )
