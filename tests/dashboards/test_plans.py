"""Panels narrow what they read to the province's units before any aggregation.

Checked on the query plan (EXPLAIN indexes = 1): the test warehouse is too small for a
timing to tell, while a national year answered in seconds instead of milliseconds
when a view summed the whole nation before the province filter applied.
"""

from __future__ import annotations

import re

import pytest

from dashboards.catalog import by_uid
from dashboards.macros import expand
from dashboards.model import Panel
from tests.dashboards.test_panels import PERIOD
from tests.support.dashboard_scenario import VARS
from warehouse.client import Warehouse

_READ = re.compile(r"ReadFromMergeTree \(\w+\.(\w+)\)")
_FACTS = ("report_values", "reports", "signals", "levels", "daily_values", "daily_reports")
#: Panels whose reads are all scalar subqueries: run while planning, absent from the plan.
_SCALAR_ONLY = {"coverage"}


def fact_reads(wh: Warehouse, panel: Panel) -> list[tuple[str, str]]:
    """Return (table, primary key condition) for each read of a table keyed by unit."""
    sql, params = expand(panel.sql, VARS, PERIOD)
    plan = "\n".join(row[0] for row in wh.query_rows(f"EXPLAIN indexes = 1 {sql}", params))
    pieces = _READ.split(plan)  # text, table, its read's details, table, details, ...
    out = []
    for table, details in zip(pieces[1::2], pieces[2::2], strict=True):
        if table in _FACTS:
            # the primary key's condition (the partition's Min-Max one comes first)
            found = re.search(r"Condition: (.*)", details[details.find("PrimaryKey") :])
            out.append((table, found.group(1) if found else ""))
    return out


def panels(*uids: str) -> list[object]:
    found = [by_uid(uid) for uid in uids]
    return [
        pytest.param(panel, id=f"{dashboard.uid}/{panel.key}")
        for dashboard in found
        if dashboard is not None
        for panel in dashboard.panels
    ]


@pytest.mark.parametrize("panel", panels("baocao-situation", "baocao-compliance", "baocao-signals"))
def test_panels_read_only_the_province_units(warehouse: Warehouse, panel: Panel) -> None:
    reads = fact_reads(warehouse, panel)
    assert reads or panel.key in _SCALAR_ONLY, "the plan shows no read of reports or values"
    for table, condition in reads:
        assert "unit_id in" in condition, f"{table} read without a unit filter: {condition}"


def test_days_since_community_reads_the_last_two_weeks_when_they_have_a_case(
    warehouse: Warehouse,
) -> None:
    situation = by_uid("baocao-situation")
    assert situation is not None
    reads = fact_reads(warehouse, situation.panel("days_since_community"))
    assert reads
    for table, condition in reads:  # a lower bound on the day, not all history
        assert re.search(r"report_date in \[\d+, \+Inf\)", condition), (table, condition)


@pytest.mark.parametrize("table", ["reports_latest", "report_values_latest"])
def test_one_day_of_the_nation_reads_only_its_month(warehouse: Warehouse, table: str) -> None:
    # Sorted by unit first (a province's year is one range), partitioned by month, so a
    # day across every unit (Grafana's "missing today" rule) still skips the other months.
    plan = "\n".join(
        row[0]
        for row in warehouse.query_rows(
            f"EXPLAIN indexes = 1 SELECT count() FROM {table} WHERE report_date = {{d:Date}}",
            {"d": PERIOD.start},
        )
    )
    partition = plan[plan.find("Partition\n") :]
    condition = re.search(r"Condition: (.*)", partition)
    assert condition is not None, plan
    assert "toYYYYMM(report_date) in [202108, 202108]" in condition.group(1)


#: Panels that sum every metric of their dataset, or read report_values for its instants.
_ALL_METRICS = {"as_of", "by_checkpoint"}
#: Panels that read signals or levels, never report_values.
_NO_VALUES = {"level_now", "signals_now"}


def value_read_filters(wh: Warehouse, panel: Panel) -> list[str]:
    """Return the filter ClickHouse applies while reading report_values, per read."""
    sql, params = expand(panel.sql, VARS, PERIOD)
    plan = [row[0] for row in wh.query_rows(f"EXPLAIN actions = 1 {sql}", params)]
    out = []
    for i, line in enumerate(plan):
        if re.search(r"ReadFromMergeTree \(\w+\.report_values\)", line):
            found = next((p for p in plan[i + 1 :] if "Prewhere filter column:" in p), "")
            out.append(found.split("Prewhere filter column:", 1)[-1])
    return out


@pytest.mark.parametrize(
    "panel",
    [
        param
        for param in panels("baocao-situation", "baocao-checkpoints")
        if param.values[0].key not in _ALL_METRICS | _NO_VALUES  # type: ignore[attr-defined]
        and "daily_values" not in param.values[0].sql  # type: ignore[attr-defined]
    ],
)
def test_panels_read_only_the_metrics_they_show(warehouse: Warehouse, panel: Panel) -> None:
    # The latest-values view keeps a filter on metric down at the read: a year's panel of
    # 3 of 15 metrics took 0.64 s reading all 15, 0.28 s reading its 3.
    reads = value_read_filters(warehouse, panel)
    assert reads or panel.key in _SCALAR_ONLY, "the plan shows no read of report_values"
    for condition in reads:
        assert re.search(r"metric (=|IN) ", condition), condition


@pytest.mark.parametrize(
    "panel", panels("baocao-situation", "baocao-checkpoints", "baocao-compliance")
)
def test_rollup_reads_are_exact_before_merges(panel: Panel) -> None:
    # The daily rollups keep every revision of a unit-day until parts merge; FINAL keeps
    # the latest one at read time (a metric summed without it counts corrections twice,
    # a status or approval state may come from an older revision).
    for read in re.finditer(r"(daily_values|daily_reports)(?: AS \w+)?( FINAL)?", panel.sql):
        assert read.group(2), f"{panel.key} reads {read.group(1)} without FINAL"
