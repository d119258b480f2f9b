"""The generated Grafana JSON and provisioning files are valid, current and consistent."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from dashboards import alerts, grafana
from dashboards.catalog import DASHBOARDS
from dashboards.macros import TimeRange, expand
from dashboards.model import DATASOURCE_TYPE, DATASOURCE_UID
from tests.support.dashboard_scenario import DAY3
from warehouse.client import Warehouse

ROOT = Path(grafana.__file__).parent
PROVISIONING = ROOT / "provisioning"
BUILTIN = {"__from", "__to", "__interval"}


def committed() -> list[dict[str, Any]]:
    return [json.loads((ROOT / f"{d.uid}.json").read_text("utf-8")) for d in DASHBOARDS]


def test_committed_json_is_current() -> None:
    stale = grafana.write_all(check=True)
    assert not stale, f"stale: {stale}; run `baocao dashboards generate`"
    assert alerts.RULES_PATH.read_text("utf-8") == alerts.render()


def test_a_changed_definition_is_detected_as_stale(tmp_path: Path) -> None:
    grafana.write_all(tmp_path)
    path = tmp_path / f"{DASHBOARDS[0].uid}.json"
    path.write_text(path.read_text("utf-8").replace("cases_new", "cases_old"), "utf-8")
    assert grafana.write_all(tmp_path, check=True) == [path]


@pytest.mark.parametrize("board", committed(), ids=lambda b: b["uid"])
def test_dashboard_structure(board: dict[str, Any]) -> None:
    assert board["schemaVersion"] >= 36 and board["uid"].startswith("baocao-")
    defined = {v["name"] for v in board["templating"]["list"]}
    ids = [p["id"] for p in board["panels"]]
    assert len(ids) == len(set(ids))
    titles = [p["title"] for p in board["panels"]]
    assert any(t.startswith("Dữ liệu tính đến") for t in titles), "a 'data as of' stat"
    for panel in board["panels"]:
        assert panel["datasource"] == {"type": DATASOURCE_TYPE, "uid": DATASOURCE_UID}
        g = panel["gridPos"]
        assert g["x"] >= 0 and g["x"] + g["w"] <= 24
        for t in panel["targets"]:
            assert t["refId"] and t["rawSql"].strip().upper().startswith(("SELECT", "WITH"))
            assert t["datasource"]["uid"] == DATASOURCE_UID and t["editorType"] == "sql"
            assert (t["format"], t["queryType"]) in ((0, "timeseries"), (1, "table"))
            used = set(re.findall(r"\$\{(\w+)\}", t["rawSql"]))
            assert used <= defined | BUILTIN, f"{panel['title']}: undefined {used - defined}"
    for var in board["templating"]["list"]:
        used = set(re.findall(r"\$\{(\w+)\}", var["definition"]))
        earlier = {
            v["name"] for v in board["templating"]["list"][: board["templating"]["list"].index(var)]
        }
        assert used <= earlier, f"variable {var['name']} depends on a later one"


def test_provisioning_points_at_the_same_datasource() -> None:
    ds = yaml.safe_load((PROVISIONING / "datasources" / "clickhouse.yaml").read_text("utf-8"))
    (source,) = ds["datasources"]
    assert source["uid"] == DATASOURCE_UID and source["type"] == DATASOURCE_TYPE
    assert source["jsonData"]["username"] == "grafana_ro"  # read-only warehouse user
    readonly = (PROVISIONING / "clickhouse" / "grafana-readonly.xml").read_text("utf-8")
    assert "<readonly>2</readonly>" in readonly and "<grafana_ro>" in readonly
    provider = yaml.safe_load((PROVISIONING / "dashboards" / "baocao.yaml").read_text("utf-8"))
    assert provider["providers"][0]["type"] == "file"
    rules = yaml.safe_load(alerts.RULES_PATH.read_text("utf-8"))["groups"][0]["rules"]
    assert {r["uid"] for r in rules} == {"baocao-missing-reports", "baocao-low-reporting-rate"}
    for rule in rules:
        assert rule["data"][0]["datasourceUid"] == DATASOURCE_UID


def test_alert_queries_count_units_missing_after_the_deadline(warehouse: Warehouse) -> None:
    # Day 3 after 15:00: D1, CP-1, CP-2 (province 19) and E1 (province 20) sent nothing; D2 did.
    day3 = TimeRange(DAY3, DAY3)
    sql, params = expand(alerts.MISSING_SQL, {}, day3)
    assert warehouse.query_rows(sql, params) == [(4,)]
    sql, params = expand(alerts.RATE_SQL, {}, day3)
    assert warehouse.query_rows(sql, params) == [(20.0,)]
