"""The signals & levels panels, run through chDB on rows written to `signals` and `levels`."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from baocao import viewer
from dashboards import grafana
from dashboards.catalog import by_uid
from dashboards.macros import TimeRange
from dashboards.query import run_panel
from tests.dashboards.test_panels import PERIOD, as_dicts, scalar
from tests.support import surveillance_rows as sr
from tests.support.dashboard_scenario import VARS
from tests.support.surveillance_rows import EXPECTED
from warehouse.client import Warehouse

SIGNALS, SITUATION = "baocao-signals", "baocao-situation"
NOTE_VI = "ngưỡng chưa xác nhận từ văn bản"
NOTE_EN = "threshold not confirmed from the decision's text"


def panel(wh: Warehouse, uid: str, key: str, period: TimeRange = PERIOD, **over: str) -> Any:
    dashboard = by_uid(uid)
    assert dashboard is not None
    return run_panel(wh, dashboard.panel(key), {**VARS, **over}, period)


def test_the_map_colours_each_district_by_its_newest_level(warehouse: Warehouse) -> None:
    points = {r["name"]: r["level"] for r in as_dicts(panel(warehouse, SIGNALS, "level_map"))}
    assert points == EXPECTED["map"]
    labels = [r["label"] for r in as_dicts(panel(warehouse, SIGNALS, "level_map"))]
    assert labels == ["Đơn vị D1 · 3", "Đơn vị D2 · –"]  # the level is written beside the name
    other = as_dicts(panel(warehouse, SIGNALS, "level_map", province="20"))
    assert [(r["name"], r["level"]) for r in other] == [("Đơn vị E1", 4)]
    assert scalar(panel(warehouse, SIGNALS, "area_level")) == EXPECTED["area_level"]
    assert scalar(panel(warehouse, SIGNALS, "area_level", district="D1")) == 3
    assert scalar(panel(warehouse, SIGNALS, "units_high")) == 1


def test_a_later_day_and_a_reassessment_replace_the_level_shown(warehouse: Warehouse) -> None:
    day = date(2021, 8, 20)  # after the scenario's days: the other tests never see it
    sr.write(warehouse, [], [sr.level("D2", day, 4), sr.level("D2", day, 1, minutes=5)])
    later = TimeRange(date(2021, 8, 14), day)
    rows = as_dicts(panel(warehouse, SIGNALS, "level_map", later))
    points = {r["name"]: r["level"] for r in rows}
    # D1 keeps its level of 2021-08-03; D2's newer assessment of the day wins
    assert points == {"Đơn vị D1": 3, "Đơn vị D2": 1}
    assert scalar(panel(warehouse, SIGNALS, "units_high", later)) == 1


def test_the_grafana_map_and_tables_name_and_colour_the_four_levels() -> None:
    board = json.loads((grafana.OUT_DIR / f"{SIGNALS}.json").read_text("utf-8"))

    def titled(vi: str) -> dict[str, Any]:
        return next(p for p in board["panels"] if p["title"].startswith(vi))

    level_map = titled("Bản đồ cấp độ dịch")
    assert level_map["type"] == "geomap"
    (layer,) = level_map["options"]["layers"]
    assert layer["config"]["style"]["color"]["field"] == "level"
    assert layer["config"]["style"]["text"]["field"] == "label"
    (override,) = level_map["fieldConfig"]["overrides"]
    assert override["matcher"] == {"id": "byName", "options": "level"}
    by_value, missing = override["properties"][0]["value"]
    shown = {v: (m["text"], m["color"]) for v, m in by_value["options"].items()}
    assert shown == {
        "1": ("Cấp 1 – Nguy cơ thấp (xanh) / Level 1 – low risk (green)", "#73BF69"),
        "2": ("Cấp 2 – Nguy cơ trung bình (vàng) / Level 2 – medium risk (yellow)", "#FADE2A"),
        "3": ("Cấp 3 – Nguy cơ cao (cam) / Level 3 – high risk (orange)", "#FF9830"),
        "4": ("Cấp 4 – Nguy cơ rất cao (đỏ) / Level 4 – very high risk (red)", "#F2495C"),
    }
    assert missing["options"]["match"] == "null"
    assert missing["options"]["result"]["text"] == "Chưa đánh giá / Not assessed"
    history = titled("Diễn biến cấp độ")
    assert history["fieldConfig"]["overrides"][0]["matcher"]["options"] == "status"


def test_the_signals_list_shows_only_active_signals(warehouse: Warehouse) -> None:
    rows = as_dicts(panel(warehouse, SIGNALS, "signals"))
    assert [(r["report_date"], r["unit"], r["rule"]) for r in rows] == [
        ("2021-08-03", "Đơn vị 19", "quiet_days"),  # the province's roll-up first
        ("2021-08-03", "Đơn vị D1", "quiet_days"),
    ]  # D2's unknown-source signal of 2021-08-02 was withdrawn; E1 is in province 20
    assert rows[1]["message"] == (
        "6 ca cộng đồng đầu tiên sau 38 ngày / first 6 community cases after 38 days"
    )
    assert scalar(panel(warehouse, SIGNALS, "signals_active")) == EXPECTED["signals_active"]
    assert [r["unit"] for r in as_dicts(panel(warehouse, SIGNALS, "signals", district="D2"))] == []


def test_a_withdrawn_signal_disappears_and_a_reraised_one_comes_back(
    warehouse: Warehouse,
) -> None:
    day = date(2021, 8, 10)
    week = TimeRange(date(2021, 8, 4), day)

    def listed() -> list[str]:
        return [r["message"] for r in as_dicts(panel(warehouse, SIGNALS, "signals", week))]

    message = ("2 ca chưa rõ nguồn lây", "2 cases of unknown source")
    kw: dict[str, Any] = {"rule": "unknown_source", "metric": "cases_unknown_source"}
    sr.write(warehouse, [sr.signal("D2", day, message=message, **kw)], [])
    assert listed() == ["2 ca chưa rõ nguồn lây / 2 cases of unknown source"]
    sr.write(warehouse, [sr.signal("D2", day, state="withdrawn", n=1, **kw)], [])
    assert listed() == []
    assert scalar(panel(warehouse, SIGNALS, "signals_active", week)) == 0
    sr.write(warehouse, [sr.signal("D2", day, n=2, message=message, **kw)], [])
    assert listed() == ["2 ca chưa rõ nguồn lây / 2 cases of unknown source"]


def test_level_history_per_unit_and_day(warehouse: Warehouse) -> None:
    history: dict[str, list[str | None]] = {}
    for r in as_dicts(panel(warehouse, SIGNALS, "level_history")):
        history.setdefault(r["unit"], []).append(r["status"])
    # 2021-08-01 is a Sunday: D1's official weekly level 2 outranks its daily level 1
    assert history == EXPECTED["history"]
    district = as_dicts(panel(warehouse, SIGNALS, "level_history", district="D1"))
    assert [(r["unit"], r["day"], r["status"]) for r in district][-1] == (
        "Đơn vị C1",
        "2021-08-03",
        "2",
    )  # a district's communes follow it
    assert {r["unit"] for r in district} == {"Đơn vị D1", "Đơn vị C1"}


def test_unconfirmed_thresholds_are_said_so(warehouse: Warehouse) -> None:
    (row,) = as_dicts(panel(warehouse, SIGNALS, "unconfirmed"))
    assert row["profile"] == "qd4800" and row["thresholds"] == "vaccination_65_plus"
    assert row["note"] == f"{NOTE_VI} / {NOTE_EN}"
    notes = {r["unit"]: r["note"] for r in as_dicts(panel(warehouse, SIGNALS, "levels_now"))}
    assert notes["Đơn vị D1"] == f"{NOTE_VI} / {NOTE_EN}: vaccination_65_plus"
    assert notes["Đơn vị 19"] == "" and notes["Đơn vị D2"] == ""
    assert as_dicts(panel(warehouse, SIGNALS, "unconfirmed", district="D2")) == []


def test_the_situation_shows_the_current_levels_and_active_signals(
    warehouse: Warehouse,
) -> None:
    levels = {r["unit"]: r["level"] for r in as_dicts(panel(warehouse, SITUATION, "level_now"))}
    assert levels == {"Đơn vị 19": 2, "Đơn vị D1": 3, "Đơn vị D2": None}
    narrowed = as_dicts(panel(warehouse, SITUATION, "level_now", district="D2"))
    assert [r["unit"] for r in narrowed] == ["Đơn vị 19", "Đơn vị D2"]
    signals = as_dicts(panel(warehouse, SITUATION, "signals_now"))
    assert [r["unit"] for r in signals] == ["Đơn vị 19", "Đơn vị D1"]
    assert signals[0]["message"].endswith("first 6 community cases after 38 days")
    situation = by_uid(SITUATION)
    assert situation is not None and [p.key for p in situation.panels][-2:] == [
        "level_now",
        "signals_now",
    ]


def test_the_viewer_lists_and_draws_the_dashboard(warehouse: Warehouse) -> None:
    index = viewer.handle("/dashboards", warehouse)
    assert index is not None and f"/dashboards/{SIGNALS}" in index[2].decode()
    page = viewer.handle(f"/dashboards/{SIGNALS}?province=19&from=2021-08-01&to=2021-08-03",
                         warehouse)  # fmt: skip
    assert page is not None and page[0] == 200
    text = page[2].decode()
    assert "Cảnh báo &amp; cấp độ dịch" in text and "Cấp 4 – Nguy cơ rất cao (đỏ)" in text
    assert '"next": ["Điều làm thay đổi cấp độ", "What would change it"]' in text  # headers
    answer = viewer.handle(
        f"/dashboards/{SIGNALS}/data?province=19&from=2021-08-01&to=2021-08-03", warehouse
    )
    assert answer is not None and answer[0] == 200
    data = json.loads(answer[2])
    assert data["as_of"] == "2021-08-03 16:00:00"
    assert data["panels"]["level_map"]["rows"][0][:4] == ["Đơn vị D1", 21.5, 105.9, 3]
