"""Approval on the compliance dashboard: each reported unit-day's state, the share
approved per district and day, and the last day's decisions, on chDB with decisions
written as the sink writes them.

The decisions are about the known scenario's reports (tests/support/dashboard_scenario):
D1's day 1 was accepted at revision 1 and then corrected (revision 2: three values
changed), D1's day 2 was returned, D2's day 1 accepted, D2's day 2 approved (delivered
twice), D2's day 3 not yet reviewed, D1's day 3 never reported; the checkpoints and
another province's district have decisions of their own.
"""

from __future__ import annotations

import json
import re
import urllib.request
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any

import pytest

from contract.events import ApprovalRecorded
from dashboards import grafana
from dashboards.catalog import by_uid
from dashboards.compliance import COMPLIANCE
from dashboards.labels import APPROVAL_STATES
from dashboards.macros import TimeRange
from dashboards.query import run_panel
from sinks import rows
from tests.support import dashboard_scenario as scenario
from tests.support.dashboard_scenario import DAY1, DAY2, DAY3, ICT, VARS
from warehouse.client import Warehouse

PERIOD = TimeRange(DAY1, DAY3)
RETURN_REASON = "Số ca tăng bất thường, đề nghị kiểm tra lại / unusual rise, please check"


def _decision(
    filled: scenario.Filled,
    action: str,
    unit: str,
    day: date,
    by_unit: str,
    *,
    revision: int = 1,
    dataset: str = "district-daily",
    reason: str = "",
    hour: int = 16,
) -> ApprovalRecorded:
    """A decision on the revision the reviewer saw, carrying that revision's values."""
    (seen,) = [
        e
        for e in filled.accepted
        if (e.unit_id, e.report_date, e.revision, e.dataset) == (unit, day, revision, dataset)
    ]
    return ApprovalRecorded.model_validate(
        {
            "approval_id": ApprovalRecorded.id_of(action, dataset, unit, day, revision),
            "action": action,
            "dataset": dataset,
            "unit_id": unit,
            "report_date": day,
            "revision": revision,
            "values": seen.values,
            "by_name": f"cán bộ duyệt {by_unit}",
            "by_unit": by_unit,
            "reason": reason,
            "decided_at": datetime.combine(day, datetime.min.time(), ICT) + timedelta(hours=hour),
        }
    )


@pytest.fixture(scope="module")
def decided(warehouse: Warehouse, filled: scenario.Filled) -> Iterator[Warehouse]:
    """The decisions in the package's warehouse, removed again after this module."""
    cp = "checkpoint-daily"
    events = [
        _decision(filled, "accept", "D1", DAY1, "19"),  # then corrected: revision 2
        _decision(filled, "return", "D1", DAY2, "19", reason=RETURN_REASON),
        _decision(filled, "accept", "D2", DAY1, "19"),
        _decision(filled, "approve", "D2", DAY2, "19"),
        _decision(filled, "approve", "E1", DAY1, "20"),
        _decision(filled, "approve", "CP-1", DAY1, "D1", dataset=cp),
        _decision(filled, "return", "CP-2", DAY1, "D2", dataset=cp, reason="Thiếu số xe"),
    ]
    table = [rows.approval_row(e) for e in events]
    warehouse.insert("approvals", table, rows.APPROVALS_COLUMNS)
    warehouse.insert("approvals", table[3:4], rows.APPROVALS_COLUMNS)  # a redelivery
    try:
        yield warehouse
    finally:
        warehouse.command("TRUNCATE TABLE approvals")


def run(wh: Warehouse, key: str, period: TimeRange = PERIOD, **over: str) -> list[dict[str, Any]]:
    got = run_panel(wh, COMPLIANCE.panel(key), {**VARS, **over}, period)
    return [dict(zip(got["columns"], row, strict=True)) for row in got["rows"]]


MARK = {state: mark for state, (mark, _, _) in APPROVAL_STATES.items()}


def test_without_decisions_every_reported_day_awaits_approval(warehouse: Warehouse) -> None:
    """Approval never holds data back: before anyone decides, each report is shown."""
    # first in the module: before ``decided`` writes the decisions
    assert warehouse.query_rows("SELECT count() FROM approvals") == [(0,)]
    grid = run(warehouse, "approval_grid")
    assert sorted(r["status"] or "" for r in grid) == ["", *[MARK["submitted"]] * 5]


def test_the_grid_marks_each_reported_unit_day_with_its_approval_state(
    decided: Warehouse,
) -> None:
    grid = {(r["unit"], r["day"]): r["status"] for r in run(decided, "approval_grid")}
    assert grid == {
        ("Đơn vị D1", "2021-08-01"): MARK["reopened"],  # corrected after its acceptance
        ("Đơn vị D1", "2021-08-02"): MARK["returned"],
        ("Đơn vị D1", "2021-08-03"): None,  # not reported: no state
        ("Đơn vị D2", "2021-08-01"): MARK["accepted"],
        ("Đơn vị D2", "2021-08-02"): MARK["approved"],
        ("Đơn vị D2", "2021-08-03"): MARK["submitted"],
    }


def test_the_grid_keeps_to_the_filters(decided: Warehouse) -> None:
    d2 = run(decided, "approval_grid", TimeRange(DAY2, DAY3), district="D2")
    assert [(r["unit"], r["day"], r["status"]) for r in d2] == [
        ("Đơn vị D2", "2021-08-02", MARK["approved"]),
        ("Đơn vị D2", "2021-08-03", MARK["submitted"]),
    ]
    other = run(decided, "approval_grid", TimeRange(DAY1, DAY1), province="20")
    assert [(r["unit"], r["status"]) for r in other] == [("Đơn vị E1", MARK["approved"])]
    checkpoints = run(decided, "approval_grid", TimeRange(DAY1, DAY1), dataset="checkpoint-daily")
    assert {r["unit"]: r["status"] for r in checkpoints} == {
        "Đơn vị CP-1": MARK["approved"],
        "Đơn vị CP-2": MARK["returned"],
    }


