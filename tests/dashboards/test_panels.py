"""Every panel's SQL, expanded as the viewer does, returns the scenario's known numbers."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from dashboards.catalog import DASHBOARDS, by_uid
from dashboards.common import TZ
from dashboards.macros import TimeRange
from dashboards.model import Panel
from dashboards.query import run_dashboard, run_panel, variable_options
from tests.support import dashboard_scenario as scenario
from tests.support.dashboard_scenario import DAY1, DAY3, EXPECTED, VARS
from warehouse.client import Warehouse

PERIOD = TimeRange(DAY1, DAY3)


def panel(wh: Warehouse, uid: str, key: str, **over: str) -> dict[str, Any]:
    dashboard = by_uid(uid)
    assert dashboard is not None
    return run_panel(wh, dashboard.panel(key), {**VARS, **over}, PERIOD)


def scalar(result: dict[str, Any]) -> Any:
    assert len(result["rows"]) == 1, result
    return result["rows"][0][0]


def as_dicts(result: dict[str, Any]) -> list[dict[str, Any]]:
    return [dict(zip(result["columns"], row, strict=True)) for row in result["rows"]]


@pytest.mark.parametrize("dashboard", DASHBOARDS, ids=lambda d: d.uid)
def test_every_panel_runs_and_returns_rows(warehouse: Warehouse, dashboard: Any) -> None:
    data = run_dashboard(warehouse, dashboard, VARS, PERIOD)
    empty = [k for k, r in data["panels"].items() if not r["rows"]]
    assert not empty, f"{dashboard.uid}: panels without rows {empty}"
    assert data["as_of"], "every dashboard shows 'data as of'"


def test_situation_numbers(warehouse: Warehouse) -> None:
    uid = "baocao-situation"
    assert scalar(panel(warehouse, uid, "cases_total")) == EXPECTED["cases_total"]
    assert scalar(panel(warehouse, uid, "days_since_community")) == 2
    assert scalar(panel(warehouse, uid, "coverage")) == pytest.approx(EXPECTED["coverage"])
    by_day = {r["day"]: r for r in as_dicts(panel(warehouse, uid, "cases_by_source"))}
    assert by_day["2021-08-01"]["cases_community"] == 2  # the correction (rev 2) wins
    assert by_day["2021-08-01"]["cases_quarantined"] == 4 + 3
    assert by_day["2021-08-03"]["cases_unknown_source"] == 1
    seven = as_dicts(panel(warehouse, uid, "cases_7d"))
    assert [r["cases_new"] for r in seven] == [9, 1, 2]
    assert seven[-1]["avg_7d"] == pytest.approx(4.0)
    tests = {r["day"]: r for r in as_dicts(panel(warehouse, uid, "tests"))}
    assert tests["2021-08-01"]["positivity"] == pytest.approx(round(100 * 9 / 180, 2))
    # the district variable narrows every panel
    assert scalar(panel(warehouse, uid, "cases_total", district="D2")) == 5


def test_the_map_sums_the_latest_values_of_each_district_of_the_province(
    warehouse: Warehouse,
) -> None:
    uid = "baocao-situation"
    copies = warehouse.query_rows(
        "SELECT count() - uniqExact(report_id, metric, option) FROM report_values"
    )
    assert copies[0][0] > 0, "the scenario writes some values twice (a redelivery)"
    points = {r["name"]: r["value"] for r in as_dicts(panel(warehouse, uid, "map"))}
    # D1: 6 (day 1, the correction replaces 5; its rows twice) + 1 (day 2); no E1
    assert points == {"Đơn vị D1": 7, "Đơn vị D2": 5, "Đơn vị D3": 0}
    other = {r["name"]: r["value"] for r in as_dicts(panel(warehouse, uid, "map", province="20"))}
    assert other == {"Đơn vị E1": 100}


def test_days_since_community_looks_past_the_last_two_weeks_only_when_needed(
    warehouse: Warehouse,
) -> None:
    uid, key = "baocao-situation", "days_since_community"
    situation = by_uid(uid)
    assert situation is not None
    later = DAY3 + timedelta(days=30)  # the last community cases are 32 days back
    for period, want in ((PERIOD, 2), (TimeRange(later - timedelta(days=13), later), 32)):
        assert scalar(run_panel(warehouse, situation.panel(key), VARS, period)) == want
    assert scalar(panel(warehouse, uid, key, province="20")) == 2
    assert scalar(panel(warehouse, uid, key, district="D2")) is None  # never a community case


def test_compliance_is_judged_as_of_the_instant_the_dashboard_is_seen(
    warehouse: Warehouse,
) -> None:
    """Before 15:00 on the period's last day its unreported units are pending, after it
    missing: on the viewer's clock (a demo's simulated day), not the server's."""
    compliance = by_uid("baocao-compliance")
    assert compliance is not None
    statuses = {}
    for hour in (10, 16):
        as_of = datetime(DAY3.year, DAY3.month, DAY3.day, hour, tzinfo=ZoneInfo(TZ))
        period = TimeRange(DAY1, DAY3, as_of=as_of)
        rows = as_dicts(run_panel(warehouse, compliance.panel("missing_now"), VARS, period))
        statuses[hour] = [(r["unit_id"], r["status"]) for r in rows]
    assert statuses == {10: [("D1", "pending")], 16: [("D1", "missing")]}


def test_an_instant_outside_the_period_leaves_its_whole_last_day() -> None:
    later = datetime(2021, 9, 1, 10, tzinfo=ZoneInfo(TZ))
    assert TimeRange(DAY1, DAY3, as_of=later).parameters()["to_time"].endswith("23:59:59.999")
    inside = datetime(DAY3.year, DAY3.month, DAY3.day, 9, 30, 5, 250000, tzinfo=ZoneInfo(TZ))
    assert TimeRange(DAY1, DAY3, as_of=inside).parameters()["to_time"] == "2021-08-03 09:30:05.250"


