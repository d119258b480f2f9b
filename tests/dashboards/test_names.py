"""Selectors name provinces and districts ("Tỉnh Bắc Giang (24)"), in the viewer and Grafana."""

from __future__ import annotations

import json
import re
import urllib.request

import pytest

from baocao import viewer
from dashboards import grafana
from dashboards.catalog import DASHBOARDS, by_uid
from dashboards.macros import TimeRange, expand
from dashboards.model import Dashboard
from dashboards.query import variable_choices, variable_options
from tests.support.dashboard_scenario import DAY1, VARS
from warehouse.client import Warehouse


def options(page: str, name: str) -> list[tuple[str, str, bool]]:
    """(value, text, selected) of each choice of the page's select ``name``."""
    select = re.search(rf"<select name='{name}'>(.*?)</select>", page, re.S)
    assert select, name
    found = re.findall(r"<option value='([^']*)'( selected)?>([^<]*)</option>", select.group(1))
    return [(value, text, bool(selected)) for value, selected, text in found]


def test_the_viewer_offers_units_by_name_with_their_codes(viewer_url: str) -> None:
    url = f"{viewer_url}/dashboards/baocao-situation?province=19&from=2021-08-01&to=2021-08-03"
    with urllib.request.urlopen(url, timeout=30) as resp:
        page = resp.read().decode()
    assert options(page, "province") == [
        ("19", "Đơn vị 19 (19)", True),
        ("20", "Đơn vị 20 (20)", False),
    ]
    assert options(page, "district") == [
        ("", "Tất cả / All", True),
        ("D1", "Đơn vị D1 (D1)", False),
        ("D2", "Đơn vị D2 (D2)", False),
        ("D3", "Đơn vị D3 (D3)", False),
    ]


def test_a_reader_held_to_a_district_sees_its_name(warehouse: Warehouse) -> None:
    class D1:
        province, district = "19", "D1"

    answer = viewer.handle("/dashboards/baocao-situation?district=D1", warehouse, bounds=D1())
    assert answer is not None and answer[0] == 200, answer
    page = answer[2].decode()
    assert options(page, "province") == [("19", "Đơn vị 19 (19)", True)]
    assert ("D1", "Đơn vị D1 (D1)", True) in options(page, "district")


def test_choices_keep_codes_as_values(warehouse: Warehouse) -> None:
    dashboard = by_uid("baocao-compliance")
    assert dashboard is not None
    choices = variable_choices(warehouse, dashboard, VARS)
    assert choices["province"] == [("19", "Đơn vị 19 (19)"), ("20", "Đơn vị 20 (20)")]
    assert choices["dataset"] == [("checkpoint-daily",) * 2, ("district-daily",) * 2]
    assert variable_options(warehouse, dashboard, VARS)["district"] == ["D1", "D2", "D3"]


@pytest.mark.parametrize("dashboard", DASHBOARDS, ids=lambda d: d.uid)
def test_grafana_variables_show_names_and_bind_codes(
    warehouse: Warehouse, dashboard: Dashboard
) -> None:
    """Grafana reads ``__text`` (shown) and ``__value`` (put into the panels' SQL)."""
    board = json.loads((grafana.OUT_DIR / f"{dashboard.uid}.json").read_text("utf-8"))
    for var in board["templating"]["list"]:
        if var["name"] not in ("province", "district"):
            continue
        sql = var["query"]["rawSql"]
        assert "AS __text" in sql and "unit_id AS __value" in sql
        assert var["sort"] == 0  # in the query's order, by code
        expanded, params = expand(sql, {"province": "19"}, TimeRange(DAY1, DAY1))
        columns, data = warehouse.query_columns(expanded, params)
        values, texts = data[columns.index("__value")], data[columns.index("__text")]
        shown = dict(zip(values, texts, strict=True))
        assert shown["19" if var["name"] == "province" else "D1"].startswith("Đơn vị ")
