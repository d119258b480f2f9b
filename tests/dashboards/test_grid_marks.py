"""The compliance grid marks each status with its own sign and names every sign in a
legend under the grid, readable without colour (Trễ and Thiếu both begin with T)."""

from __future__ import annotations

import json
import re
import urllib.request

from dashboards import grafana
from dashboards.labels import LABELS, STATUS_MARKS

STATUSES = ("on_time", "late", "missing", "pending")


def page(viewer_url: str, uid: str) -> str:
    url = f"{viewer_url}/dashboards/{uid}?province=19&from=2021-08-01&to=2021-08-03"
    with urllib.request.urlopen(url, timeout=30) as resp:
        return str(resp.read().decode())


def test_each_status_has_a_distinct_mark() -> None:
    assert set(STATUS_MARKS) == set(STATUSES)
    assert len(set(STATUS_MARKS.values())) == len(STATUSES)
    assert STATUS_MARKS["late"] != STATUS_MARKS["missing"]
    names = {LABELS[s][0][0] for s in ("late", "missing")}
    assert names == {"T"}, "why the first letter of the name could not serve"


def test_the_grid_has_a_legend_naming_each_mark(viewer_url: str) -> None:
    html = page(viewer_url, "baocao-compliance")
    grid = re.search(r"<section class='panel grid' data-panel='grid'.*?</section>", html, re.S)
    assert grid, "the grid panel"
    legend = re.findall(
        r"<li><span class='mark st-(\w+)'>([^<]+)</span> "
        r'<span\s+data-vi="([^"]+)" data-en="([^"]+)">',
        grid.group(0),
    )
    assert legend == [
        ("on_time", "✓", "Đúng hạn", "On time"),
        ("late", "T", "Trễ hạn", "Late"),
        ("missing", "✗", "Thiếu", "Missing"),
        ("pending", "…", "Chưa đến hạn", "Pending"),
    ]
    boot = re.search(r"<script id='boot' type='application/json'>(.*?)</script>", html, re.S)
    assert boot and json.loads(boot.group(1))["marks"] == STATUS_MARKS  # what viewer.js draws


def test_the_level_history_grid_names_its_bands(viewer_url: str) -> None:
    html = page(viewer_url, "baocao-signals")
    grid = re.search(r"data-panel='level_history'.*?</section>", html, re.S)
    assert grid
    marks = re.findall(r"<span class='mark band' style='background:[^']+'>([^<]+)</span>", grid[0])
    assert marks == ["1", "2", "3", "4", "–"]
    assert "Chưa đánh giá" in grid[0]


def test_grafana_shows_each_status_by_mark_and_name() -> None:
    board = json.loads((grafana.OUT_DIR / "baocao-compliance.json").read_text("utf-8"))
    panel = next(p for p in board["panels"] if p["title"].startswith("Theo đơn vị và ngày"))
    (mapping,) = panel["fieldConfig"]["defaults"]["mappings"]
    texts = {status: m["text"] for status, m in mapping["options"].items()}
    assert texts == {
        "on_time": "✓ Đúng hạn / On time",
        "late": "T Trễ hạn / Late",
        "missing": "✗ Thiếu / Missing",
        "pending": "… Chưa đến hạn / Pending",
    }
    assert panel["description"] == (
        "✓ Đúng hạn · T Trễ hạn · ✗ Thiếu · … Chưa đến hạn"
        " / ✓ On time · T Late · ✗ Missing · … Pending"
    )
