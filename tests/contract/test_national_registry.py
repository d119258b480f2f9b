"""The whole country's registries (2021 and 2025 hierarchies) for load tests."""

from __future__ import annotations

from collections import Counter
from datetime import date
from zoneinfo import ZoneInfo

import pytest
from vietnamadminunits.database.main import query

from contract.datasets import Catalog
from contract.errors import ConfigError
from contract.registry import Registry, UnitKind
from contract.registry_national import build_national
from producers.simulator import simulate


def kinds(registry: Registry) -> Counter[str]:
    return Counter(u.kind.value for u in registry)


@pytest.fixture(scope="module")
def national_2021() -> Registry:
    return build_national("2021", synthetic_per_province=2)


@pytest.fixture(scope="module")
def national_2025() -> Registry:
    return build_national("2025", synthetic_per_province=1)


def test_2021_has_every_province_district_and_commune(national_2021: Registry) -> None:
    source = query(
        "SELECT count(DISTINCT provinceCode) p, count(DISTINCT districtCode) d, "
        "count(DISTINCT wardCode) w FROM admin_units_legacy"
    )[0]
    # Measured from vietnamadminunits 1.0.4: five island districts have no commune.
    assert (source["p"], source["d"], source["w"]) == (63, 696, 10_035)
    assert kinds(national_2021) == {
        "province": 63,
        "district": 696,
        "commune": 10_035,
        "checkpoint": 10 + 63 * 2,  # the real posts plus two synthetic ones per province
    }
    on = date(2021, 7, 27)
    assert len(national_2021.expected("district-daily", on)) == 696
    assert len(national_2021.expected("checkpoint-daily", on)) == 136
    assert national_2021.expected("district-daily", date(2025, 7, 1)) == []


def test_2025_has_34_provinces_whose_communes_report(national_2025: Registry) -> None:
    assert kinds(national_2025) == {"province": 34, "commune": 3_321, "checkpoint": 34}
    assert national_2025.hierarchy == "2025"
    assert len(national_2025.expected("district-daily", date(2025, 7, 2))) == 3_321
    assert national_2025.expected("district-daily", date(2025, 6, 30)) == []
    posts = national_2025.filter(kind=UnitKind.CHECKPOINT)
    assert all(p.parent_id == p.province_id and p.district_id is None for p in posts)


def test_synthetic_checkpoints_are_marked_and_sit_in_their_province(
    national_2021: Registry,
) -> None:
    synthetic = [u for u in national_2021.filter(kind=UnitKind.CHECKPOINT) if "-S" in u.unit_id]
    assert len(synthetic) == 126
    for post in synthetic:
        assert post.unit_id.startswith(f"CP-{post.province_id}-S")
        assert "giả lập" in post.name and post.source.startswith("synthetic")
        district = national_2021.get(post.parent_id or "")
        assert district is not None and district.kind == UnitKind.DISTRICT
        assert district.province_id == post.province_id
        assert post.lat is not None and post.datasets == ["checkpoint-daily"]
    # Spread over the province, not piled on one commune.
    assert len({(p.lat, p.lon) for p in synthetic}) == len(synthetic)


def test_impossible_national_registries_are_refused() -> None:
    with pytest.raises(ConfigError, match="2025 hierarchy has no districts"):
        build_national("2025", level="district")
    with pytest.raises(ConfigError, match=r"0\.\.99"):
        build_national("2025", synthetic_per_province=100)
    with pytest.raises(ConfigError, match="communes report"):
        build_national("2025", communes=False)


def test_a_national_day_is_planned_for_every_expected_unit(national_2025: Registry) -> None:
    day = date(2025, 7, 2)
    plan = simulate(
        national_2025,
        Catalog.load(),
        [day],
        ZoneInfo("Asia/Ho_Chi_Minh"),
        missing_share=0.0,
        invalid_share=0.0,
    )
    expected = {u.unit_id for u in national_2025.expected("district-daily", day)}
    expected |= {u.unit_id for u in national_2025.expected("checkpoint-daily", day)}
    assert {k.split("|")[0] for k in plan.expected.latest_revision} == expected
