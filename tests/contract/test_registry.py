"""The reporting-unit registry built from vietnamadminunits, and the shipped demo file."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from vietnamadminunits.database.main import query

from contract.errors import ConfigError
from contract.registry import Registry, UnitKind
from contract.registry_build import DEMO_PROVINCES, build_registry

DEMO_NAMES = {
    "19": "Tỉnh Thái Nguyên",
    "24": "Tỉnh Bắc Giang",
    "20": "Tỉnh Lạng Sơn",
    "12": "Tỉnh Lai Châu",
    "30": "Tỉnh Hải Dương",
}


@pytest.fixture(scope="module")
def demo() -> Registry:
    return Registry.load()


def _district_codes(provinces: list[str]) -> set[str]:
    """District codes of the provinces, read straight from the source data."""
    rows = query("SELECT DISTINCT provinceCode, districtCode FROM admin_units_legacy")
    return {r["districtCode"] for r in rows if r["provinceCode"] in provinces}


def test_demo_registry_has_the_five_provinces(demo: Registry) -> None:
    provinces = demo.filter(kind=UnitKind.PROVINCE)
    assert {u.unit_id: u.name for u in provinces} == DEMO_NAMES
    assert all(u.parent_id is None and u.population for u in provinces)
    assert demo.hierarchy == "2021"


def test_phu_binh_is_a_district_of_thai_nguyen(demo: Registry) -> None:
    phu_binh = demo.get("173")
    assert phu_binh is not None
    assert phu_binh.name == "Huyện Phú Bình" and phu_binh.name_ascii == "Huyen Phu Binh"
    assert phu_binh.kind == UnitKind.DISTRICT and phu_binh.parent_id == "19"
    assert phu_binh.lat is not None and 21 < phu_binh.lat < 22
    assert phu_binh.lon is not None and 105 < phu_binh.lon < 107
    dinh_lap = demo.get("189")
    assert dinh_lap is not None and dinh_lap.name == "Huyện Đình Lập" and dinh_lap.parent_id == "20"


def test_lang_son_checkpoints_are_in_dinh_lap(demo: Registry) -> None:
    posts = demo.filter(province="20", kind=UnitKind.CHECKPOINT)
    assert sorted(u.unit_id for u in posts) == ["CP-20-01", "CP-20-02", "CP-20-03"]
    for post in posts:
        assert post.parent_id == "189" and post.district_id == "189"
        assert post.datasets == ["checkpoint-daily"]
        assert post.lat is not None and post.lon is not None


def test_lai_chau_has_four_checkpoints(demo: Registry) -> None:
    assert len(demo.filter(province="12", kind=UnitKind.CHECKPOINT)) == 4


def test_checkpoints_sit_in_a_district_of_their_province(demo: Registry) -> None:
    for post in demo.filter(kind=UnitKind.CHECKPOINT):
        district = demo.get(post.parent_id or "")
        assert district is not None and district.kind == UnitKind.DISTRICT
        assert district.province_id == post.province_id == post.unit_id[3:5]


def test_districts_report_daily_and_communes_do_not(demo: Registry) -> None:
    assert all(u.datasets == ["district-daily"] for u in demo.filter(kind=UnitKind.DISTRICT))
    communes = demo.filter(kind=UnitKind.COMMUNE)
    assert communes and all(u.datasets == [] for u in communes)
    assert all(demo.get(u.parent_id or "") is not None for u in communes)


def test_every_demo_district_is_expected_in_2021(demo: Registry) -> None:
    expected = demo.expected("district-daily", date(2021, 7, 27))
    assert {u.unit_id for u in expected} == _district_codes(DEMO_PROVINCES)


def test_no_2021_district_is_expected_after_the_2025_reform(demo: Registry) -> None:
    for registry in (demo, build_registry(["20"], communes=False)):
        assert registry.expected("district-daily", date(2025, 7, 2)) == []
        assert registry.expected("district-daily", date(2025, 6, 30))
    communes = build_registry(["20"]).filter(kind=UnitKind.COMMUNE, on=date(2025, 7, 2))
    assert communes == []


def test_merged_provinces_end_and_continuing_ones_do_not(demo: Registry) -> None:
    ended = {u.unit_id for u in demo.filter(kind=UnitKind.PROVINCE) if u.active_to}
    assert ended == {"24", "30"}  # Bắc Giang and Hải Dương were merged away on 2025-07-01


def test_checkpoints_are_expected_only_while_posts_ran(demo: Registry) -> None:
    assert len(demo.expected("checkpoint-daily", date(2021, 7, 27))) == 10
    assert demo.expected("checkpoint-daily", date(2023, 1, 1)) == []


def test_committed_demo_file_is_not_stale(tmp_path: Path) -> None:
    shipped = Path(__file__).parents[2] / "contract" / "data" / "registry-demo.json"
    fresh = tmp_path / "registry-demo.json"
    build_registry(DEMO_PROVINCES).dump(fresh)
    assert shipped.read_text("utf-8") == fresh.read_text("utf-8"), (
        "regenerate: python -m contract.registry_build --out contract/data/registry-demo.json"
    )


def test_unknown_province_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"code\(s\) 99 .*valid codes.* 19,"):
        build_registry(["19", "99"])
    with pytest.raises(ConfigError, match=r"code\(s\) 30 "):
        build_registry(["30"], hierarchy="2025")  # Hải Dương no longer exists


def test_2025_hierarchy_has_communes_under_the_province() -> None:
    registry = build_registry(["19"], hierarchy="2025")
    assert registry.hierarchy == "2025"
    assert registry.filter(kind=UnitKind.DISTRICT) == []
    assert registry.filter(kind=UnitKind.CHECKPOINT) == []
    communes = registry.filter(kind=UnitKind.COMMUNE)
    assert len(communes) == len(query("SELECT wardCode FROM admin_units WHERE provinceCode = '19'"))
    assert all(u.parent_id == "19" and u.active_from == date(2025, 7, 1) for u in communes)
    assert len(registry.expected("district-daily", date(2025, 7, 2))) == 0


def test_filter_by_province_and_kind() -> None:
    registry = build_registry(["19", "20"], communes=False)
    assert {u.unit_id for u in registry.filter(province="19", kind=UnitKind.DISTRICT)} == (
        _district_codes(["19"])
    )
    assert registry.filter(kind=UnitKind.COMMUNE) == []
    assert {u.province_id for u in registry.filter(kind=UnitKind.CHECKPOINT)} == {"19", "20"}
    assert all(u.province_id == "20" for u in registry.filter(province="20"))


def test_output_order_is_by_kind_then_id() -> None:
    units = list(build_registry(["20", "19"]))
    order = list(UnitKind)
    keys = [(order.index(u.kind), u.unit_id) for u in units]
    assert keys == sorted(keys)
