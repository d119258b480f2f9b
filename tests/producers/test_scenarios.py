"""Scenario files from the directives: they load, they replay the facts, bad ones explain."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from vietnamadminunits.database.main import query

from contract.datasets import Catalog
from contract.events import ReportSubmitted
from contract.registry import Registry
from producers.epidemic import EpidemicModel
from producers.replay import ScenarioError, load_scenario, shipped
from producers.simulator import Scenario, simulate

TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def replay(name: str, registry: Registry, catalog: Catalog) -> Scenario:
    scenario = load_scenario(name)
    model = EpidemicModel(registry, catalog, scenario.seed, scenario.overrides(registry))
    return simulate(registry, catalog, scenario.days(), TZ, scenario.seed, model=model)


def final_reports(plan: Scenario) -> dict[str, ReportSubmitted]:
    """The latest accepted revision per unit, dataset and date."""
    latest: dict[str, ReportSubmitted] = {}
    for r in plan.reports:
        if r.report_id not in plan.expected.invalid_report_ids:
            latest[r.ledger_key] = r
    return latest


def test_every_shipped_scenario_loads_and_fits_the_demo_registry(registry: Registry) -> None:
    assert shipped() == ["lang-son-2020-08", "thai-nguyen-2021-07-27"]
    for name in shipped():
        scenario = load_scenario(name)
        assert scenario.id == name and scenario.title_vi and scenario.title_en
        scenario.overrides(registry)  # raises if a unit or date does not fit


def test_thai_nguyen_replay_has_six_community_cases_in_tan_khanh(
    registry: Registry, catalog: Catalog
) -> None:
    (row,) = query(
        "SELECT wardCode, districtCode FROM admin_units_legacy "
        "WHERE ward = 'Xã Tân Khánh' AND district = 'Huyện Phú Bình'"
    )
    tan_khanh, phu_binh = row["wardCode"], row["districtCode"]
    assert (tan_khanh, phu_binh) == ("05917", "173")
    plan = replay("thai-nguyen-2021-07-27", registry, catalog)
    day = date(2021, 7, 27)
    sent = [r for r in plan.reports if r.unit_id == phu_binh and r.report_date == day]
    assert sent and all(r.report_id not in plan.expected.invalid_report_ids for r in sent)
    for r in sent:  # the first report and any correction carry the same six cases
        assert r.values["cases_community"] == r.values["cases_new"] == 6
        assert "Tân Khánh" in r.note
    latest = final_reports(plan)
    thai_nguyen = {u.unit_id for u in registry.filter(province="19")}

    def community(on: date) -> int:
        return sum(
            r.values.get("cases_community", 0) + r.values.get("cases_unknown_source", 0)
            for r in latest.values()
            if r.unit_id in thai_nguyen and r.report_date == on
        )

    assert community(day) == 6  # the province's only community cases that day
    # The days before, within the replay, belong to the 38 days without community cases.
    assert all(community(day - timedelta(days=n)) == 0 for n in range(1, 15))


def test_lang_son_replay_has_four_cases_in_dinh_lap_and_busier_checkpoints(
    registry: Registry, catalog: Catalog
) -> None:
    scenario = load_scenario("lang-son-2020-08")
    plan = replay("lang-son-2020-08", registry, catalog)
    latest = final_reports(plan)
    day = date(2020, 8, 10)
    assert latest[f"189|district-daily|{day}"].values["cases_new"] == 4
    posts = ["CP-20-01", "CP-20-02", "CP-20-03"]
    reported = {r.unit_id for r in latest.values() if r.dataset == "checkpoint-daily"}
    assert set(posts) <= reported
    # The posts start with the directive: none of them reports before the cases.
    assert not any(r.unit_id in posts and r.report_date < day for r in latest.values())
    calm = EpidemicModel(registry, catalog, scenario.seed)  # the same days, no scenario
    busy = EpidemicModel(registry, catalog, scenario.seed, scenario.overrides(registry))
    ds = catalog.get("checkpoint-daily")
    assert ds is not None
    for post in posts:
        unit = registry.get(post)
        assert unit is not None
        for n in range(14):
            on = day + timedelta(days=n)
            more = busy.values(ds, unit, on)["people_screened"]
            assert more > calm.values(ds, unit, on)["people_screened"] * 1.3


def write(path: Path, text: str) -> str:
    path.write_text(text, encoding="utf-8")
    return str(path)


GOOD = """
id = "test"
title_vi = "Thử"
title_en = "Test"
source = "unit test"
start = 2021-07-20
end = 2021-07-27
"""


def test_a_json_scenario_loads_too(tmp_path: Path, registry: Registry) -> None:
    path = tmp_path / "s.json"
    path.write_text(
        '{"id": "j", "title_vi": "T", "title_en": "T", "source": "s", "start": "2021-07-20",'
        ' "end": "2021-07-21", "cases": [{"date": "2021-07-21", "unit": "173", "quarantined": 2}]}',
        encoding="utf-8",
    )
    scenario = load_scenario(str(path))
    assert scenario.overrides(registry).cases[("173", date(2021, 7, 21))].total == 2


def test_a_file_that_does_not_parse_says_so_in_both_languages(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match=r"không đúng cú pháp / scenario .* does not parse"):
        load_scenario(write(tmp_path / "bad.toml", "id = [unclosed"))


def test_every_shape_problem_is_listed_at_once(tmp_path: Path) -> None:
    text = GOOD.replace('source = "unit test"\n', "") + (
        "\n[[cases]]\ndate = 2021-07-27\nunit = '173'\ncommunity = -1\nextra = 1\n"
        "\n[[quiet]]\nprovince = '19'\nfrom = 2021-07-27\nto = 2021-07-01\n"
    )
    with pytest.raises(ScenarioError) as caught:
        load_scenario(write(tmp_path / "shape.toml", text))
    message = str(caught.value)
    assert "scenario" in message and "không hợp lệ" in message
    assert "source: thiếu trường bắt buộc / Field required" in message
    assert "cases.0.community: giá trị quá nhỏ" in message
    assert "cases.0.extra: trường không được phép" in message
    assert "'from' is after 'to'" in message


def test_units_and_dates_that_do_not_fit_the_registry_are_listed(
    tmp_path: Path, registry: Registry
) -> None:
    text = GOOD + (
        "\n[[cases]]\ndate = 2021-07-27\nunit = '99999'\ncommunity = 1\n"
        "\n[[surges]]\nunits = ['CP-20-01', '173']\nfrom = 2020-01-01\nto = 2020-01-05\n"
        "factor = 2\n"
        "\n[[waves]]\nunit = '19'\nstart = 2021-07-20\ndays = 5\npeak_cases = 3\n"
    )
    scenario = load_scenario(write(tmp_path / "units.toml", text))
    with pytest.raises(ScenarioError) as caught:
        scenario.overrides(registry)
    message = str(caught.value)
    assert "99999: không có trong danh mục / not in the registry" in message
    assert "CP-20-01: chốt không hoạt động" in message and "not active throughout" in message
    assert "173: không báo cáo checkpoint-daily / does not report checkpoint-daily" in message
    assert "19: không báo cáo district-daily" in message


def test_a_scenario_for_the_other_hierarchy_is_refused(tmp_path: Path, registry: Registry) -> None:
    scenario = load_scenario(write(tmp_path / "h.toml", GOOD + 'hierarchy = "2025"\n'))
    with pytest.raises(ScenarioError, match="needs the 2025 hierarchy, the registry is 2021"):
        scenario.overrides(registry)


def test_an_unknown_scenario_names_the_shipped_ones() -> None:
    with pytest.raises(ScenarioError, match=r"no scenario 'nowhere'.*thai-nguyen-2021-07-27"):
        load_scenario("nowhere")
