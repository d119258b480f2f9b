"""A reviewer's listing and the latest decisions, read back from chDB as the sink writes them."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest

from contract.events import SourceRef
from contract.settings import Settings
from sinks.rows import REPORTS_COLUMNS, report_row
from tests.sinks.test_sink_rows import accepted
from warehouse import approvals
from warehouse.approval_tables import APPROVALS
from warehouse.client import Warehouse

DAY = date(2021, 8, 1)
AT = datetime(2021, 8, 1, 9, 0, tzinfo=UTC)
REF = SourceRef(topic="reports.accepted", partition=0, offset=0)


@pytest.fixture
def wh(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Warehouse]:
    path = tmp_path_factory.mktemp("approvals-warehouse")
    settings = Settings(_env_file=None, chdb_path=path, database="reviews")  # type: ignore[call-arg]
    with Warehouse.connect(settings) as opened:
        opened.ensure_schema()
        yield opened


def revision(
    wh: Warehouse, unit: str, rev: int, values: dict[str, int], day: date = DAY, **more: object
) -> None:
    event = accepted(
        values,
        report_id=uuid.uuid4(),
        unit_id=unit,
        report_date=day,
        revision=rev,
        submitted_at=AT + timedelta(minutes=rev),
        submitted_by=f"user r{rev}",
        **more,
    )
    wh.insert("reports", [report_row(event, REF)], REPORTS_COLUMNS)


def decision(
    wh: Warehouse,
    action: str,
    unit: str,
    rev: int,
    values: dict[str, int],
    minutes: int,
    day: date = DAY,
    reason: str = "",
) -> None:
    approval_id = f"{action}:district-daily:{unit}:{day.isoformat()}:r{rev}"
    row = (
        approval_id,
        action,
        "district-daily",
        unit,
        day,
        rev,
        json.dumps(values),
        "Trưởng trạm",
        "19",
        reason,
        AT + timedelta(minutes=minutes),
    )
    wh.insert("approvals", [row], APPROVALS.column_names)


def test_the_listing_sets_the_review_beside_the_latest_revision(wh: Warehouse) -> None:
    revision(wh, "173", 1, {"cases_new": 3, "tests_pcr": 10})
    decision(wh, "approve", "173", 1, {"cases_new": 3, "tests_pcr": 10}, minutes=30)
    revision(wh, "173", 2, {"cases_new": 4, "tests_pcr": 10, "deaths": 0}, timeliness="late")
    revision(wh, "164", 1, {"cases_new": 1})
    revision(wh, "165", 1, {"cases_new": 1}, day=DAY - timedelta(days=1))  # another day

    found = approvals.listing(wh, "district-daily", DAY, ["173", "164", "165"])
    rows = {r.unit_id: r for r in found}
    assert sorted(rows) == ["164", "173"]  # 165 did not report that day: absent
    corrected = rows["173"]
    assert (corrected.state, corrected.revision, corrected.approved_revision) == ("reopened", 2, 1)
    assert corrected.changed_values == 2  # cases_new changed, deaths added
    assert corrected.values == {"cases_new": 4, "tests_pcr": 10, "deaths": 0}
    assert corrected.submitted_by == "user r2" and corrected.timeliness == "late"
    assert corrected.submitted_at == AT + timedelta(minutes=2)
    assert corrected.by_name == "Trưởng trạm" and corrected.decided_at == AT + timedelta(minutes=30)
    fresh = rows["164"]
    assert (fresh.state, fresh.revision, fresh.approval_id, fresh.decided_at) == (
        "submitted",
        1,
        "",
        None,
    )
    assert approvals.listing(wh, "district-daily", DAY, []) == []
    assert approvals.listing(wh, "checkpoint-daily", DAY, ["173"]) == []


def test_a_redelivered_decision_counts_once_and_the_newest_wins(wh: Warehouse) -> None:
    revision(wh, "173", 1, {"cases_new": 3})
    for _ in range(2):  # delivered twice
        decision(wh, "approve", "173", 1, {"cases_new": 3}, minutes=10)
    decision(wh, "return", "173", 1, {"cases_new": 3}, minutes=20, reason="thiếu số PCR")
    (row,) = approvals.listing(wh, "district-daily", DAY, ["173"])
    assert (row.state, row.action, row.reason, row.approved_revision) == (
        "returned",
        "return",
        "thiếu số PCR",
        0,
    )
    decision(wh, "accept", "173", 1, {"cases_new": 3}, minutes=30)
    (row,) = approvals.listing(wh, "district-daily", DAY, ["173"])
    assert (row.state, row.approval_id) == ("accepted", "accept:district-daily:173:2021-08-01:r1")


def test_the_latest_decision_of_each_unit_day_since_a_day(wh: Warehouse) -> None:
    decision(wh, "approve", "173", 1, {"cases_new": 3}, minutes=10)
    decision(wh, "accept", "173", 1, {"cases_new": 3}, minutes=20)
    decision(wh, "accept", "173", 1, {"cases_new": 3}, minutes=20)  # redelivered
    decision(wh, "approve", "164", 1, {}, minutes=5)
    old = DAY - timedelta(days=10)
    decision(wh, "accept", "165", 1, {}, minutes=5, day=old)

    found = approvals.latest_decisions(wh, DAY - timedelta(days=8))
    assert [(d.unit_id, d.action, d.report_date) for d in found] == [
        ("164", "approve", DAY),
        ("173", "accept", DAY),
    ]
    assert found[1].decided_at == AT + timedelta(minutes=20) and found[1].by_unit == "19"
    assert {d.unit_id for d in approvals.latest_decisions(wh, old)} == {"164", "165", "173"}