def test_the_share_approved_counts_approved_and_accepted_of_the_reported(
    decided: Warehouse,
) -> None:
    share = [tuple(r.values()) for r in run(decided, "approved_share")]
    # district, day, reported, approved, approved %, returned, reopened; the newest first
    assert share == [
        ("Đơn vị D2", "2021-08-03", 1, 0, 0.0, 0, 0),
        ("Đơn vị D1", "2021-08-02", 1, 0, 0.0, 1, 0),
        ("Đơn vị D2", "2021-08-02", 1, 1, 100.0, 0, 0),  # the redelivered approval once
        ("Đơn vị D1", "2021-08-01", 1, 0, 0.0, 0, 1),
        ("Đơn vị D2", "2021-08-01", 1, 1, 100.0, 0, 0),
    ]
    only_d1 = run(decided, "approved_share", TimeRange(DAY2, DAY3), district="D1")
    assert [(r["district"], r["report_date"], r["returned"]) for r in only_d1] == [
        ("Đơn vị D1", "2021-08-02", 1)
    ]


def test_a_district_share_counts_the_units_below_it(decided: Warehouse) -> None:
    share = run(decided, "approved_share", dataset="checkpoint-daily")
    assert [(r["district"], r["report_date"], r["reported"], r["approved"]) for r in share] == [
        ("Đơn vị D1", "2021-08-02", 1, 0),  # CP-1's second day: not reviewed yet
        ("Đơn vị D1", "2021-08-01", 1, 1),
        ("Đơn vị D2", "2021-08-01", 1, 0),  # CP-2's: returned
    ]


def test_the_last_day_shows_who_decided_what_changed_and_why(decided: Warehouse) -> None:
    first = run(decided, "approval_last_day", TimeRange(DAY1, DAY1))
    assert first == [
        {
            "unit_id": "D1",
            "name": "Đơn vị D1",
            "state": "reopened",
            "revision": 2,
            "approved_revision": 1,
            "changed_values": 3,  # cases_new, cases_quarantined, tests_pcr_positive
            "by_name": "cán bộ duyệt 19",
            "decided_at": "2021-08-01 16:00",  # local time
            "reason": "",
        },
        {
            "unit_id": "D2",
            "name": "Đơn vị D2",
            "state": "accepted",
            "revision": 1,
            "approved_revision": 1,
            "changed_values": 0,
            "by_name": "cán bộ duyệt 19",
            "decided_at": "2021-08-01 16:00",
            "reason": "",
        },
    ]
    second = run(decided, "approval_last_day", TimeRange(DAY1, DAY2), district="D1")
    assert [(r["state"], r["reason"]) for r in second] == [("returned", RETURN_REASON)]
    last = run(decided, "approval_last_day")
    assert [(r["unit_id"], r["state"], r["by_name"], r["decided_at"]) for r in last] == [
        ("D2", "submitted", "", "")
    ]


def test_the_viewer_names_every_approval_mark_under_the_grid(viewer_url: str) -> None:
    url = f"{viewer_url}/dashboards/baocao-compliance?province=19&from=2021-08-01&to=2021-08-03"
    with urllib.request.urlopen(url, timeout=30) as resp:
        page = resp.read().decode()
    grid = re.search(r"data-panel='approval_grid'.*?</section>", page, re.S)
    assert grid
    marks = re.findall(r"<span class='mark band' style='background:[^']+'>([^<]+)</span>", grid[0])
    assert marks == ["○", "✓", "✓✓", "↩", "↻", "–"]
    for name in ("Chờ duyệt", "Đã duyệt", "Bị trả lại", "Chưa báo cáo", "Approved", "Returned"):
        assert name in grid[0]


def test_grafana_names_each_approval_state_and_the_legend_line() -> None:
    board = json.loads((grafana.OUT_DIR / "baocao-compliance.json").read_text("utf-8"))
    panel = next(p for p in board["panels"] if p["title"].startswith("Đã duyệt theo đơn vị"))
    (override,) = panel["fieldConfig"]["overrides"]
    assert override["matcher"] == {"id": "byName", "options": "status"}
    values, null = override["properties"][0]["value"]
    assert {mark: m["text"] for mark, m in values["options"].items()} == {
        "○": "Chờ duyệt / Awaiting approval",
        "✓": "Đã duyệt / Approved",
        "✓✓": "Tỉnh đã chấp nhận / Accepted by the province",
        "↩": "Bị trả lại / Returned",
        "↻": "Mở lại (sửa sau khi duyệt) / Reopened (corrected after approval)",
    }
    assert null["options"]["result"]["text"] == "Chưa báo cáo / Not reported"
    assert panel["description"].startswith("○ Chờ duyệt · ✓ Đã duyệt · ✓✓ Tỉnh đã chấp nhận")
    assert panel["description"].endswith("↻ Reopened (corrected after approval) · – Not reported")
    compliance = by_uid("baocao-compliance")
    assert compliance is not None
    share = next(p for p in board["panels"] if p["title"].startswith("Tỷ lệ đã duyệt"))
    assert "${district}" in share["targets"][0]["rawSql"]  # the filters reach Grafana too
