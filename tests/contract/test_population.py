"""Population per unit: the demo estimates, a province's own file, and area sums."""

from __future__ import annotations

from pathlib import Path

import pytest

from contract.errors import ConfigError
from contract.population import (
    AGE_BANDS,
    ConfigFileError,
    Population,
    area_population,
    area_populations,
    load_population,
)
from contract.registry import Registry, Unit, UnitKind


def _unit(unit_id: str, kind: UnitKind, parent: str | None, population: int | None = None) -> Unit:
    return Unit(
        unit_id=unit_id,
        name=f"Đơn vị {unit_id}",
        kind=kind,
        parent_id=parent,
        province_id="99",
        population=population,
    )


@pytest.fixture
def small() -> Registry:
    """A province with two districts, a commune in each and a checkpoint."""
    return Registry(
        [
            _unit("99", UnitKind.PROVINCE, None),
            _unit("991", UnitKind.DISTRICT, "99"),
            _unit("992", UnitKind.DISTRICT, "99"),
            _unit("99101", UnitKind.COMMUNE, "991"),
            _unit("99201", UnitKind.COMMUNE, "992"),
            _unit("CP-99-01", UnitKind.CHECKPOINT, "991"),
        ]
    )


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "dan-so.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_demo_estimates_cover_every_district_and_add_up(registry: Registry) -> None:
    pops = load_population(registry)
    for province in registry.filter(kind=UnitKind.PROVINCE):
        districts = registry.filter(province=province.unit_id, kind=UnitKind.DISTRICT)
        assert districts and all(d.unit_id in pops for d in districts)
        assert sum(pops[d.unit_id].total for d in districts) == province.population
        shown = pops[province.unit_id]
        assert shown.total == province.population  # the census figure, unchanged
        for pop in [shown, *(pops[d.unit_id] for d in districts)]:
            assert pop.estimated, "demo figures must be labelled as estimates"
            assert "ƯỚC TÍNH" in pop.source and "ESTIMATE" in pop.source.upper()
            assert set(pop.by_age) == set(AGE_BANDS)
            assert sum(pop.by_age.values()) == pop.total


def test_demo_district_shares_follow_the_stated_weights(registry: Registry) -> None:
    # Thành phố Thái Nguyên (21 wards, 11 communes) outweighs Võ Nhai (1 township, 14 communes).
    pops = load_population(registry)
    assert pops["164"].total > 2 * pops["170"].total
    adults = pops["173"].ages(["age_18_49", "age_50_64", "age_65_plus"])
    assert adults is not None and 0.70 < adults / pops["173"].total < 0.73


def test_a_province_file_overrides_the_registry_and_keeps_the_rest(
    small: Registry, tmp_path: Path
) -> None:
    registry = Registry([*small, _unit("98", UnitKind.PROVINCE, None, population=5000)])
    path = _write(
        tmp_path,
        "\ufeff# Số dân do tỉnh cung cấp\n"
        "unit_id,population,age_18_49,age_65_plus,source\n"
        "991,1200,600,,\n"
        "992,800,400,70,Cục Thống kê 2021\n",
    )
    pops = load_population(registry, path)
    assert pops["991"] == Population(1200, {"age_18_49": 600}, False, "dan-so.csv")
    assert pops["992"].by_age == {"age_18_49": 400, "age_65_plus": 70}
    assert pops["992"].source == "Cục Thống kê 2021"
    assert pops["98"].total == 5000 and not pops["98"].estimated  # from the registry
    assert "99101" not in pops


def test_an_area_is_the_sum_of_its_children_and_estimated_if_one_is(small: Registry) -> None:
    pops = {
        "991": Population(1000, {"age_18_49": 500, "age_65_plus": 80}, False, "a"),
        "992": Population(600, {"age_18_49": 300}, True, "b"),
    }
    province = area_population(pops, small, "99")
    assert province is not None
    assert province.total == 1600
    assert province.by_age == {"age_18_49": 800}  # a band only some children know is dropped
    assert province.estimated
    assert area_population(pops, small, "991") is pops["991"]  # its own figure first
    assert area_population(pops, small, "99101") is None
    assert area_populations(pops, small) == {"99": province, "991": pops["991"], "992": pops["992"]}


def test_an_area_with_a_child_of_unknown_population_has_none(small: Registry) -> None:
    pops = {"99101": Population(300, {}, False, "x")}
    assert area_population(pops, small, "991") == Population(
        300, {}, False, "tổng các đơn vị trực thuộc (1) / sum of the units below (1): x"
    )
    assert area_population(pops, small, "99") is None  # 992 has no figure: no partial sum


@pytest.mark.parametrize(
    ("text", "line", "column", "words"),
    [
        ("unit_id,population\n991,12.345\n", 2, 2, "12.345"),
        ("unit_id,population\n991,1000\n# note\n777,5\n", 4, 1, "777"),
        ("unit_id,population\n991,10\n991,20\n", 3, 1, "991"),
        ("unit_id,population,age_18_49\n991,100,150\n", 2, 2, "150"),
        ("unit_id,population,age_18_49,estimated\n991,100,50,maybe\n", 2, 4, "maybe"),
        ("unit_id,population,age_19_49\n991,100,50\n", 1, 3, "age_19_49"),
        ("unit_id,population,source,source\n991,1,a,b\n", 1, 4, "source"),
        ("unit,population\n991,1\n", 1, 1, "unit_id"),
        ("unit_id,population\n991,100,7\n", 2, 3, "3"),
        ("unit_id,population\n991,\n", 2, 2, "population"),
        ("# only a comment\n", 1, 1, "header"),
    ],
)
def test_bad_rows_name_the_file_line_and_column_in_both_languages(
    small: Registry, tmp_path: Path, text: str, line: int, column: int, words: str
) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(ConfigFileError) as caught:
        load_population(small, path)
    error = caught.value
    assert (error.line, error.column) == (line, column)
    assert str(path) in str(error)
    assert f"dòng {line}, cột {column}" in str(error)
    assert f"line {line}, column {column}" in str(error)
    assert words in str(error)


def test_a_missing_file_is_a_clear_error(small: Registry, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"không đọc được tệp dân số.*cannot read population"):
        load_population(small, tmp_path / "absent.csv")


def test_the_demo_estimates_leave_out_units_another_registry_lacks(small: Registry) -> None:
    # A worker on a province's own registry starts with the shipped demo estimates (the
    # deadline tests' three-district registry did, and crashed on the first unknown unit).
    pops = load_population(small)
    assert set(pops) <= {u.unit_id for u in small}
