"""The simulator's plan for the end-to-end tests, and the warehouse read back against it."""

from __future__ import annotations

import time
from collections import Counter
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from baocao.status import gather
from contract.datasets import Catalog
from contract.events import ReportSubmitted
from contract.registry import Registry
from producers.simulator import Expected, Scenario, simulate
from tests.integration.stack import Stack
from warehouse.client import Warehouse

DAYS = [date(2021, 7, 20) + timedelta(days=n) for n in range(8)]


def planned_scenario() -> Scenario:
    """500+ reports over 8 days of the demo registry, with everything that goes wrong."""
    return simulate(Registry.load(), Catalog.load(), DAYS, ZoneInfo("Asia/Ho_Chi_Minh"), seed=11)


def wait_committed(stack: Stack, group: str, topic: str, at_least: int = 1) -> int:
    """Offsets `baocao status` reports as committed, once they reach ``at_least``."""
    committed = 0
    for _ in range(60):
        lags = {(t.group, t.topic): t for t in gather(stack.settings).lags}
        committed = lags[(group, topic)].committed if (group, topic) in lags else 0
        if committed >= at_least:
            break
        time.sleep(0.5)
    return committed


def is_valid(r: ReportSubmitted) -> bool:
    return r.values.get("tests_pcr_positive", 0) <= r.values.get("tests_pcr", 0)


def read_warehouse(stack: Stack) -> dict[str, Any]:
    """Stop the service (it flushes) and read the results straight from chDB."""
    assert stack.stop_process("warehouse") == 0, stack.log_tail("warehouse")
    wh = Warehouse.connect(stack.settings)
    wh.ensure_schema()  # idempotent; also makes unqualified names resolve to our database
    try:
        totals = Counter(
            {
                (ds, f"{m}.{o}" if o else m): int(v)
                for ds, m, o, v in wh.query_rows(
                    "SELECT dataset, metric, option, sum(value) FROM report_values_latest "
                    "GROUP BY dataset, metric, option"
                )
            }
        )
        latest = {
            f"{u}|{ds}|{d}": (int(rev), str(t))
            for ds, u, d, rev, t in wh.query_rows(
                "SELECT dataset, unit_id, report_date, revision, timeliness FROM reports_latest"
            )
        }
        (accepted_ids,) = wh.query_rows("SELECT uniqExact(report_id) FROM reports")[0:1]
        rejections = wh.query_rows("SELECT rejection_id, rule_ids, errors FROM rejections FINAL")
        dead = wh.query_rows(
            "SELECT source_topic, raw, error FROM dead_letters"
            " LIMIT 1 BY source_topic, source_partition, source_offset"
        )
    finally:
        wh.close()
    return {
        "totals": totals,
        "latest": latest,
        "accepted": int(accepted_ids[0]),
        "rejections": rejections,
        "dead_letters": dead,
    }


def assert_decisions_match(got: dict[str, Any], exp: Expected) -> None:
    """Every accepted report once, latest revisions, totals and timeliness as planned."""
    assert got["accepted"] == exp.accepted
    assert got["totals"] == exp.totals, "latest-revision totals differ from the plan"
    assert {k: r for k, (r, _) in got["latest"].items()} == exp.latest_revision
    assert {k: t for k, (_, t) in got["latest"].items()} == exp.timeliness
