"""What the charts show, read from their Plotly figures (dashboards/figures.py) and from
the Grafana JSON: the RT-PCR positivity on an axis of its own, and maps that read as maps."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest

from dashboards import grafana
from dashboards.catalog import by_uid
from dashboards.figures import (
    KEY_HEIGHT,
    SIZE_MAX,
    SIZE_MIN,
    figure,
    key_values,
    point_size,
)
from dashboards.macros import TimeRange
from dashboards.query import run_panel
from tests.support.dashboard_scenario import DAY1, DAY3, VARS
from warehouse.client import Warehouse

PERIOD = TimeRange(DAY1, DAY3)


def chart(wh: Warehouse, uid: str, key: str, lang: str = "vi") -> dict[str, Any]:
    dashboard = by_uid(uid)
    assert dashboard is not None
    panel = dashboard.panel(key)
    result = run_panel(wh, panel, VARS, PERIOD)
    fig = figure(panel, result["columns"], result["rows"], lang)  # type: ignore[arg-type]
    assert json.loads(json.dumps(fig)) == fig, "a figure is plain JSON"
    return fig


def grafana_panel(uid: str, title_vi: str) -> dict[str, Any]:
    board = json.loads((grafana.OUT_DIR / f"{uid}.json").read_text("utf-8"))
    return next(p for p in board["panels"] if p["title"].startswith(title_vi))


# ---------------------------------------------------------------- RT-PCR


@pytest.mark.parametrize(
    ("lang", "title"), [("vi", "Tỷ lệ dương tính (%)"), ("en", "Positivity (%)")]
)
def test_positivity_is_drawn_on_its_own_right_axis(
    warehouse: Warehouse, lang: str, title: str
) -> None:
    fig = chart(warehouse, "baocao-situation", "tests", lang)
    by_name = {t["name"]: t for t in fig["data"]}
    positivity = by_name[title]
    assert positivity["yaxis"] == "y2"
    assert positivity["y"][0] == pytest.approx(round(100 * 9 / 180, 2))
    counts = [t for t in fig["data"] if t is not positivity]
    assert len(counts) == 2 and all(t.get("yaxis", "y") == "y" for t in counts)
    right, left = fig["layout"]["yaxis2"], fig["layout"]["yaxis"]
    assert right["side"] == "right" and right["overlaying"] == "y"
    assert right["ticksuffix"] == "%" and right["title"]["text"] == title
    assert "ticksuffix" not in left  # test counts are not a percentage
    assert positivity["line"]["dash"] == "dot"  # told apart without colour too


def test_other_series_charts_have_one_axis(warehouse: Warehouse) -> None:
    fig = chart(warehouse, "baocao-situation", "cases_7d")
    assert "yaxis2" not in fig["layout"]
    assert all("yaxis" not in t for t in fig["data"])
    assert fig["layout"]["xaxis"]["type"] == "date"


def test_grafana_draws_positivity_on_the_right_in_percent() -> None:
    panel = grafana_panel("baocao-situation", "Xét nghiệm RT-PCR")
    assert panel["type"] == "timeseries"
    (override,) = panel["fieldConfig"]["overrides"]
    assert override["matcher"] == {"id": "byName", "options": "positivity"}
    props = {p["id"]: p["value"] for p in override["properties"]}
    assert props["custom.axisPlacement"] == "right" and props["unit"] == "percent"
    assert props["custom.axisLabel"] == "Tỷ lệ dương tính (%) / Positivity (%)"
    assert panel["fieldConfig"]["defaults"]["unit"] == "short"  # the counts, on the left


# ---------------------------------------------------------------- maps


def _reads_as_a_map(layout: dict[str, Any], lats: list[float]) -> None:
    x, y = layout["xaxis"], layout["yaxis"]
    assert y["scaleanchor"] == "x", "one scale on both axes"
    mid = (min(lats) + max(lats)) / 2
    assert y["scaleratio"] == pytest.approx(1 / math.cos(math.radians(mid)), rel=1e-3)
    for axis in (x, y):  # no numeric axes, ticks or grid
        assert axis["visible"] is False and axis["showgrid"] is False
    assert x["range"][0] < x["range"][1] and y["range"][0] < y["range"][1]


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_the_case_map_names_its_points_and_keys_their_sizes(
    warehouse: Warehouse, lang: str
) -> None:
    fig = chart(warehouse, "baocao-situation", "map", lang)
    (points,) = fig["data"]
    layout = fig["layout"]
    _reads_as_a_map(layout, points["y"])
    assert points["text"] == ["Đơn vị D1", "Đơn vị D2", "Đơn vị D3"]  # names on the points
    assert points["mode"] == "markers+text"
    # new cases in the period: D1 7, D2 5, D3 (closed) 0 (test_panels.py); area ~ cases
    sizes = points["marker"]["size"]
    assert sizes == [SIZE_MAX, point_size(5, 7), SIZE_MIN]
    assert SIZE_MIN < sizes[1] < SIZE_MAX
    word = {"vi": "ca mắc mới", "en": "new cases"}[lang]
    assert points["hovertext"][0] == f"Đơn vị D1: 7 {word}"
    # the size key: circles as large as the map's points, each labelled with its value
    keys = key_values(7)
    assert keys == [1, 4, 7]
    diameters = [s["x1"] - s["x0"] for s in layout["shapes"]]
    assert diameters == pytest.approx([point_size(v, 7) for v in keys])
    assert diameters[-1] == pytest.approx(SIZE_MAX)
    assert all(s["xsizemode"] == s["ysizemode"] == "pixel" for s in layout["shapes"])
    title, *labels = layout["annotations"]
    assert title["text"] == {"vi": "Cỡ chấm = ca mắc mới", "en": "Dot size = new cases"}[lang]
    assert [a["text"] for a in labels] == ["1", "4", "7"]
    assert layout["yaxis"]["domain"] == [KEY_HEIGHT, 1]  # the key has a strip of its own


def test_point_sizes_grow_with_the_square_root_of_the_value() -> None:
    assert point_size(0, 100) == point_size(None, 100) == SIZE_MIN
    assert point_size(100, 100) == SIZE_MAX
    quarter = point_size(25, 100)  # a quarter of the cases: half the diameter's growth
    assert quarter == pytest.approx(SIZE_MIN + (SIZE_MAX - SIZE_MIN) / 2, abs=0.1)
    assert key_values(0) == [] and key_values(2) == [1, 2]
    assert key_values(137) == [10, 70, 137] and key_values(9) == [1, 5, 9]


def test_the_level_map_reads_as_a_map_with_named_bands(warehouse: Warehouse) -> None:
    fig = chart(warehouse, "baocao-signals", "level_map")
    placed = [y for t in fig["data"] for y in t["y"] if y is not None]
    _reads_as_a_map(fig["layout"], placed)
    names = [t["name"] for t in fig["data"]]
    assert names[0].startswith("Cấp 1") and names[-1] == "Chưa đánh giá"
    assert len({t["marker"]["symbol"] for t in fig["data"]}) == len(names)  # not colour alone
    labelled = [text for t in fig["data"] for text in t["text"]]
    assert {text.split(" · ")[0] for text in labelled} == {"Đơn vị D1", "Đơn vị D2"}


def test_the_viewer_sends_each_chart_in_both_languages(viewer_url: str) -> None:
    import urllib.request

    url = f"{viewer_url}/dashboards/baocao-situation/data?province=19&from=2021-08-01&to=2021-08-03"
    with urllib.request.urlopen(url, timeout=30) as resp:
        got = json.load(resp)
    for key in ("cases_by_source", "cases_7d", "tests", "vaccine", "map"):
        assert set(got["panels"][key]["figure"]) == {"vi", "en"}, key
    assert "figure" not in got["panels"]["cases_total"]  # a stat is not a chart
    tests = got["panels"]["tests"]["figure"]
    assert tests["en"]["layout"]["yaxis2"]["title"]["text"] == "Positivity (%)"


@pytest.mark.parametrize("key", ["map", "tests"])
def test_a_chart_without_rows_says_so(warehouse: Warehouse, key: str) -> None:
    dashboard = by_uid("baocao-situation")
    assert dashboard is not None
    panel = dashboard.panel(key)
    result = run_panel(warehouse, panel, {**VARS, "province": "30"}, PERIOD)  # no units
    assert result["rows"] == []
    fig = figure(panel, result["columns"], result["rows"], "en")
    assert fig["data"] == [] and fig["layout"]["annotations"][0]["text"] == "No data in the period"


def test_a_map_of_a_quiet_period_has_no_size_key(warehouse: Warehouse) -> None:
    dashboard = by_uid("baocao-situation")
    assert dashboard is not None
    quiet = TimeRange(DAY1.replace(year=2020), DAY1.replace(year=2020))
    result = run_panel(warehouse, dashboard.panel("map"), VARS, quiet)
    fig = figure(dashboard.panel("map"), result["columns"], result["rows"], "vi")
    (points,) = fig["data"]
    assert points["text"] == ["Đơn vị D1", "Đơn vị D2", "Đơn vị D3"]
    assert set(points["marker"]["size"]) == {SIZE_MIN} and fig["layout"]["shapes"] == []
    assert [a["text"] for a in fig["layout"]["annotations"]] == ["Không có ca mắc mới trong kỳ"]
