"""Charts as Chromium draws them: maps at a phone's and a laptop's width, the RT-PCR
positivity on its right-hand axis, and the compliance grid's marks and legend."""

from __future__ import annotations

import math
from typing import Any

import pytest

from dashboards.labels import STATUS_MARKS

PERIOD = "province=19&from=2021-08-01&to=2021-08-03&refresh=600"
#: Plotly's own reading of a drawn chart: pixels per unit of each axis, ticks and shapes.
AXES = """(el) => {
  const full = el._fullLayout;
  return {
    xm: full.xaxis._m, ym: full.yaxis._m, ratio: full.yaxis.scaleratio,
    anchor: full.yaxis.scaleanchor, xvisible: full.xaxis.visible, yvisible: full.yaxis.visible,
    width: el.getBoundingClientRect().width,
  };
}"""


def open_page(browser: Any, url: str, width: int) -> Any:
    page = browser.new_page(viewport={"width": width, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(url)
    page.wait_for_function("window.baocaoRefreshes >= 1", timeout=30_000)
    assert not errors, errors
    return page


@pytest.mark.parametrize("width", [360, 1366], ids=["phone", "laptop"])
@pytest.mark.parametrize(
    ("uid", "key", "names"),
    [
        ("baocao-situation", "map", ["Đơn vị D1", "Đơn vị D2", "Đơn vị D3"]),
        ("baocao-signals", "level_map", ["Đơn vị D1 · ", "Đơn vị D2 · "]),
    ],
    ids=["cases", "levels"],
)
def test_the_map_draws_as_a_map(
    browser: Any, viewer_url: str, width: int, uid: str, key: str, names: list[str]
) -> None:
    page = open_page(browser, f"{viewer_url}/dashboards/{uid}?{PERIOD}", width)
    box = page.locator(f"[data-panel='{key}']")
    chart = box.locator(".chart")
    assert box.locator(".main-svg").count() > 0, "plotly drew nothing"
    assert box.locator(".scatterlayer .point").count() >= len(names)
    labels = box.locator(".scatterlayer .textpoint text").all_text_contents()
    for name in names:
        assert any(label.startswith(name) for label in labels), (name, labels)
    assert box.locator(".xtick, .ytick").count() == 0, "no numeric axes"
    got = chart.evaluate(AXES)
    assert got["anchor"] == "x" and not got["xvisible"] and not got["yvisible"]
    # as drawn: a degree of latitude is scaleratio times as long as one of longitude
    assert abs(got["ym"]) / got["xm"] == pytest.approx(got["ratio"], rel=0.01)
    assert got["ratio"] == pytest.approx(1 / math.cos(math.radians(21.6)), rel=0.01)
    assert 0 < got["width"] <= width, "the map fits the screen"
    if key == "map":  # the size key: three circles and their values, under the map
        assert box.locator(".shapelayer path").count() == 3
        texts = box.locator(".annotation-text").all_text_contents()
        assert texts[0] == "Cỡ chấm = ca mắc mới" and texts[1:] == ["1", "4", "7"]
    else:  # a legend entry per band
        assert box.locator(".legend .traces").count() == 5
    box.screenshot(path=f"test-artifacts/dashboards/{key}-{width}.png")
    page.close()


def test_positivity_is_drawn_on_the_right_axis(browser: Any, viewer_url: str) -> None:
    page = open_page(browser, f"{viewer_url}/dashboards/baocao-situation?{PERIOD}", 1366)
    chart = page.locator("[data-panel='tests'] .chart")
    on = chart.evaluate("(el) => el._fullData.map((t) => [t.name, t.yaxis])")
    assert on == [
        ["Xét nghiệm RT-PCR", "y"],
        ["RT-PCR dương tính", "y"],
        ["Tỷ lệ dương tính (%)", "y2"],
    ]
    right = page.locator("[data-panel='tests'] .y2tick").all_text_contents()
    assert right and all(t.endswith("%") for t in right), right
    page.close()


def test_the_compliance_grid_marks_and_names_each_status(browser: Any, viewer_url: str) -> None:
    page = open_page(browser, f"{viewer_url}/dashboards/baocao-compliance?{PERIOD}", 390)
    grid = page.locator("[data-panel='grid']")
    cells = set(grid.locator("tbody td").all_text_contents())
    assert cells <= set(STATUS_MARKS.values()) | {""}, cells
    assert {"✓", "T", "✗"} <= cells  # on time, late and missing in the scenario
    legend = grid.locator("ul.legend")
    assert legend.is_visible()
    assert legend.inner_text().split("\n") == [
        "✓ Đúng hạn",
        "T Trễ hạn",
        "✗ Thiếu",
        "… Chưa đến hạn",
    ]
    page.click("#lang-toggle")
    assert legend.inner_text().split("\n") == ["✓ On time", "T Late", "✗ Missing", "… Pending"]
    page.close()