def test_compliance_counts_and_missing(warehouse: Warehouse) -> None:
    uid = "baocao-compliance"
    counts = as_dicts(panel(warehouse, uid, "counts"))
    assert counts == [EXPECTED["compliance"]]
    missing = as_dicts(panel(warehouse, uid, "missing_now"))
    assert [(r["unit_id"], r["status"]) for r in missing] == [("D1", "missing")]
    rates = {r["day"]: r for r in as_dicts(panel(warehouse, uid, "rates"))}
    assert rates["2021-08-02"]["reporting_rate"] == 100.0
    assert rates["2021-08-02"]["timeliness"] == 50.0
    assert rates["2021-08-03"]["reporting_rate"] == 50.0
    grid = as_dicts(panel(warehouse, uid, "grid"))
    assert len(grid) == 6 and {r["unit"] for r in grid} == {"Đơn vị D1", "Đơn vị D2"}
    cps = as_dicts(panel(warehouse, uid, "counts", dataset="checkpoint-daily"))
    assert cps == [{"expected": 6, "on_time": 3, "late": 0, "missing": 3, "pending": 0}]
    d2 = as_dicts(panel(warehouse, uid, "counts", district="D2"))
    assert d2 == [{"expected": 3, "on_time": 3, "late": 0, "missing": 0, "pending": 0}]
    other = as_dicts(panel(warehouse, uid, "counts", province="20"))
    assert other == [{"expected": 3, "on_time": 1, "late": 0, "missing": 2, "pending": 0}]


def test_checkpoint_numbers(warehouse: Warehouse) -> None:
    uid = "baocao-checkpoints"
    assert scalar(panel(warehouse, uid, "screened_total")) == EXPECTED["screened_total"]
    assert scalar(panel(warehouse, uid, "positives_total")) == EXPECTED["positives_total"]
    table = {r["checkpoint"]: r for r in as_dicts(panel(warehouse, uid, "by_checkpoint"))}
    assert table["Đơn vị CP-1"]["people_screened"] == 250
    assert table["Đơn vị CP-2"]["vehicles_screened"] == 40


def test_quality_numbers(warehouse: Warehouse) -> None:
    uid = "baocao-quality"
    by_rule = {
        r["rule_id"]: r["rejections"] for r in as_dicts(panel(warehouse, uid, "rejections_by_rule"))
    }
    assert by_rule == EXPECTED["rejections_by_rule"]  # the redelivered row counts once
    warnings = as_dicts(panel(warehouse, uid, "warnings_by_rule"))
    assert warnings == [{"rule_id": "cases_spike", "reports": 1}]
    revisions = {r["day"]: r for r in as_dicts(panel(warehouse, uid, "revisions"))}
    assert revisions["2021-08-01"]["corrections"] == 1
    assert revisions["2021-08-01"]["first_reports"] == 2 + 2  # D1, D2 and two checkpoints
    late = as_dicts(panel(warehouse, uid, "late_corrections"))
    assert [(r["unit_id"], r["revision"], r["reason"]) for r in late] == [
        ("D1", 2, "Sửa sau rà soát")
    ]


def test_data_as_of_is_the_newest_accepted_report(
    warehouse: Warehouse, filled: scenario.Filled
) -> None:
    def newest(dataset: str) -> str:
        at = max(
            e.accepted_at for e in filled.accepted if e.dataset == dataset and e.unit_id != "E1"
        )
        return at.astimezone(scenario.ICT).strftime("%Y-%m-%d %H:%M:%S")

    assert scalar(panel(warehouse, "baocao-situation", "as_of")) == newest("district-daily")
    assert scalar(panel(warehouse, "baocao-checkpoints", "as_of")) == newest("checkpoint-daily")
    assert scalar(panel(warehouse, "baocao-situation", "as_of", province="30")) == ""


def test_variable_choices_come_from_the_registry(warehouse: Warehouse) -> None:
    dashboard = by_uid("baocao-compliance")
    assert dashboard is not None
    options = variable_options(warehouse, dashboard, VARS)
    assert options["province"] == ["19", "20"]
    assert options["district"] == ["D1", "D2", "D3"]
    assert options["dataset"] == ["checkpoint-daily", "district-daily"]


def test_panel_values_come_back_as_json_carries_them(warehouse: Warehouse) -> None:
    """Converted column by column: days and instants as ISO text, NaN as null, decimals
    as numbers, NULLs kept, arrays element by element; nothing else is touched (instants
    are UTC, as ClickHouse returns them; comparisons are UInt8)."""
    sql = (
        "SELECT toDate('2021-07-27') + number AS day,"
        " if(number = 1, NULL, toDateTime64('2021-07-27 08:30:00', 3, 'UTC')) AS at,"
        " if(number = 0, nan, 0.5) AS ratio, toDecimal32(1.25, 2) AS dec,"
        " [toDate('2021-07-27')] AS days, toString(number) AS text, number AS n,"
        " number = 1 AS flag FROM numbers(2)"
    )
    got = run_panel(
        warehouse, Panel(key="k", title_vi="", title_en="", kind="table", sql=sql), {}, PERIOD
    )
    assert got["columns"] == ["day", "at", "ratio", "dec", "days", "text", "n", "flag"]
    assert json.loads(json.dumps(got["rows"])) == [
        ["2021-07-27", "2021-07-27T08:30:00", None, 1.25, ["2021-07-27"], "0", 0, 0],
        ["2021-07-28", None, 0.5, 1.25, ["2021-07-27"], "1", 1, 1],
    ]
